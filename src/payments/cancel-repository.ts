// The cancels of an order (order_cancels). A cancel is written as Requested
// in the transaction that marks its order Canceling and holds its points, and
// leaves Requested once, in the transaction that settles it. The database
// allows one Requested cancel per order (a partial unique index).
import type { Db, Tx } from '../db/prisma.js';
import type { OrderCancel } from '../generated/prisma/client.js';

export type { OrderCancel };

export interface NewCancel {
  orderId: string;
  amount: number;
  pointAmount: number;
  /** Danal's cancelType: C refunds everything that remains, P a part. */
  cancelType: 'C' | 'P';
  reason: string;
}

/** The next cancel of the order, numbered after the ones before it. */
export async function beginCancel(tx: Tx, cancel: NewCancel): Promise<OrderCancel> {
  const [row] = await tx.$queryRaw<OrderCancel[]>`
    INSERT INTO order_cancels (order_id, seq, amount, point_amount, cancel_type, reason)
    SELECT ${cancel.orderId}, COALESCE(MAX(seq), 0) + 1, ${cancel.amount}, ${cancel.pointAmount}, ${cancel.cancelType}, ${cancel.reason}
    FROM order_cancels WHERE order_id = ${cancel.orderId}
    RETURNING id, order_id AS "orderId", seq, amount, point_amount AS "pointAmount", cancel_type AS "cancelType", reason, status,
              danal_cancel_transaction_id AS "danalCancelTransactionId", failure_code AS "failureCode",
              failure_message AS "failureMessage", requested_at AS "requestedAt", completed_at AS "completedAt"`;
  return row!;
}

/** The order's cancel that is waiting for Danal, if any. */
export const inFlightCancel = (db: Db | Tx, orderId: string) => db.orderCancel.findFirst({ where: { orderId, status: 'Requested' } });

/** Moves a Requested cancel to Done or Refused. False when it had already left Requested. */
export async function settleCancelRow(
  tx: Tx,
  cancelId: bigint,
  outcome: 'Done' | 'Refused',
  details: { danalCancelTransactionId?: string | null; failureCode?: string; failureMessage?: string; completedAt: Date },
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
  };
}
