// The two ways a cancel ends, shared by the cancel request and the
// reconciler: Danal refunded (the held points leave the wallet) or Danal
// certainly did not (the held points are the user's again). Each is one
// transaction, and each moves the order and its cancel row only if they are
// still where they were.
import type { Db } from '../db/prisma.js';
import type { OrderStatus } from '../generated/prisma/enums.js';
import { debitHeldForCancel, releaseHold } from '../wallet/wallet-ledger.js';
import { settleCancelRow, type OrderCancel } from './cancel-repository.js';
import * as orders from './order-repository.js';
import type { Order } from './order-repository.js';

type CancelInFlight = 'Canceling' | 'CancelUnknown';
/** A history row written in the same transaction as the step (the reconciler's). */
type StepEvent = { type: string; detail: Record<string, unknown> };

const lostHold = (order: Order, from: string) => new Error(`order ${order.id} or its cancel left ${from} while this step held it`);

/** Where the order stands once `cancel` is refunded: nothing left, or a part. */
export function statusAfterRefund(order: Order, cancel: OrderCancel): OrderStatus {
  return order.canceledAmount + cancel.amount === order.amount ? 'Canceled' : 'PartialCanceled';
}

/** Where a refused cancel returns the order: as it was before the cancel. */
export const statusBeforeCancel = (order: Order): OrderStatus => (order.canceledAmount > 0 ? 'PartialCanceled' : 'Paid');

/**
 * Refunded: the cancel is Done, the order counts its amount and points as
 * canceled (Canceled when nothing remains), and the held points leave the
 * wallet with a CANCEL ledger row. Returns the new balance and status.
 */
export async function completeCancel(
  db: Db,
  order: Order,
  cancel: OrderCancel,
  from: CancelInFlight,
  refund: { cancelTransactionId: string | null; canceledAt: Date },
  event?: StepEvent,
): Promise<{ balance: number; status: OrderStatus }> {
  const status = statusAfterRefund(order, cancel);
  return db.$transaction(async (tx) => {
    // The cancel row first: the status change's outbox snapshot lists the completed cancels.
    if (!(await settleCancelRow(tx, cancel.id, 'Done', { danalCancelTransactionId: refund.cancelTransactionId, completedAt: refund.canceledAt }))) {
      throw lostHold(order, from);
    }
    const moved = await orders.transition(tx, order.id, from, status, {
      canceledAt: refund.canceledAt,
      danalCancelTransactionId: refund.cancelTransactionId,
      canceledAmount: { increment: cancel.amount },
      canceledPoints: { increment: cancel.pointAmount },
    });
    if (!moved) throw lostHold(order, from);
    if (event) await orders.recordEvent(tx, order.id, event.type, { cancelSeq: cancel.seq, ...event.detail });
    const balance = await debitHeldForCancel(tx, order.userId, order.id, cancel.seq, cancel.pointAmount);
    return { balance, status };
  });
}

/**
 * Not refunded: the cancel is Refused, the order back where it was, the held
 * points released. `neverSent`: Danal never got the request, so the cancel's
 * Idempotency-Key lets go of it and a retry with the key asks again.
 */
export async function restoreUncanceled(
  db: Db,
  order: Order,
  cancel: OrderCancel,
  from: CancelInFlight,
  failure: { code: string; message: string },
  event?: StepEvent,
  neverSent = false,
): Promise<void> {
  const { failureCode, failureMessage } = orders.recordFailure(failure.code, failure.message);
  const forgetKey = neverSent ? { idempotencyId: null, requestHash: null } : {};
  await db.$transaction(async (tx) => {
    if (!(await settleCancelRow(tx, cancel.id, 'Refused', { failureCode, failureMessage, completedAt: new Date(), ...forgetKey }))) throw lostHold(order, from);
    const moved = await orders.transition(tx, order.id, from, statusBeforeCancel(order), { failureCode, failureMessage });
    if (!moved) throw lostHold(order, from);
    if (event) await orders.recordEvent(tx, order.id, event.type, { cancelSeq: cancel.seq, ...event.detail });
    await releaseHold(tx, order.userId, cancel.pointAmount);
  });
}
