// Cancel of a paid order, in full or in part. The order of steps is what
// keeps money and points together: (1) hold the points, write the cancel and
// mark the order Canceling in one transaction, (2) ask Danal to refund with no
// lock held, (3) on a refund take the held points out; on a refusal release
// them; on an unknown outcome keep them held for the reconciler.
// One cancel per order is in flight at a time (the Canceling status, and a
// unique index on order_cancels), so concurrent partial cancels can never
// refund more than what remains: the second one is answered 409.
// A cancel asked for under an Idempotency-Key carries the key (unique), so a
// retry with it finds that cancel and answers with its outcome, however long
// after and whatever happened between: it never plans a second one.
import type { Db } from '../db/prisma.js';
import type { IdempotencyRef } from '../idempotency/idempotency-store.js';
import type { Logger } from '../lib/logger.js';
import { AppError, conflict } from '../lib/errors.js';
import { DanalError, DanalUnavailableError, type DanalGateway } from '../danal/danal-gateway.js';
import { holdPoints } from '../wallet/wallet-ledger.js';
import { beginCancel, cancelOfKey, outcomeOfDoneCancel, type NewCancel, type OrderCancel } from './cancel-repository.js';
import { completeCancel, restoreUncanceled, statusBeforeCancel } from './cancel-steps.js';
import * as orders from './order-repository.js';
import type { Order } from './order-repository.js';
import { DANAL_METHOD_OF } from './order-policy.js';
import { statusCode } from './order-status.js';
import { danalFailure, danalUnavailable, outcomeUnknown } from './danal-failures.js';
import { crashPoint } from '../lib/crash-points.js';

export interface CancelRequest {
  orderID: string;
  /** KRW to refund; without it, everything that remains. */
  amount?: number;
  reason?: string;
}

const CANCELABLE = new Set(['Paid', 'PartialCanceled']);

/** What can still be refunded on an order. */
export const remainingAmount = (order: Order) => order.amount - order.canceledAmount;

function notCancelable(order: Order) {
  return conflict(
    statusCode(order.status),
    order.status === 'Canceling' || order.status === 'CancelUnknown'
      ? `Order ${order.id} has a cancel in progress; try again once it has finished`
      : `Only Paid or PartialCanceled orders can be canceled; order ${order.id} is ${order.status}`,
  );
}

/**
 * The points taken back once `canceledAmount` KRW of the order are refunded:
 * the order's points in proportion, rounded down. Each cancel takes this
 * running total minus what was taken before, so the parts are exact and add
 * up to the order's points. (BigInt: points × KRW can pass 2^53.)
 */
export function pointsTakenBack(order: Pick<Order, 'amount' | 'pointAmount'>, canceledAmount: number): number {
  return Number((BigInt(order.pointAmount) * BigInt(canceledAmount)) / BigInt(order.amount));
}

/** The smallest part that takes back at least one more point than the cancels before it. */
function smallestPartWorthAPoint(order: Order): number {
  const needed = BigInt(order.canceledPoints + 1) * BigInt(order.amount);
  const points = BigInt(order.pointAmount);
  return Number((needed + points - 1n) / points) - order.canceledAmount;
}

/**
 * The cancel the request asks for, checked against the order as it is now:
 * its amount, its points (the running total's share, the last cancel taking
 * what remains) and Danal's cancel type. A part smaller than `smallestPart`
 * KRW (ORDER_AMOUNT_UNIT) is refused: it serves no buyer and costs a Danal call.
 */
export function planCancel(order: Order, request: CancelRequest, smallestPart: number): NewCancel {
  if (!CANCELABLE.has(order.status)) throw notCancelable(order);
  const remaining = remainingAmount(order);
  const amount = request.amount ?? remaining;
  if (amount > remaining) {
    throw conflict('CANCEL_AMOUNT_EXCEEDS_BALANCE', `Only ${remaining} KRW of order ${order.id} can still be canceled; ${amount} KRW was asked for`);
  }
  const reason = request.reason ?? 'customer request';
  if (amount === remaining) {
    return { orderId: order.id, amount, pointAmount: order.pointAmount - order.canceledPoints, cancelType: 'C', reason };
  }
  if (order.paymentMethod === 'VirtualAccount') {
    throw conflict('PARTIAL_CANCEL_NOT_SUPPORTED', `Virtual-account payments can only be canceled in full (${remaining} KRW)`);
  }
  if (amount < smallestPart) {
    throw new AppError(422, 'CANCEL_AMOUNT_TOO_SMALL', `A partial cancel must be at least ${smallestPart} KRW; ${amount} KRW was asked for (or cancel all ${remaining} KRW that remain)`, [
      { field: 'amount', message: `must be at least ${smallestPart} KRW, or the ${remaining} KRW that remain` },
    ]);
  }
  const pointAmount = pointsTakenBack(order, order.canceledAmount + amount) - order.canceledPoints;
  if (pointAmount < 1) {
    const smallest = smallestPartWorthAPoint(order);
    throw new AppError(422, 'CANCEL_AMOUNT_TOO_SMALL', `${amount} KRW is worth less than one point of this order; cancel at least ${smallest} KRW`, [
      { field: 'amount', message: `must be at least ${smallest} KRW` },
    ]);
  }
  return { orderId: order.id, amount, pointAmount, cancelType: 'P', reason };
}

const declined = (failure: { code: string; message: string }, stays: string) =>
  new AppError(409, 'CANCEL_DECLINED', `Danal refused the cancel: ${failure.message || failure.code} (${failure.code}); nothing was refunded and the order stays ${stays}`);

export interface CancelServiceDeps {
  db: Db;
  danal: DanalGateway;
  log: Logger;
  /** The smallest partial cancel, in KRW (ORDER_AMOUNT_UNIT). */
  smallestPartialCancel: number;
}

export function createCancelService(deps: CancelServiceDeps) {
  const { db, danal, log } = deps;

  /**
   * Step 1: the order moves to Canceling only if it is still as it was read
   * (status and canceled amount), so a decision made on a stale read is never
   * applied. Undefined when another request changed the order meanwhile.
   */
  async function begin(order: Order, plan: NewCancel): Promise<OrderCancel | undefined> {
    return db.$transaction(async (tx) => {
      const claimed = await orders.transition(tx, order.id, order.status, 'Canceling', { cancelReason: plan.reason }, { canceledAmount: order.canceledAmount });
      if (!claimed) return undefined;
      const cancel = await beginCancel(tx, plan);
      if (!(await holdPoints(tx, order.userId, plan.pointAmount))) {
        throw conflict('POINTS_ALREADY_USED', `The ${plan.pointAmount} points this cancel takes back are no longer all in the wallet; it cannot be canceled`);
      }
      return cancel;
    });
  }

  async function cancel(userId: string, request: CancelRequest, key?: IdempotencyRef) {
    // A lost race re-reads the order: it may now be in flight (409) or have less left to cancel,
    // or the race was with this key's own cancel, started by another try.
    for (let attempt = 1; ; attempt += 1) {
      const earlier = key && (await cancelOfKey(db, key.id));
      if (earlier) return answerForKey(userId, earlier, key!);
      const order = await orders.requireOwnOrder(db, request.orderID, userId);
      const plan = planCancel(order, request, deps.smallestPartialCancel);
      let started: OrderCancel | undefined;
      try {
        started = await begin(order, { ...plan, key });
      } catch (error) {
        if (key && (await cancelOfKey(db, key.id))) continue; // the key's unique index: another try began it first
        throw error;
      }
      if (started) return refund(order, started);
      if (attempt === 3) throw conflict('ORDER_CHANGED', `Order ${order.id} kept changing while this cancel was checked; read it again and retry`);
    }
  }

  /** A retry of the key that asked for `cancel`: that cancel's outcome, or that it is not settled yet. */
  async function answerForKey(userId: string, cancel: OrderCancel, key: IdempotencyRef) {
    if (cancel.requestHash !== key.requestHash) {
      throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key asked for another cancel; use a new key for a new request');
    }
    const order = await orders.requireOwnOrder(db, cancel.orderId, userId);
    if (cancel.status === 'Done') {
      const { refundedThrough, balanceAfter } = await outcomeOfDoneCancel(db, cancel);
      const balanceAmount = order.amount - refundedThrough;
      return {
        orderID: order.id,
        status: balanceAmount === 0 ? ('Canceled' as const) : ('PartialCanceled' as const),
        canceledAmount: cancel.amount,
        canceledPoints: cancel.pointAmount,
        balanceAmount,
        balance: balanceAfter,
      };
    }
    if (cancel.status === 'Refused') {
      throw declined({ code: cancel.failureCode ?? 'REFUSED', message: cancel.failureMessage ?? '' }, order.status);
    }
    throw conflict(
      statusCode(order.status),
      `The cancel this Idempotency-Key asked for (#${cancel.seq}, ${cancel.amount} KRW) is not settled yet: ` +
        `${order.status === 'CancelUnknown' ? "Danal's answer was lost and is being verified" : 'it is waiting for Danal'}; its points stay held. Ask again later with the same key`,
    );
  }

  // 2. Ask Danal to refund, holding no lock; 3. settle what Danal said.
  async function refund(order: Order, cancel: OrderCancel) {
    crashPoint('cancel.before_danal');
    try {
      const refunded = await danal.cancel({
        transactionId: order.danalTransactionId!,
        method: DANAL_METHOD_OF[order.paymentMethod],
        amount: cancel.amount,
        cancelType: cancel.cancelType as 'C' | 'P',
        reason: cancel.reason,
      });
      crashPoint('cancel.after_danal');
      const { balance, status } = await completeCancel(db, order, cancel, 'Canceling', refunded);
      crashPoint('cancel.after_commit');
      log.info(
        { event: 'order.canceled', orderID: order.id, userId: order.userId, cancelSeq: cancel.seq, amount: cancel.amount, pointAmount: cancel.pointAmount, status },
        status === 'Canceled' ? 'order canceled and refunded' : 'part of the order canceled and refunded',
      );
      return {
        orderID: order.id,
        status: status as 'Canceled' | 'PartialCanceled',
        canceledAmount: cancel.amount,
        canceledPoints: cancel.pointAmount,
        balanceAmount: remainingAmount(order) - cancel.amount,
        balance,
      };
    } catch (error) {
      return handleCancelFailure(order, cancel, error);
    }
  }

  async function handleCancelFailure(order: Order, cancel: OrderCancel, error: unknown): Promise<never> {
    if (!(error instanceof DanalError)) throw error;
    const logFields = { orderID: order.id, userId: order.userId, cancelSeq: cancel.seq, reason: error.message };
    if (!error.definite) {
      await orders.transition(db, order.id, 'Canceling', 'CancelUnknown', orders.recordFailure('DANAL_OUTCOME_UNKNOWN', error.message));
      await orders.recordEvent(db, order.id, 'cancel.unknown', { cancelSeq: cancel.seq, cancelType: cancel.cancelType, amount: cancel.amount, reason: error.message });
      log.error({ event: 'order.cancel_unknown', ...logFields }, 'cancel outcome unknown; points stay held');
      throw outcomeUnknown();
    }
    // Danal certainly did not refund: the points are the user's again.
    const failure = danalFailure(error);
    const neverSent = error instanceof DanalUnavailableError;
    await restoreUncanceled(db, order, cancel, 'Canceling', failure, undefined, neverSent);
    const stays = statusBeforeCancel(order);
    log.warn({ event: 'order.cancel_failed', ...logFields }, 'Danal did not cancel; points released');
    if (neverSent) throw danalUnavailable(`nothing was refunded and the order stays ${stays}`);
    throw declined(failure, stays);
  }

  return { cancel };
}

export type CancelService = ReturnType<typeof createCancelService>;
