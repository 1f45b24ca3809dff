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
}

export const createOrder = (db: Db, order: NewOrder) => db.paymentOrder.create({ data: order });

/** The user's own order; another user's order is as good as missing. */
export const findOwnOrder = (db: Db | Tx, orderId: string, userId: string) =>
  db.paymentOrder.findFirst({ where: { id: orderId, userId } });

export async function requireOwnOrder(db: Db | Tx, orderId: string, userId: string): Promise<Order> {
  const order = await findOwnOrder(db, orderId, userId);
  if (!order) throw notFound('ORDER_NOT_FOUND', `No order ${orderId} for this user`);
  return order;
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

/** Claims a Pending, unexpired order for one confirm call. */
export const claimForConfirm = (db: Db, orderId: string, transactionId: string, danalMethod: string, now: Date) =>
  transition(db, orderId, 'Pending', 'Confirming', { danalTransactionId: transactionId, danalMethod }, { expiresAt: { gt: now } });

export const virtualAccountColumns = (va: IssuedVirtualAccount) => ({
  vaccountBankCode: va.bankCode,
  vaccountBankName: va.bankName,
  vaccountNumber: va.accountNumber,
  vaccountHolder: va.holder,
  vaccountDueAt: va.dueAt,
});

export const recordFailure = (code: string, message: string) => ({
  failureCode: code.slice(0, 64),
  failureMessage: message.slice(0, 500),
});
