// The charge use cases: create an order, confirm it with Danal, show it.
// Rules: the stored order is the truth about money; no row lock is held while
// Danal is called; an answer we did not get is recorded as unknown, never as
// a failure or a success.
import { randomBytes } from 'node:crypto';
import { isUniqueViolation, type Db } from '../db/prisma.js';
import type { IdempotencyRef } from '../idempotency/idempotency-store.js';
import type { Logger } from '../lib/logger.js';
import { AppError, conflict } from '../lib/errors.js';
import { danalFailure, danalUnavailable, outcomeUnknown } from './danal-failures.js';
import type { PaymentMethod } from '../generated/prisma/enums.js';
import { DanalDeclinedError, DanalError, DanalUnavailableError, type Approval, type DanalGateway } from '../danal/danal-gateway.js';
import { formatDanalDateTime } from '../danal/danal-http-client.js';
import { balanceOf, payOrderAndCredit } from '../wallet/wallet-ledger.js';
import * as orders from './order-repository.js';
import type { Order } from './order-repository.js';
import { CONFIRM_METHOD_OF, DANAL_METHOD_OF, amountProblem, newOrderId, pointsFor, receiptSplit, type OrderPolicy } from './order-policy.js';
import { statusCode } from './order-status.js';
import { orderView, virtualAccountView } from './order-view.js';
import { completedCancels } from './cancel-repository.js';
import { crashPoint } from '../lib/crash-points.js';
import { pageOfOrders } from './order-pages.js';

export interface CheckoutUrls {
  successUrl: () => string;
  failUrl: () => string;
  /** The order's notiUrl: the notification path with the order's token as its last segment. */
  notiUrl: (token: string) => string;
  /** Sandbox only: our imitation of Danal's payment window. */
  sandboxCheckoutUrl?: () => string;
}

export interface PaymentServiceDeps {
  db: Db;
  danal: DanalGateway;
  policy: OrderPolicy;
  merchantId: string;
  mobileItemCode: string;
  urls: CheckoutUrls;
  log: Logger;
  now?: () => Date;
}

export function createPaymentService(deps: PaymentServiceDeps) {
  const { db, danal, policy, log } = deps;
  const now = deps.now ?? (() => new Date());

  function checkoutFor(order: Order, userId: string) {
    const paymentsMethod = DANAL_METHOD_OF[order.paymentMethod];
    const checkout: Record<string, string | number> = {
      merchantId: deps.merchantId,
      paymentsMethod,
      orderId: order.id,
      orderName: order.orderName,
      amount: order.amount,
      userId,
      successUrl: deps.urls.successUrl(),
      failUrl: deps.urls.failUrl(),
    };
    if (paymentsMethod === 'VACCOUNT') {
      if (order.notiToken) checkout.notiUrl = deps.urls.notiUrl(order.notiToken);
      // The deposit deadline, so that Danal's account closes when ours does (Korea time, to the minute).
      const deadline = formatDanalDateTime(order.vaccountDueAt!);
      checkout.expireDate = deadline.slice(0, 8);
      checkout.expireTime = deadline.slice(8, 12);
    }
    if (paymentsMethod === 'MOBILE') checkout.itemCode = deps.mobileItemCode;
    if (deps.urls.sandboxCheckoutUrl) {
      const query = new URLSearchParams(Object.entries(checkout).map(([k, v]) => [k, String(v)]));
      checkout.sandboxCheckoutUrl = `${deps.urls.sandboxCheckoutUrl()}?${query}`;
    }
    return checkout;
  }

  /** The deposit deadline of a new virtual account: VACCOUNT_DEPOSIT_MINUTES from now, to the minute Danal takes. */
  function depositDeadline(): Date {
    const at = now().getTime() + policy.vaccountDepositMinutes * 60_000;
    return new Date(at - (at % 60_000));
  }

  type NewOrderInput = { amount: number; paymentMethod: PaymentMethod };

  /**
   * Creates the order, or, under an Idempotency-Key that already created one
   * (an answer lost, a crash, a takeover), answers with that order: the key's
   * id on the order is unique per user, so two tries never make two orders.
   */
  async function createOrder(userId: string, input: NewOrderInput, key?: IdempotencyRef) {
    const problem = amountProblem(input.amount, policy);
    if (problem) throw new AppError(400, 'INVALID_AMOUNT', `amount ${problem}`, [{ field: 'amount', message: problem }]);
    const earlier = key && (await orders.findOrderByIdempotency(db, userId, key.id));
    if (earlier) return createdAnswer(earlier, input);
    let order: Order;
    try {
      order = await orders.createOrder(db, {
        id: newOrderId(),
        userId,
        orderName: policy.orderName,
        amount: input.amount,
        pointAmount: pointsFor(input.amount, policy),
        ...receiptSplit(input.amount),
        paymentMethod: input.paymentMethod,
        expiresAt: new Date(now().getTime() + policy.ttlMinutes * 60_000),
        vaccountDueAt: input.paymentMethod === 'VirtualAccount' ? depositDeadline() : undefined,
        idempotencyId: key?.id,
        // Danal posts the deposit to the notiUrl we give it; the token in it says the post is about this order.
        notiToken: input.paymentMethod === 'VirtualAccount' ? randomBytes(24).toString('base64url') : null,
      });
    } catch (error) {
      // The same key at the same moment on another process: its order is this request's.
      const raced = key && isUniqueViolation(error) && (await orders.findOrderByIdempotency(db, userId, key.id));
      if (raced) return createdAnswer(raced, input);
      throw error;
    }
    log.info({ event: 'order.created', orderID: order.id, userId, amount: order.amount, paymentMethod: order.paymentMethod }, 'order created');
    return createdAnswer(order, input);
  }

  /** What creating `order` answered; refused when the key's order was asked with another body. */
  function createdAnswer(order: Order, input: NewOrderInput) {
    if (order.amount !== input.amount || order.paymentMethod !== input.paymentMethod) {
      throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key created an order with another amount or payment method; use a new key for a new request');
    }
    return {
      orderID: order.id,
      amount: order.amount,
      pointAmount: order.pointAmount,
      paymentMethod: order.paymentMethod,
      // The creation's answer, also when it is repeated later: the order as it was created.
      status: 'Pending' as const,
      orderName: order.orderName,
      expiresAt: order.expiresAt,
      checkout: checkoutFor(order, order.userId),
    };
  }

  const loadOwnOrder = (userId: string, orderId: string) => orders.requireOwnOrder(db, orderId, userId);

  async function confirmedResult(order: Order) {
    if (order.status === 'WaitingForDeposit') {
      return { orderID: order.id, status: order.status, pointAmount: order.pointAmount, virtualAccount: virtualAccountView(order) };
    }
    return {
      orderID: order.id,
      status: order.status,
      pointAmount: order.pointAmount,
      paidAt: order.approvedAt,
      balance: await balanceOf(db, order.userId),
    };
  }

  /** What a confirm of an order that is not Pending answers. */
  async function answerForSettled(order: Order, transactionId: string) {
    const confirmedBefore = order.status === 'Paid' || order.status === 'WaitingForDeposit';
    if (confirmedBefore && order.danalTransactionId === transactionId) return confirmedResult(order);
    if (confirmedBefore) throw conflict('ORDER_ALREADY_CONFIRMED', `Order ${order.id} was confirmed with another transactionID`);
    if (order.status === 'Pending') {
      // The claim failed on expiry, or a concurrent confirm took the order and then
      // released it (Danal unreachable): only the first is an expiry.
      if (order.expiresAt > now()) {
        throw conflict(statusCode(order.status), `Another confirm of order ${order.id} just ended without reaching Danal; ask again`);
      }
      await orders.transition(db, order.id, 'Pending', 'Expired', {}, { expiresAt: { lte: now() } });
      throw conflict('ORDER_EXPIRED', `Order ${order.id} expired at ${order.expiresAt.toISOString()}; create a new order`);
    }
    if (order.status === 'Confirming') {
      throw conflict(statusCode(order.status), `Another confirm of order ${order.id} is waiting for Danal; ask again in a moment`);
    }
    throw conflict(statusCode(order.status), `Order ${order.id} is ${order.status} and cannot be confirmed`);
  }

  async function confirm(userId: string, input: { orderID: string; transactionID: string; method: string }) {
    const order = await loadOwnOrder(userId, input.orderID);
    if (CONFIRM_METHOD_OF[order.paymentMethod] !== input.method) {
      throw new AppError(400, 'METHOD_MISMATCH', `method must be ${CONFIRM_METHOD_OF[order.paymentMethod]} for a ${order.paymentMethod} order`, [
        { field: 'method', message: `expected ${CONFIRM_METHOD_OF[order.paymentMethod]}` },
      ]);
    }
    if (order.status !== 'Pending') return answerForSettled(order, input.transactionID);

    const danalMethod = DANAL_METHOD_OF[order.paymentMethod];
    const transactionId = input.transactionID;
    let claimed: boolean;
    try {
      claimed = await orders.claimForConfirm(db, order.id, transactionId, danalMethod, now());
    } catch (error) {
      if (isUniqueViolation(error)) throw await transactionHeldElsewhere(transactionId);
      throw error;
    }
    if (!claimed) return answerForSettled(await loadOwnOrder(userId, order.id), transactionId);

    let approval: Approval;
    crashPoint('confirm.before_danal');
    try {
      approval = await danal.confirm({ transactionId, orderId: order.id, amount: order.amount, method: danalMethod });
    } catch (error) {
      return handleConfirmFailure(order, transactionId, error);
    }
    crashPoint('confirm.after_danal');
    if (approval.transactionId !== transactionId || approval.orderId !== order.id) {
      await orders.markConfirmUnknown(
        db,
        order.id,
        { code: 'DANAL_ECHO_MISMATCH', message: 'Danal approved another transaction or order' },
        { transactionId: approval.transactionId, amount: approval.amount },
      );
      log.error({ event: 'order.confirm_unknown', orderID: order.id, userId, reason: 'echo mismatch' }, 'Danal echo does not match the order');
      throw outcomeUnknown();
    }
    if (approval.amount !== order.amount) return refundWrongAmount(order, approval);

    if (order.paymentMethod === 'VirtualAccount' && approval.virtualAccount) {
      // An account was issued; the points wait for the deposit notification.
      const issued = await orders.transition(db, order.id, 'Confirming', 'WaitingForDeposit', {
        approvedAt: approval.approvedAt,
        ...orders.virtualAccountColumns(approval.virtualAccount),
      });
      if (!issued) return lostClaim(order, approval);
      log.info({ event: 'order.account_issued', orderID: order.id, userId }, 'virtual account issued');
      return confirmedResult(await loadOwnOrder(userId, order.id));
    }
    const balance = await payOrderAndCredit(db, order.id, approval.approvedAt);
    if (balance === null) return lostClaim(order, approval);
    crashPoint('confirm.after_commit');
    log.info({ event: 'order.confirmed', orderID: order.id, userId, pointAmount: order.pointAmount }, 'order paid and credited');
    return { orderID: order.id, status: 'Paid' as const, pointAmount: order.pointAmount, paidAt: approval.approvedAt, balance };
  }

  /** Another order holds the transaction: for good once Danal approved it there, for a moment while its confirm is open. */
  async function transactionHeldElsewhere(transactionId: string) {
    const holder = await orders.holderOfTransaction(db, transactionId);
    if (holder?.status === 'Confirming') {
      return conflict('TRANSACTION_BEING_CONFIRMED', `Another confirm with transactionID ${transactionId} is waiting for Danal's answer; ask again in a moment`);
    }
    if (holder?.status === 'ConfirmUnknown') {
      return conflict('TRANSACTION_BEING_CONFIRMED', `Another confirm with transactionID ${transactionId} lost Danal's answer and is being settled; ask again later`);
    }
    return conflict('TRANSACTION_ALREADY_USED', `transactionID ${transactionId} belongs to another order`);
  }

  /**
   * Danal approved, but the order had left Confirming meanwhile: the reconciler
   * took it for a lost request and settles it now (a net cancel). Nothing is
   * credited here; what Danal approved is recorded for the net cancel, and the
   * client hears what it would have heard had the answer never come.
   */
  async function lostClaim(order: Order, approval: Approval): Promise<never> {
    await orders.recordEvent(db, order.id, 'confirm.unknown', {
      code: 'CLAIM_LOST',
      reason: 'Danal approved after the order had left Confirming',
      approval: { transactionId: approval.transactionId, amount: approval.amount },
    });
    log.error({ event: 'order.confirm_unknown', orderID: order.id, userId: order.userId, reason: 'claim lost' }, 'Danal approved an order that had left Confirming');
    throw outcomeUnknown();
  }

  async function handleConfirmFailure(order: Order, transactionId: string, error: unknown): Promise<never> {
    if (!(error instanceof DanalError)) throw error;
    if (error instanceof DanalUnavailableError) {
      // Never sent: free the order so the buyer can confirm again.
      await orders.transition(db, order.id, 'Confirming', 'Pending', { danalTransactionId: null, danalMethod: null });
      log.warn({ event: 'order.confirm_unsent', orderID: order.id, userId: order.userId, reason: error.reason }, 'Danal unreachable');
      throw danalUnavailable('nothing was charged');
    }
    if (!error.definite) {
      await orders.markConfirmUnknown(db, order.id, { code: 'DANAL_OUTCOME_UNKNOWN', message: error.message });
      log.error({ event: 'order.confirm_unknown', orderID: order.id, userId: order.userId, reason: error.message }, 'confirm outcome unknown');
      throw outcomeUnknown();
    }
    // Danal approved nothing: the order lets go of the transaction, which may not even be its own
    // (its owner can still confirm with it); the history keeps what was tried.
    const failure = danalFailure(error);
    await db.$transaction(async (tx) => {
      if (!(await orders.transition(tx, order.id, 'Confirming', 'Failed', { ...orders.recordFailure(failure.code, failure.message), danalTransactionId: null }))) return;
      await orders.recordEvent(tx, order.id, 'confirm.declined', { transactionId, code: failure.code, ...(error instanceof DanalDeclinedError && { danalMessage: error.danalMessage }) });
    });
    log.warn({ event: 'order.failed', orderID: order.id, userId: order.userId, danalCode: failure.code }, 'Danal declined the payment');
    throw new AppError(402, 'PAYMENT_DECLINED', `Danal declined the payment: ${failure.message || failure.code} (${failure.code})`);
  }

  /** Danal approved an amount that is not the order's: give the money back, credit nothing. */
  async function refundWrongAmount(order: Order, approval: Approval): Promise<never> {
    const logFields = { orderID: order.id, userId: order.userId, approvedAmount: approval.amount, orderAmount: order.amount };
    try {
      const refund = await danal.cancel({
        transactionId: approval.transactionId,
        method: DANAL_METHOD_OF[order.paymentMethod],
        amount: approval.amount,
        cancelType: 'C',
        reason: 'approved amount differs from the order',
      });
      await orders.transition(db, order.id, 'Confirming', 'Failed', {
        ...orders.recordFailure('AMOUNT_MISMATCH', `Danal approved ${approval.amount} KRW for an order of ${order.amount} KRW; the approval was canceled`),
        danalCancelTransactionId: refund.cancelTransactionId,
      });
      log.warn({ event: 'order.failed', reason: 'amount mismatch, approval canceled', ...logFields }, 'approved amount differs; approval canceled');
    } catch (error) {
      if (!(error instanceof DanalError)) throw error;
      // The money is approved and not yet returned: leave it for the reconciler's net cancel.
      await orders.markConfirmUnknown(
        db,
        order.id,
        { code: 'AMOUNT_MISMATCH_REFUND_PENDING', message: `Danal approved ${approval.amount} KRW for an order of ${order.amount} KRW; canceling it failed: ${error.message}` },
        { transactionId: approval.transactionId, amount: approval.amount },
      );
      log.error({ event: 'order.confirm_unknown', reason: 'amount mismatch, refund failed', ...logFields }, 'approved amount differs; refund pending');
    }
    throw conflict('AMOUNT_MISMATCH', `Danal approved ${approval.amount} KRW but the order is for ${order.amount} KRW; nothing was credited and the approval is being returned`);
  }

  async function getOrder(userId: string, orderId: string) {
    const order = await loadOwnOrder(userId, orderId);
    const cancels = order.canceledAmount > 0 ? await completedCancels(db, [order.id]) : new Map();
    return orderView(order, cancels.get(order.id) ?? []);
  }

  /** One page of the user's orders, newest first; `cursor` is the previous page's nextCursor. */
  const listOrders = (userId: string, query: Omit<orders.OrderFilter, 'after'> & { cursor?: string }) => pageOfOrders(db, { ...query, userId });

  return { createOrder, confirm, getOrder, listOrders };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
