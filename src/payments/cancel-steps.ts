// The two ways a cancel ends, shared by the cancel request and the
// reconciler: Danal refunded (the held points leave the wallet) or Danal
// certainly did not (the held points are the user's again). Each is one
// transaction, and each moves the order only if it is still where it was.
import type { Db } from '../db/prisma.js';
import { debitHeldForCancel, releaseHold } from '../wallet/wallet-ledger.js';
import * as orders from './order-repository.js';
import type { Order } from './order-repository.js';

type CancelInFlight = 'Canceling' | 'CancelUnknown';
/** A history row written in the same transaction as the step (the reconciler's). */
type StepEvent = { type: string; detail: Record<string, unknown> };

/** Refunded: Canceled, and the held points leave the wallet. Returns the new balance. */
export async function completeCancel(
  db: Db,
  order: Order,
  from: CancelInFlight,
  refund: { cancelTransactionId: string | null; canceledAt: Date },
  event?: StepEvent,
): Promise<number> {
  return db.$transaction(async (tx) => {
    const moved = await orders.transition(tx, order.id, from, 'Canceled', {
      canceledAt: refund.canceledAt,
      danalCancelTransactionId: refund.cancelTransactionId,
    });
    if (!moved) throw new Error(`order ${order.id} left ${from} while this step held it`);
    if (event) await orders.recordEvent(tx, order.id, event.type, event.detail);
    return debitHeldForCancel(tx, order.userId, order.id, order.pointAmount);
  });
}

/** Not refunded: back to Paid, the held points released, Danal's answer recorded. */
export async function restorePaid(db: Db, order: Order, from: CancelInFlight, failure: { code: string; message: string }, event?: StepEvent): Promise<void> {
  await db.$transaction(async (tx) => {
    const moved = await orders.transition(tx, order.id, from, 'Paid', orders.recordFailure(failure.code, failure.message));
    if (!moved) throw new Error(`order ${order.id} left ${from} while this step held it`);
    if (event) await orders.recordEvent(tx, order.id, event.type, event.detail);
    await releaseHold(tx, order.userId, order.pointAmount);
  });
}
