// The cancels of an order (order_cancels). A cancel is written as Requested
// in the transaction that marks its order Canceling and holds its points, and
// leaves Requested once, in the transaction that settles it. The database
// allows one Requested cancel per order (a partial unique index).
import type { Db, Tx } from '../db/prisma.js';
import { Prisma, type OrderCancel } from '../generated/prisma/client.js';
import type { IdempotencyRef } from '../idempotency/idempotency-store.js';

export type { OrderCancel };

export interface NewCancel {
  orderId: string;
  amount: number;
  pointAmount: number;
  /** Danal's cancelType: C refunds everything that remains, P a part. */
  cancelType: 'C' | 'P';
  reason: string;
  /** The Idempotency-Key that asks for it, if any: a second cancel under it violates a unique index. */
  key?: IdempotencyRef;
}

const CANCEL_FIELDS = `id, order_id AS "orderId", seq, amount, point_amount AS "pointAmount", cancel_type AS "cancelType", reason, status,
  danal_cancel_transaction_id AS "danalCancelTransactionId", failure_code AS "failureCode",
  failure_message AS "failureMessage", requested_at AS "requestedAt", completed_at AS "completedAt",
  idempotency_id AS "idempotencyId", request_hash AS "requestHash"`;

/** The next cancel of the order, numbered after the ones before it. */
export async function beginCancel(tx: Tx, cancel: NewCancel): Promise<OrderCancel> {
  const [row] = await tx.$queryRaw<OrderCancel[]>`
    INSERT INTO order_cancels (order_id, seq, amount, point_amount, cancel_type, reason, idempotency_id, request_hash)
    SELECT ${cancel.orderId}, COALESCE(MAX(seq), 0) + 1, ${cancel.amount}, ${cancel.pointAmount}, ${cancel.cancelType}, ${cancel.reason},
           ${cancel.key?.id ?? null}, ${cancel.key?.requestHash ?? null}
    FROM order_cancels WHERE order_id = ${cancel.orderId}
    RETURNING ${Prisma.raw(CANCEL_FIELDS)}`;
  return row!;
}

/** The cancel an Idempotency-Key asked for (idempotencyId), whatever became of it. */
export async function cancelOfKey(db: Db, idempotencyId: string): Promise<OrderCancel | undefined> {
  const { rows } = await db.pool.query<OrderCancel>(`SELECT ${CANCEL_FIELDS} FROM order_cancels WHERE idempotency_id = $1`, [idempotencyId]);
  return rows[0] && { ...rows[0], id: BigInt(rows[0].id) };
}

/**
 * What a completed cancel answered: what remained refundable after it, and
 * the wallet balance its CANCEL ledger row left.
 */
export async function outcomeOfDoneCancel(db: Db, cancel: OrderCancel): Promise<{ refundedThrough: number; balanceAfter: number }> {
  const { rows } = await db.pool.query<{ refunded: string; balance_after: string }>(
    `SELECT (SELECT SUM(amount) FROM order_cancels WHERE order_id = $1 AND status = 'Done' AND seq <= $2) AS refunded,
            (SELECT balance_after FROM ledger_entries WHERE order_id = $1 AND type = 'CANCEL' AND cancel_seq = $2) AS balance_after`,
    [cancel.orderId, cancel.seq],
  );
  return { refundedThrough: Number(rows[0]!.refunded), balanceAfter: Number(rows[0]!.balance_after) };
}

/** The order's cancel that is waiting for Danal, if any. */
export const inFlightCancel = (db: Db | Tx, orderId: string) => db.orderCancel.findFirst({ where: { orderId, status: 'Requested' } });

/** Moves a Requested cancel to Done or Refused. False when it had already left Requested. */
export async function settleCancelRow(
  tx: Tx,
  cancelId: bigint,
  outcome: 'Done' | 'Refused',
  details: {
    danalCancelTransactionId?: string | null;
    failureCode?: string;
    failureMessage?: string;
    completedAt: Date;
    /** Null: the cancel never reached Danal, so its Idempotency-Key may ask again. */
    idempotencyId?: null;
    requestHash?: null;
  },
): Promise<boolean> {
  const { count } = await tx.orderCancel.updateMany({ where: { id: cancelId, status: 'Requested' }, data: { status: outcome, ...details } });
  return count === 1;
}

/** The completed cancels of each order, oldest first: the payment object's cancels[]. */
export async function completedCancels(db: Db, orderIds: string[]): Promise<Map<string, OrderCancel[]>> {
  const byOrder = new Map<string, OrderCancel[]>();
  if (orderIds.length === 0) return byOrder;
  const rows = await db.orderCancel.findMany({ where: { orderId: { in: orderIds }, status: 'Done' }, orderBy: [{ orderId: 'asc' }, { seq: 'asc' }] });
  for (const row of rows) byOrder.set(row.orderId, [...(byOrder.get(row.orderId) ?? []), row]);
  return byOrder;
}

/** An order_cancels row as PostgreSQL's to_jsonb() wrote it (the webhook outbox's snapshot). */
export function cancelFromJson(row: Record<string, unknown>): OrderCancel {
  const date = (value: unknown) => (typeof value === 'string' ? new Date(value) : null);
  return {
    id: BigInt(String(row.id)),
    orderId: String(row.order_id),
    seq: Number(row.seq),
    amount: Number(row.amount),
    pointAmount: Number(row.point_amount),
    cancelType: String(row.cancel_type),
    reason: String(row.reason),
    status: String(row.status),
    danalCancelTransactionId: (row.danal_cancel_transaction_id as string | null) ?? null,
    failureCode: (row.failure_code as string | null) ?? null,
    failureMessage: (row.failure_message as string | null) ?? null,
    requestedAt: date(row.requested_at)!,
    completedAt: date(row.completed_at),
    idempotencyId: (row.idempotency_id as string | null) ?? null,
    requestHash: (row.request_hash as string | null) ?? null,
  };
}
