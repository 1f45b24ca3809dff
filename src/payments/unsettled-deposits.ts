// Deposits Danal reported that could not be credited (unsettled_deposits):
// listed for operators, counted by the audit, and settled by an operator in
// one transaction: credited to their order when it can still take them, or
// recorded as returned to the buyer. The table refuses deletes and lets an
// Open row change once (a trigger in the migration).
import type pg from 'pg';

/** Anything that runs SQL: the service's pool, or an operator script's client. */
type Queryable = Pick<pg.Pool, 'query'>;

export interface HeldDeposit {
  id: string;
  orderId: string;
  userId: string;
  transactionId: string;
  amount: number;
  reason: string;
  status: 'Open' | 'Credited' | 'Returned';
  createdAt: Date;
  orderStatus: string;
  orderAmount: number;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

const SELECT_HELD = `
  SELECT d.id::text, d.order_id AS "orderId", o.user_id AS "userId", d.transaction_id AS "transactionId", d.amount::float8 AS amount,
         d.reason, d.status, d.created_at AS "createdAt", o.status::text AS "orderStatus", o.amount AS "orderAmount",
         d.resolved_at AS "resolvedAt", d.resolved_by AS "resolvedBy", d.resolution_note AS "resolutionNote"
  FROM unsettled_deposits d JOIN payment_orders o ON o.id = d.order_id`;

/** Held deposits, oldest first: the Open ones (waiting for an operator) unless another status is asked for. */
export async function heldDeposits(db: Queryable, status: HeldDeposit['status'] = 'Open'): Promise<HeldDeposit[]> {
  const { rows } = await db.query<HeldDeposit>(`${SELECT_HELD} WHERE d.status = $1 ORDER BY d.id LIMIT 500`, [status]);
  return rows;
}

export type DepositResolution = 'credit' | 'returned';
export type SettleRefusal = 'not_found' | 'not_open' | 'cannot_credit';
export type SettleResult = { settled: true; deposit: HeldDeposit } | { settled: false; refusal: SettleRefusal; why: string };

/** Orders that can still take their deposit: waiting for it, or closed by our clock only. */
const CREDITABLE = ['WaitingForDeposit', 'Expired'];

/**
 * An operator's decision on an Open deposit, all or nothing. `credit`: the
 * order becomes Paid and its points are credited, as the notification would
 * have done (only for the order's own amount and an order that can take it).
 * `returned`: the money went back to the buyer outside this service (Danal's
 * console, a bank transfer); nothing is credited.
 */
export async function settleHeldDeposit(client: pg.ClientBase, id: string, resolution: DepositResolution, by: string, note: string | null): Promise<SettleResult> {
  await client.query('BEGIN');
  try {
    const result = await settleInTransaction(client, id, resolution, by, note);
    await client.query(result.settled ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function settleInTransaction(client: pg.ClientBase, id: string, resolution: DepositResolution, by: string, note: string | null): Promise<SettleResult> {
  const { rows } = await client.query<HeldDeposit & { pointAmount: number; hasAccount: boolean }>(
    `${SELECT_HELD.replace('o.amount AS "orderAmount"', 'o.amount AS "orderAmount", o.point_amount AS "pointAmount", o.vaccount_number IS NOT NULL AS "hasAccount"')}
     WHERE d.id = $1 FOR UPDATE OF d, o`,
    [id],
  );
  const held = rows[0];
  if (!held) return { settled: false, refusal: 'not_found', why: `no held deposit ${id}` };
  if (held.status !== 'Open') return { settled: false, refusal: 'not_open', why: `deposit ${id} was settled already (${held.status})` };
  if (resolution === 'credit') {
    if (held.amount !== held.orderAmount) {
      return { settled: false, refusal: 'cannot_credit', why: `deposit ${id} is ${held.amount} KRW, order ${held.orderId} is ${held.orderAmount} KRW: return it instead` };
    }
    if (!CREDITABLE.includes(held.orderStatus) || !held.hasAccount) {
      return { settled: false, refusal: 'cannot_credit', why: `order ${held.orderId} is ${held.orderStatus} and cannot take a deposit: return it instead` };
    }
    const paid = await client.query(
      `UPDATE payment_orders SET status = 'Paid', approved_at = now(), updated_at = now() WHERE id = $1 AND status = $2::order_status`,
      [held.orderId, held.orderStatus],
    );
    const charged = await client.query(
      `WITH credited AS (UPDATE wallets SET balance = balance + $3, updated_at = now() WHERE user_id = $1::uuid RETURNING balance)
       INSERT INTO ledger_entries (user_id, order_id, type, amount, balance_after) SELECT $1::uuid, $2, 'CHARGE', $3, balance FROM credited`,
      [held.userId, held.orderId, held.pointAmount],
    );
    if (paid.rowCount !== 1 || charged.rowCount !== 1) throw new Error(`order ${held.orderId} or its wallet changed while its deposit was credited`);
  }
  const status = resolution === 'credit' ? 'Credited' : 'Returned';
  await client.query(
    `UPDATE unsettled_deposits SET status = $2, resolved_at = now(), resolved_by = $3, resolution_note = $4 WHERE id = $1 AND status = 'Open'`,
    [id, status, by, note],
  );
  await client.query(`INSERT INTO order_events (order_id, type, detail) VALUES ($1, $2, $3)`, [
    held.orderId,
    resolution === 'credit' ? 'deposit.operator_credited' : 'deposit.operator_returned',
    JSON.stringify({ depositId: id, amount: held.amount, by, note }),
  ]);
  return { settled: true, deposit: { ...held, status, resolvedBy: by, resolutionNote: note } };
}
