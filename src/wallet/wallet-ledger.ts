// Every balance change: one conditional UPDATE of the wallet and one ledger
// row, always inside the caller's transaction. The database refuses a second
// CHARGE or CANCEL for an order (unique index) and a negative balance (CHECK).
import type { Db, Tx } from '../db/prisma.js';
import { conflict } from '../lib/errors.js';

export interface LedgerView {
  id: string;
  type: string;
  amount: number;
  balanceAfter: number;
  orderID: string | null;
  createdAt: Date;
}

async function append(tx: Tx, userId: string, orderId: string | null, type: 'CHARGE' | 'CANCEL' | 'SPEND', amount: number, balanceAfter: bigint) {
  await tx.ledgerEntry.create({ data: { userId, orderId, type, amount, balanceAfter } });
  return Number(balanceAfter);
}

/** Adds an order's points. Returns the new balance. */
export async function creditCharge(tx: Tx, userId: string, orderId: string, points: number): Promise<number> {
  const wallet = await tx.wallet.update({ where: { userId }, data: { balance: { increment: points } } });
  return append(tx, userId, orderId, 'CHARGE', points, wallet.balance);
}

/**
 * Reserves points for a cancel that is about to be sent to Danal, so they
 * cannot be spent while we wait. False when fewer points are available.
 */
export async function holdPoints(tx: Tx, userId: string, points: number): Promise<boolean> {
  const held = await tx.$executeRaw`
    UPDATE wallets SET held_points = held_points + ${points}, updated_at = now()
    WHERE user_id = ${userId}::uuid AND balance - held_points >= ${points}`;
  return held === 1;
}

/** Danal refused the cancel, or it was never sent: the reserved points are free again. */
export async function releaseHold(tx: Tx, userId: string, points: number): Promise<void> {
  const released = await tx.$executeRaw`
    UPDATE wallets SET held_points = held_points - ${points}, updated_at = now()
    WHERE user_id = ${userId}::uuid AND held_points >= ${points}`;
  if (released !== 1) throw new Error(`wallet of ${userId} holds fewer than ${points} points`);
}

/** Danal refunded: the reserved points leave the wallet. Returns the new balance. */
export async function debitHeldForCancel(tx: Tx, userId: string, orderId: string, points: number): Promise<number> {
  const rows = await tx.$queryRaw<{ balance: bigint }[]>`
    UPDATE wallets SET balance = balance - ${points}, held_points = held_points - ${points}, updated_at = now()
    WHERE user_id = ${userId}::uuid AND held_points >= ${points}
    RETURNING balance`;
  if (rows.length !== 1) throw new Error(`wallet of ${userId} holds fewer than ${points} points`);
  return append(tx, userId, orderId, 'CANCEL', -points, rows[0]!.balance);
}

/**
 * Points used inside DPOT. The points-spending side of DPOT calls this; the
 * payment API does not expose it.
 */
export async function spendPoints(db: Db, userId: string, points: number): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ balance: bigint }[]>`
      UPDATE wallets SET balance = balance - ${points}, updated_at = now()
      WHERE user_id = ${userId}::uuid AND balance - held_points >= ${points}
      RETURNING balance`;
    if (rows.length !== 1) throw conflict('INSUFFICIENT_POINTS', `Fewer than ${points} points are available`);
    return append(tx, userId, null, 'SPEND', -points, rows[0]!.balance);
  });
}

export async function readWallet(db: Db | Tx, userId: string, entries = 20) {
  const [wallet, rows] = await Promise.all([
    db.wallet.findUniqueOrThrow({ where: { userId } }),
    db.ledgerEntry.findMany({ where: { userId }, orderBy: { id: 'desc' }, take: entries }),
  ]);
  return {
    balance: Number(wallet.balance),
    heldPoints: Number(wallet.heldPoints),
    availableBalance: Number(wallet.balance - wallet.heldPoints),
    entries: rows.map(
      (r): LedgerView => ({
        id: r.id.toString(),
        type: r.type,
        amount: r.amount,
        balanceAfter: Number(r.balanceAfter),
        orderID: r.orderId,
        createdAt: r.createdAt,
      }),
    ),
  };
}

export async function balanceOf(db: Db | Tx, userId: string): Promise<number> {
  const wallet = await db.wallet.findUniqueOrThrow({ where: { userId }, select: { balance: true } });
  return Number(wallet.balance);
}
