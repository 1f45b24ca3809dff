// Every balance change: one conditional UPDATE of the wallet and one ledger
// row, always inside the caller's transaction. The database refuses a second
// CHARGE for an order or a second CANCEL row for one of its cancels (unique
// index), and a negative balance (CHECK).
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

async function append(tx: Tx, userId: string, orderId: string | null, type: 'CHARGE' | 'CANCEL' | 'SPEND', amount: number, balanceAfter: bigint, cancelSeq = 0) {
  await tx.ledgerEntry.create({ data: { userId, orderId, type, amount, balanceAfter, cancelSeq } });
  return Number(balanceAfter);
}

/** Adds an order's points. Returns the new balance. */
export async function creditCharge(tx: Tx, userId: string, orderId: string, points: number): Promise<number> {
  const wallet = await tx.wallet.update({ where: { userId }, data: { balance: { increment: points } } });
  return append(tx, userId, orderId, 'CHARGE', points, wallet.balance);
}

/**
 * A confirmed charge in one statement, so one round trip and one commit: the
 * order moves Confirming → Paid, the wallet gains the order's points and the
 * CHARGE row is written, all or nothing. Returns the new balance, or null when
 * the order was no longer Confirming (nothing changed).
 */
// paid LEFT JOIN credited: an order paid without a wallet to credit gets a NULL
// balance_after, which NOT NULL refuses, so the whole statement (the Paid status
// too) is undone. The order is found by its primary key alone, as in claimForConfirm
// (order-repository.ts). (No SQL comments inside: the benchmark replays this text on one line.)
export async function payOrderAndCredit(db: Db, orderId: string, approvedAt: Date): Promise<number | null> {
  const { rows } = await db.pool.query<{ balance_after: string }>(
    `WITH paid AS (
       UPDATE payment_orders SET status = 'Paid', approved_at = $2, updated_at = now()
       WHERE id = $1 AND status::text = 'Confirming'
       RETURNING id, user_id, point_amount
     ), credited AS (
       UPDATE wallets w SET balance = w.balance + paid.point_amount, updated_at = now()
       FROM paid WHERE w.user_id = paid.user_id
       RETURNING w.user_id, w.balance, paid.id AS order_id, paid.point_amount
     )
     INSERT INTO ledger_entries (user_id, order_id, type, amount, balance_after)
     SELECT paid.user_id, paid.id, 'CHARGE'::ledger_entry_type, paid.point_amount, credited.balance
     FROM paid LEFT JOIN credited ON credited.order_id = paid.id
     RETURNING balance_after`,
    [orderId, approvedAt],
  );
  return rows.length === 1 ? Number(rows[0]!.balance_after) : null;
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

/** Danal refunded the order's cancel number `cancelSeq`: its reserved points leave the wallet. Returns the new balance. */
export async function debitHeldForCancel(tx: Tx, userId: string, orderId: string, cancelSeq: number, points: number): Promise<number> {
  const rows = await tx.$queryRaw<{ balance: bigint }[]>`
    UPDATE wallets SET balance = balance - ${points}, held_points = held_points - ${points}, updated_at = now()
    WHERE user_id = ${userId}::uuid AND held_points >= ${points}
    RETURNING balance`;
  if (rows.length !== 1) throw new Error(`wallet of ${userId} holds fewer than ${points} points`);
  return append(tx, userId, orderId, 'CANCEL', -points, rows[0]!.balance, cancelSeq);
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

export async function readWallet(db: Db, userId: string, entries = 20) {
  const [wallet, rows] = await Promise.all([
    db.pool.query<{ balance: string; held: string }>('SELECT balance, held_points AS held FROM wallets WHERE user_id = $1::uuid', [userId]),
    db.pool.query<{ id: string; type: string; amount: number; balance_after: string; order_id: string | null; created_at: Date }>(
      'SELECT id, type, amount, balance_after, order_id, created_at FROM ledger_entries WHERE user_id = $1::uuid ORDER BY id DESC LIMIT $2',
      [userId, entries],
    ),
  ]);
  const { balance, held } = wallet.rows[0] ?? { balance: '0', held: '0' };
  return {
    balance: Number(balance),
    heldPoints: Number(held),
    availableBalance: Number(balance) - Number(held),
    entries: rows.rows.map(
      (r): LedgerView => ({
        id: r.id,
        type: r.type,
        amount: r.amount,
        balanceAfter: Number(r.balance_after),
        orderID: r.order_id,
        createdAt: r.created_at,
      }),
    ),
  };
}

/** The wallet's ledger rows, newest first, by keyset: ids below `beforeId`. */
export async function listLedger(db: Db, userId: string, limit: number, beforeId?: string): Promise<LedgerView[]> {
  const { rows } = await db.pool.query<{ id: string; type: string; amount: number; balance_after: string; order_id: string | null; created_at: Date }>(
    `SELECT id, type, amount, balance_after, order_id, created_at FROM ledger_entries
     WHERE user_id = $1::uuid AND ($2::bigint IS NULL OR id < $2::bigint)
     ORDER BY id DESC LIMIT $3`,
    [userId, beforeId ?? null, limit],
  );
  return rows.map((r) => ({ id: r.id, type: r.type, amount: r.amount, balanceAfter: Number(r.balance_after), orderID: r.order_id, createdAt: r.created_at }));
}

export async function balanceOf(db: Db, userId: string): Promise<number> {
  const { rows } = await db.pool.query<{ balance: string }>('SELECT balance FROM wallets WHERE user_id = $1::uuid', [userId]);
  return Number(rows[0]?.balance ?? 0);
}
