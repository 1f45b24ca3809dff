// The reconciler's statements. Each is one conditional statement, safe when
// several processes sweep at once: rows are taken with FOR UPDATE SKIP LOCKED,
// and every status change re-checks the status it expects.
import type { Db } from '../db/prisma.js';
import { ORDER_FIELDS, type Order } from './order-repository.js';

const BATCH = 500;

/**
 * Pending orders past their expiry and virtual accounts past their deposit
 * deadline become Expired, each with an `order.expired` event. Returns the ids.
 */
export async function expireDue(db: Db, now: Date): Promise<{ pending: string[]; accounts: string[] }> {
  const { rows } = await db.pool.query<{ id: string; was: string }>(
    `WITH due AS (
       SELECT id, status FROM payment_orders
       WHERE (status = 'Pending' AND expires_at <= $1) OR (status = 'WaitingForDeposit' AND vaccount_due_at <= $1)
       LIMIT ${BATCH} FOR UPDATE SKIP LOCKED
     ), expired AS (
       UPDATE payment_orders o SET status = 'Expired', updated_at = now()
       FROM due WHERE o.id = due.id AND o.status = due.status
       RETURNING o.id, due.status::text AS was
     ), events AS (
       INSERT INTO order_events (order_id, type, detail)
       SELECT id, 'order.expired', jsonb_build_object('was', was) FROM expired
     )
     SELECT id, was FROM expired`,
    [now],
  );
  return {
    pending: rows.filter((r) => r.was === 'Pending').map((r) => r.id),
    accounts: rows.filter((r) => r.was === 'WaitingForDeposit').map((r) => r.id),
  };
}

/**
 * Confirming or Canceling orders untouched for longer than any request can
 * wait for Danal: the process that held them is gone (crashed, killed). What
 * Danal did is unknown, so they join the unknown states.
 */
export async function markOrphaned(db: Db, untouchedSince: Date): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `WITH lost AS (
       SELECT id, status FROM payment_orders
       WHERE status IN ('Confirming', 'Canceling') AND updated_at < $1
       LIMIT ${BATCH} FOR UPDATE SKIP LOCKED
     ), moved AS (
       UPDATE payment_orders o
       SET status = CASE lost.status WHEN 'Confirming' THEN 'ConfirmUnknown'::order_status ELSE 'CancelUnknown'::order_status END,
           failure_code = 'REQUEST_LOST', failure_message = 'the request handling this order ended without an answer from Danal',
           updated_at = now()
       FROM lost WHERE o.id = lost.id AND o.status = lost.status
       RETURNING o.id, lost.status::text AS was
     ), events AS (
       INSERT INTO order_events (order_id, type, detail)
       SELECT id, CASE was WHEN 'Confirming' THEN 'confirm.unknown' ELSE 'cancel.unknown' END,
              jsonb_build_object('code', 'REQUEST_LOST', 'reason', 'left in ' || was || ' by a request that ended')
       FROM moved
     )
     SELECT id FROM moved`,
    [untouchedSince],
  );
  return rows.map((r) => r.id);
}

/**
 * Takes the unknown orders whose next attempt is due, counts the attempt and
 * leases them until `leaseUntil`: another sweep skips them meanwhile, and if
 * this process dies the lease simply runs out. An order that has never been
 * tried is due `firstDelayMs` after it became unknown.
 */
export async function claimDue(db: Db, now: Date, firstDelayMs: number, leaseUntil: Date, limit: number): Promise<Order[]> {
  const { rows } = await db.pool.query<Order>(
    `UPDATE payment_orders SET reconcile_attempts = reconcile_attempts + 1, next_reconcile_at = $3
     WHERE id IN (
       SELECT id FROM payment_orders
       WHERE status IN ('ConfirmUnknown', 'CancelUnknown') AND reconcile_gave_up_at IS NULL
         AND COALESCE(next_reconcile_at, updated_at + make_interval(secs => $2::float8 / 1000)) <= $1
       ORDER BY next_reconcile_at NULLS FIRST
       LIMIT $4 FOR UPDATE SKIP LOCKED)
     AND status IN ('ConfirmUnknown', 'CancelUnknown')
     RETURNING ${ORDER_FIELDS}`,
    [now, firstDelayMs, leaseUntil, limit],
  );
  return rows;
}

/** The attempt did not settle the order: try again at `at`, and say why in its history. */
export async function scheduleRetry(db: Db, order: Order, at: Date, reason: string): Promise<void> {
  await db.pool.query(
    `WITH later AS (UPDATE payment_orders SET next_reconcile_at = $2 WHERE id = $1 AND status = $3::order_status RETURNING id)
     INSERT INTO order_events (order_id, type, detail)
     SELECT id, 'reconcile.retry', jsonb_build_object('attempt', $4::int, 'reason', $5::text, 'nextAttemptAt', $2::timestamptz) FROM later`,
    [order.id, at, order.status, order.reconcileAttempts, reason],
  );
}

/** The attempts ran out: the order is left for an operator (npm run ops:stuck). */
export async function giveUp(db: Db, order: Order, reason: string): Promise<void> {
  await db.pool.query(
    `WITH stuck AS (
       UPDATE payment_orders SET reconcile_gave_up_at = now(), next_reconcile_at = NULL
       WHERE id = $1 AND status = $2::order_status RETURNING id
     )
     INSERT INTO order_events (order_id, type, detail)
     SELECT id, 'reconcile.gave_up', jsonb_build_object('attempts', $3::int, 'reason', $4::text) FROM stuck`,
    [order.id, order.status, order.reconcileAttempts, reason],
  );
}

/**
 * What Danal approved, when known: recorded by the confirm that got an answer
 * it could not use (an amount or echo mismatch), or by an operator who read it
 * in Danal's console (npm run ops:stuck -- --retry ORDER --approved-amount N).
 */
export async function approvalOnRecord(db: Db, orderId: string): Promise<{ transactionId: string; amount: number } | undefined> {
  const { rows } = await db.pool.query<{ approval: { transactionId: string; amount: number } }>(
    `SELECT detail->'approval' AS approval FROM order_events
     WHERE order_id = $1 AND type IN ('confirm.unknown', 'reconcile.operator_retry') AND detail ? 'approval' ORDER BY id DESC LIMIT 1`,
    [orderId],
  );
  return rows[0]?.approval;
}

/** Anything that runs SQL: the service's pool, or an operator script's client. */
type Queryable = Pick<import('pg').Pool, 'query'>;

/** What an operator read in Danal's console about a cancel whose outcome was unknown. */
export type CancelRuling = 'refunded' | 'not_refunded';

export interface OperatorRetry {
  /** For an unknown confirm: what Danal approved (the net cancel returns exactly that). */
  approvedAmount?: number;
  /** For an unknown cancel: whether Danal refunded it. */
  cancelOutcome?: CancelRuling;
}

/** Why an operator's retry was not taken: the order is settled (or absent), or the answer is for the other unknown. */
export type RearmRefusal = 'not_unsettled' | 'answer_does_not_fit';

/**
 * An operator's retry: the order gets a fresh set of attempts at the next
 * sweep, with what the operator read in Danal's console, when given (recorded
 * in the order's history, where the reconciler reads it). Refused when the
 * order is not in an unknown state, or when the answer is about the other kind
 * of unknown (an approved amount for a cancel, a refund for a confirm): an
 * answer the reconciler would not read must not look as if it had been taken.
 */
export async function rearm(db: Queryable, orderId: string, retry: OperatorRetry = {}, by = 'operator'): Promise<{ rearmed: true } | { rearmed: false; refusal: RearmRefusal; status?: string }> {
  const { rowCount } = await db.query(
    `WITH again AS (
       UPDATE payment_orders SET reconcile_gave_up_at = NULL, reconcile_attempts = 0, next_reconcile_at = now()
       WHERE id = $1 AND status IN ('ConfirmUnknown', 'CancelUnknown')
         AND ($2::bigint IS NULL OR status = 'ConfirmUnknown') AND ($4::text IS NULL OR status = 'CancelUnknown')
       RETURNING id, status, danal_transaction_id
     )
     INSERT INTO order_events (order_id, type, detail)
     SELECT id, 'reconcile.operator_retry',
            jsonb_build_object('by', $3::text)
            || CASE WHEN $2::bigint IS NULL OR status <> 'ConfirmUnknown' THEN '{}'::jsonb
                 ELSE jsonb_build_object('approval', jsonb_build_object('transactionId', danal_transaction_id, 'amount', $2::bigint)) END
            || CASE WHEN $4::text IS NULL OR status <> 'CancelUnknown' THEN '{}'::jsonb
                 ELSE jsonb_build_object('cancelOutcome', $4::text, 'cancelSeq',
                        (SELECT seq FROM order_cancels c WHERE c.order_id = again.id AND c.status = 'Requested')) END
     FROM again`,
    [orderId, retry.approvedAmount ?? null, by, retry.cancelOutcome ?? null],
  );
  if (rowCount === 1) return { rearmed: true };
  const { rows } = await db.query<{ status: string }>('SELECT status::text FROM payment_orders WHERE id = $1', [orderId]);
  const status = rows[0]?.status;
  const unsettled = status === 'ConfirmUnknown' || status === 'CancelUnknown';
  return { rearmed: false, refusal: unsettled ? 'answer_does_not_fit' : 'not_unsettled', status };
}

/** The operator's word on the order's cancel number `seq`, if one was given. */
export async function operatorCancelRuling(db: Db, orderId: string, seq: number): Promise<CancelRuling | undefined> {
  const { rows } = await db.pool.query<{ outcome: CancelRuling }>(
    `SELECT detail->>'cancelOutcome' AS outcome FROM order_events
     WHERE order_id = $1 AND type = 'reconcile.operator_retry' AND (detail->>'cancelSeq')::int = $2 ORDER BY id DESC LIMIT 1`,
    [orderId, seq],
  );
  return rows[0]?.outcome;
}

/** Orders whose outcome at Danal is not settled: those left for an operator first, then by age. */
export async function unsettledOrders(db: Queryable) {
  const { rows } = await db.query<{
    id: string;
    status: string;
    user_id: string;
    amount: number;
    danal_transaction_id: string | null;
    reconcile_attempts: number;
    next_reconcile_at: Date | null;
    reconcile_gave_up_at: Date | null;
    updated_at: Date;
    last_reason: string | null;
  }>(
    `SELECT o.id, o.status, o.user_id, o.amount, o.danal_transaction_id, o.reconcile_attempts, o.next_reconcile_at,
            o.reconcile_gave_up_at, o.updated_at,
            (SELECT e.detail->>'reason' FROM order_events e WHERE e.order_id = o.id AND e.detail ? 'reason' ORDER BY e.id DESC LIMIT 1) AS last_reason
     FROM payment_orders o
     WHERE o.status IN ('ConfirmUnknown', 'CancelUnknown', 'Confirming', 'Canceling')
     ORDER BY o.reconcile_gave_up_at NULLS LAST, o.updated_at`,
  );
  return rows;
}
