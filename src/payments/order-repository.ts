// Payment orders in PostgreSQL. Status changes are conditional updates
// (WHERE status = <from>): when requests race, exactly one of them moves the
// order and the others see a count of 0.
import type { Db, Tx } from '../db/prisma.js';
import type { OrderStatus, PaymentMethod } from '../generated/prisma/enums.js';
import type { PaymentOrder } from '../generated/prisma/client.js';
import type { IssuedVirtualAccount } from '../danal/danal-gateway.js';
import { canTransition } from './order-status.js';
import { notFound } from '../lib/errors.js';

export type Order = PaymentOrder;

export interface NewOrder {
  id: string;
  userId: string;
  orderName: string;
  amount: number;
  pointAmount: number;
  taxFreeAmount: number;
  vat: number;
  suppliedAmount: number;
  paymentMethod: PaymentMethod;
  expiresAt: Date;
  /** The virtual account's deposit deadline asked of Danal (VirtualAccount orders). */
  vaccountDueAt?: Date;
  /** The Idempotency-Key the order is created under (idempotencyId), if any. */
  idempotencyId?: string;
  /** Virtual-account orders: the last segment of their notiUrl (see payment_orders.noti_token). */
  notiToken?: string | null;
}

// The charge flow's own statements go straight to node-postgres (see src/db/prisma.ts).
const COLUMNS: [keyof Order, string][] = [
  ['id', 'id'], ['userId', 'user_id'], ['orderName', 'order_name'], ['amount', 'amount'], ['pointAmount', 'point_amount'],
  ['taxFreeAmount', 'tax_free_amount'], ['vat', 'vat'], ['suppliedAmount', 'supplied_amount'], ['paymentMethod', 'payment_method'],
  ['status', 'status'], ['danalTransactionId', 'danal_transaction_id'], ['danalMethod', 'danal_method'],
  ['danalCancelTransactionId', 'danal_cancel_transaction_id'], ['vaccountBankCode', 'vaccount_bank_code'],
  ['vaccountBankName', 'vaccount_bank_name'], ['vaccountNumber', 'vaccount_number'], ['vaccountHolder', 'vaccount_holder'],
  ['vaccountDueAt', 'vaccount_due_at'], ['failureCode', 'failure_code'], ['failureMessage', 'failure_message'],
  ['cancelReason', 'cancel_reason'], ['canceledAmount', 'canceled_amount'], ['canceledPoints', 'canceled_points'], ['requestedAt', 'requested_at'], ['expiresAt', 'expires_at'], ['approvedAt', 'approved_at'],
  ['canceledAt', 'canceled_at'], ['updatedAt', 'updated_at'], ['reconcileAttempts', 'reconcile_attempts'],
  ['nextReconcileAt', 'next_reconcile_at'], ['reconcileGaveUpAt', 'reconcile_gave_up_at'], ['idempotencyId', 'idempotency_id'],
  ['notiToken', 'noti_token'],
];
const DATE_FIELDS = new Set<keyof Order>(['vaccountDueAt', 'requestedAt', 'expiresAt', 'approvedAt', 'canceledAt', 'updatedAt', 'nextReconcileAt', 'reconcileGaveUpAt']);

/** A payment_orders row as PostgreSQL's to_jsonb() wrote it (the webhook outbox's snapshot), as an Order. */
export function orderFromJson(row: Record<string, unknown>): Order {
  return Object.fromEntries(
    COLUMNS.map(([field, column]) => {
      const value = row[column] ?? null;
      return [field, DATE_FIELDS.has(field) && typeof value === 'string' ? new Date(value) : value];
    }),
  ) as Order;
}

/** The select list that reads a payment_orders row as an Order. */
export const ORDER_FIELDS = COLUMNS.map(([field, column]) => `${column} AS "${field}"`).join(', ');
const SELECT_ORDER = `SELECT ${ORDER_FIELDS} FROM payment_orders`;

/** A second order under one user's Idempotency-Key violates this (payment_orders_user_id_idempotency_id_key). */
export async function createOrder(db: Db, order: NewOrder): Promise<Order> {
  const { rows } = await db.pool.query<Order>(
    `INSERT INTO payment_orders (id, user_id, order_name, amount, point_amount, tax_free_amount, vat, supplied_amount, payment_method, expires_at,
                                 vaccount_due_at, idempotency_id, noti_token)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     RETURNING ${ORDER_FIELDS}`,
    [
      order.id, order.userId, order.orderName, order.amount, order.pointAmount, order.taxFreeAmount, order.vat, order.suppliedAmount,
      order.paymentMethod, order.expiresAt, order.vaccountDueAt ?? null, order.idempotencyId ?? null, order.notiToken ?? null,
    ],
  );
  return rows[0]!;
}

/** The order the user created under this Idempotency-Key (idempotencyId), if any. */
export async function findOrderByIdempotency(db: Db, userId: string, idempotencyId: string): Promise<Order | undefined> {
  const { rows } = await db.pool.query<Order>(`${SELECT_ORDER} WHERE user_id = $1::uuid AND idempotency_id = $2`, [userId, idempotencyId]);
  return rows[0];
}

/**
 * The order that holds this Danal transaction (see the unique index
 * payment_orders_one_order_per_transaction): approved for it, or confirming
 * with it, or waiting to learn whether Danal approved it.
 */
export async function holderOfTransaction(db: Db, transactionId: string): Promise<{ id: string; status: OrderStatus } | undefined> {
  const { rows } = await db.pool.query<{ id: string; status: OrderStatus }>(
    `SELECT id, status FROM payment_orders WHERE danal_transaction_id = $1 AND status NOT IN ('Pending', 'Failed')`,
    [transactionId],
  );
  return rows[0];
}

/** The user's own order; another user's order is as good as missing. */
export async function findOwnOrder(db: Db, orderId: string, userId: string): Promise<Order | undefined> {
  const { rows } = await db.pool.query<Order>(`${SELECT_ORDER} WHERE id = $1 AND user_id = $2::uuid`, [orderId, userId]);
  return rows[0];
}

export async function requireOwnOrder(db: Db, orderId: string, userId: string): Promise<Order> {
  const order = await findOwnOrder(db, orderId, userId);
  if (!order) throw notFound('ORDER_NOT_FOUND', `No order ${orderId} for this user`);
  return order;
}

export interface OrderFilter {
  statuses?: OrderStatus[];
  /** requestedAt >= from */
  from?: Date;
  /** requestedAt < to */
  to?: Date;
  limit: number;
  /** The last order of the previous page: the next page starts after it (newest first). */
  after?: { requestedAt: Date; id: string };
}

/** What operators can look orders up by, on top of the user's filters. */
export interface OrderLookup extends OrderFilter {
  userId?: string;
  orderId?: string;
  /** Danal's transaction id: the approval's or any of its cancels'. */
  transactionId?: string;
}

/** Orders, newest first, by keyset: (requested_at, id) below the cursor. */
export async function listOrders(db: Db, filter: OrderLookup): Promise<Order[]> {
  const { rows } = await db.pool.query<Order>(
    `${SELECT_ORDER}
     WHERE ($1::uuid IS NULL OR user_id = $1::uuid)
       AND ($2::order_status[] IS NULL OR status = ANY($2::order_status[]))
       AND ($3::timestamptz IS NULL OR requested_at >= $3)
       AND ($4::timestamptz IS NULL OR requested_at < $4)
       AND ($5::timestamptz IS NULL OR (requested_at, id) < ($5, $6))
       AND ($8::text IS NULL OR id = $8)
       AND ($9::text IS NULL OR danal_transaction_id = $9
            OR id IN (SELECT order_id FROM order_cancels WHERE danal_cancel_transaction_id = $9))
     ORDER BY requested_at DESC, id DESC
     LIMIT $7`,
    [
      filter.userId ?? null,
      filter.statuses ?? null,
      filter.from ?? null,
      filter.to ?? null,
      filter.after?.requestedAt ?? null,
      filter.after?.id ?? null,
      filter.limit,
      filter.orderId ?? null,
      filter.transactionId ?? null,
    ],
  );
  return rows;
}

export const findOrder = (db: Db | Tx, orderId: string) => db.paymentOrder.findUnique({ where: { id: orderId } });

type OrderChanges = Parameters<Db['paymentOrder']['updateMany']>[0]['data'];

/**
 * Moves the order from `from` to `to` if it is still in `from`.
 * Returns false when another request got there first.
 */
export async function transition(
  db: Db | Tx,
  orderId: string,
  from: OrderStatus,
  to: OrderStatus,
  changes: OrderChanges = {},
  extraWhere: Record<string, unknown> = {},
): Promise<boolean> {
  if (!canTransition(from, to)) throw new Error(`illegal order transition ${from} -> ${to}`);
  const { count } = await db.paymentOrder.updateMany({
    where: { id: orderId, status: from, ...extraWhere },
    data: { ...changes, status: to },
  });
  return count === 1;
}

/**
 * Claims a Pending, unexpired order for one confirm call. A transaction held by
 * another order violates a unique index (the caller answers 409). The order is found by
 * its primary key alone (`status::text` keeps the (status, expires_at) index out
 * of reach): once statistics say Pending orders are rare, as they do when paid
 * orders fill the table, the planner would otherwise pick that index and read
 * every open checkout to find this one (42 of them, 56 buffers instead of 5, after
 * the bench's million-order fill).
 */
export async function claimForConfirm(db: Db, orderId: string, transactionId: string, danalMethod: string, now: Date): Promise<boolean> {
  const { rowCount } = await db.pool.query(
    `UPDATE payment_orders SET status = 'Confirming', danal_transaction_id = $2, danal_method = $3, updated_at = now()
     WHERE id = $1 AND status::text = 'Pending' AND expires_at > $4`,
    [orderId, transactionId, danalMethod, now],
  );
  return rowCount === 1;
}

export const virtualAccountColumns = (va: IssuedVirtualAccount) => ({
  vaccountBankCode: va.bankCode,
  vaccountBankName: va.bankName,
  vaccountNumber: va.accountNumber,
  vaccountHolder: va.holder,
  // Danal's deadline wins over the one we asked for, when Danal names one.
  ...(va.dueAt && { vaccountDueAt: va.dueAt }),
});

/** Appends to the order's history (order_events): unknown outcomes, reconciliation steps, expiry. */
export async function recordEvent(db: Db | Tx, orderId: string, type: string, detail: Record<string, unknown> = {}): Promise<void> {
  await db.orderEvent.create({ data: { orderId, type, detail: detail as object } });
}

/**
 * Danal's answer to a confirm is not known, or not usable: the order waits for
 * the reconciler. `approval` says what Danal approved when it did answer (the
 * reconciler's net cancel must return exactly that).
 */
export async function markConfirmUnknown(
  db: Db,
  orderId: string,
  failure: { code: string; message: string },
  approval?: { transactionId: string; amount: number },
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    if (!(await transition(tx, orderId, 'Confirming', 'ConfirmUnknown', recordFailure(failure.code, failure.message)))) return false;
    await recordEvent(tx, orderId, 'confirm.unknown', { code: failure.code, reason: failure.message, ...(approval && { approval }) });
    return true;
  });
}

export const recordFailure = (code: string, message: string) => ({
  failureCode: code.slice(0, 64),
  failureMessage: message.slice(0, 500),
});
