// What operators need around the flow: look orders up, a settlement summary
// per day and payment method, and the orders whose outcome at Danal is not
// settled, with a way to have the reconciler try again.
import type { Db } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import { AppError, notFound, conflict } from '../lib/errors.js';
import { findOrder, type Order, type OrderLookup } from '../payments/order-repository.js';
import { orderView } from '../payments/order-view.js';
import { completedCancels, type OrderCancel } from '../payments/cancel-repository.js';
import { pageOfOrders } from '../payments/order-pages.js';
import { rearm, unsettledOrders, type OperatorRetry } from '../payments/reconcile-repository.js';
import { heldDeposits, settleHeldDeposit, type DepositResolution, type HeldDeposit } from '../payments/unsettled-deposits.js';
import { resendEvent } from '../webhooks/webhook-dispatcher.js';

/** Settlement days are Korean calendar days, as Danal settles. */
export const SETTLEMENT_TIME_ZONE = 'Asia/Seoul';

/** The payment object plus what only operators see. */
const operatorView = (order: Order, cancels: OrderCancel[]) => ({
  ...orderView(order, cancels),
  userId: order.userId,
  danalCancelTransactionId: order.danalCancelTransactionId,
  reconcile: { attempts: order.reconcileAttempts, nextAttemptAt: order.nextReconcileAt, gaveUpAt: order.reconcileGaveUpAt },
});

export function createAdminService(deps: { db: Db; log: Logger; webhookUrls: string[] }) {
  const { db, log } = deps;

  const findOrders = (query: Omit<OrderLookup, 'after'> & { cursor?: string }) => pageOfOrders(db, query, operatorView);

  /** One order with its history: events, ledger rows and deposit notifications. */
  async function orderDetail(orderId: string) {
    const order = await findOrder(db, orderId);
    if (!order) throw notFound('ORDER_NOT_FOUND', `No order ${orderId}`);
    const [events, ledger, notifications, cancels] = await Promise.all([
      db.orderEvent.findMany({ where: { orderId }, orderBy: { id: 'asc' } }),
      db.ledgerEntry.findMany({ where: { orderId }, orderBy: { id: 'asc' } }),
      db.depositNotification.findMany({ where: { orderId }, orderBy: { id: 'asc' }, select: { id: true, receivedAt: true, sourceIp: true, outcome: true, reason: true } }),
      completedCancels(db, [orderId]),
    ]);
    return {
      order: operatorView(order, cancels.get(orderId) ?? []),
      events: events.map((e) => ({ id: String(e.id), type: e.type, detail: e.detail, createdAt: e.createdAt })),
      ledger: ledger.map((l) => ({ id: String(l.id), type: l.type, amount: l.amount, balanceAfter: Number(l.balanceAfter), createdAt: l.createdAt })),
      notifications: notifications.map((n) => ({ ...n, id: String(n.id) })),
    };
  }

  /**
   * Per Korean calendar day and payment method: what was paid (by approval
   * time), what was cancelled (each full or partial cancel, by its time), and the difference.
   */
  async function settlement(fromDay: string, toDay: string) {
    const { rows } = await db.pool.query<{ day: string; method: string; paid_count: string; paid_amount: string; canceled_count: string; canceled_amount: string }>(
      `WITH bounds AS (
         SELECT ($1::date::timestamp AT TIME ZONE $3) AS starts, (($2::date + 1)::timestamp AT TIME ZONE $3) AS ends
       ), movements AS (
         SELECT (approved_at AT TIME ZONE $3)::date AS day, payment_method, 1 AS paid, amount AS paid_amount, 0 AS canceled, 0 AS canceled_amount
         FROM payment_orders, bounds
         WHERE status IN ('Paid', 'PartialCanceled', 'Canceling', 'CancelUnknown', 'Canceled') AND approved_at >= bounds.starts AND approved_at < bounds.ends
         UNION ALL
         SELECT (c.completed_at AT TIME ZONE $3)::date, o.payment_method, 0, 0, 1, c.amount
         FROM order_cancels c JOIN payment_orders o ON o.id = c.order_id, bounds
         WHERE c.status = 'Done' AND c.completed_at >= bounds.starts AND c.completed_at < bounds.ends
       )
       SELECT day::text, payment_method::text AS method, sum(paid) AS paid_count, sum(paid_amount) AS paid_amount,
              sum(canceled) AS canceled_count, sum(canceled_amount) AS canceled_amount
       FROM movements GROUP BY day, payment_method ORDER BY day, payment_method`,
      [fromDay, toDay, SETTLEMENT_TIME_ZONE],
    );
    const line = (r: (typeof rows)[number]) => ({
      method: r.method,
      paidCount: Number(r.paid_count),
      paidAmount: Number(r.paid_amount),
      canceledCount: Number(r.canceled_count),
      canceledAmount: Number(r.canceled_amount),
      netAmount: Number(r.paid_amount) - Number(r.canceled_amount),
    });
    const sum = (lines: ReturnType<typeof line>[]) =>
      lines.reduce(
        (t, l) => ({
          paidCount: t.paidCount + l.paidCount,
          paidAmount: t.paidAmount + l.paidAmount,
          canceledCount: t.canceledCount + l.canceledCount,
          canceledAmount: t.canceledAmount + l.canceledAmount,
          netAmount: t.netAmount + l.netAmount,
        }),
        { paidCount: 0, paidAmount: 0, canceledCount: 0, canceledAmount: 0, netAmount: 0 },
      );
    const days = [...new Set(rows.map((r) => r.day))].map((day) => {
      const methods = rows.filter((r) => r.day === day).map(line);
      return { date: day, methods, totals: sum(methods) };
    });
    return { timeZone: SETTLEMENT_TIME_ZONE, from: fromDay, to: toDay, days, totals: sum(rows.map(line)) };
  }

  const depositView = (d: HeldDeposit) => ({
    depositId: d.id,
    orderID: d.orderId,
    userId: d.userId,
    transactionID: d.transactionId,
    amount: d.amount,
    reason: d.reason,
    status: d.status,
    receivedAt: d.createdAt,
    orderStatus: d.orderStatus,
    orderAmount: d.orderAmount,
    resolvedAt: d.resolvedAt,
    resolvedBy: d.resolvedBy,
    resolutionNote: d.resolutionNote,
  });

  /** Deposits Danal reported that could not be credited, in one state (Open: waiting for an operator). */
  async function deposits(status: HeldDeposit['status']) {
    return { deposits: (await heldDeposits(db.pool, status)).map(depositView) };
  }

  /** An operator's decision on an Open held deposit: credit it to its order, or record that it was returned. */
  async function settleDeposit(depositId: string, resolution: DepositResolution, note: string | undefined) {
    const client = await db.pool.connect();
    let result;
    try {
      result = await settleHeldDeposit(client, depositId, resolution, 'admin API', note ?? null);
    } finally {
      client.release();
    }
    if (!result.settled) {
      if (result.refusal === 'not_found') throw notFound('DEPOSIT_NOT_FOUND', result.why);
      throw conflict(result.refusal === 'not_open' ? 'DEPOSIT_ALREADY_SETTLED' : 'DEPOSIT_NOT_CREDITABLE', result.why);
    }
    log.warn({ event: 'admin.deposit_settled', depositId, orderID: result.deposit.orderId, resolution }, 'operator settled a held deposit');
    return depositView(result.deposit);
  }

  async function stuckOrders() {
    const [rows, held] = await Promise.all([unsettledOrders(db.pool), heldDeposits(db.pool)]);
    return {
      deposits: held.map(depositView),
      orders: rows.map((r) => ({
        orderID: r.id,
        status: r.status,
        userId: r.user_id,
        amount: r.amount,
        transactionID: r.danal_transaction_id,
        attempts: r.reconcile_attempts,
        nextAttemptAt: r.next_reconcile_at,
        needsOperator: r.reconcile_gave_up_at !== null,
        gaveUpAt: r.reconcile_gave_up_at,
        lastReason: r.last_reason,
      })),
    };
  }

  async function retryResolution(orderId: string, retry: OperatorRetry) {
    const result = await rearm(db.pool, orderId, retry, 'admin API');
    if (!result.rearmed) {
      if (result.status === undefined) throw notFound('ORDER_NOT_FOUND', `No order ${orderId}`);
      if (result.refusal === 'answer_does_not_fit') {
        const answer = result.status === 'ConfirmUnknown' ? 'approvedAmount (what Danal approved)' : 'cancelOutcome (whether Danal refunded)';
        throw new AppError(422, 'ANSWER_DOES_NOT_FIT', `Order ${orderId} is ${result.status}: answer it with ${answer} or with nothing, not the other field`);
      }
      throw conflict('ORDER_NOT_UNSETTLED', `Order ${orderId} is ${result.status}; only ConfirmUnknown and CancelUnknown orders are retried`);
    }
    log.warn({ event: 'admin.reconcile_retry', orderID: orderId, ...retry }, 'operator asked the reconciler to try again');
    return { orderID: orderId, scheduled: true };
  }

  /** Webhook deliveries, newest first, optionally in one state (dead ones are what an operator re-sends). */
  async function webhookDeliveries(state: string | undefined, limit: number) {
    const { rows } = await db.pool.query<{
      event_id: string; order_id: string; status: string; url: string; state: string; attempts: number;
      next_attempt_at: Date; last_status: number | null; last_error: string | null; delivered_at: Date | null; created_at: Date;
    }>(
      `SELECT d.event_id, e.order_id, e.status::text, d.url, d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.delivered_at, e.created_at
       FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE ($1::text IS NULL OR d.state = $1) ORDER BY d.id DESC LIMIT $2`,
      [state ?? null, limit],
    );
    return {
      deliveries: rows.map((r) => ({
        eventId: r.event_id, orderID: r.order_id, orderStatus: r.status, url: r.url, state: r.state, attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at, lastStatus: r.last_status, lastError: r.last_error, deliveredAt: r.delivered_at, createdAt: r.created_at,
      })),
    };
  }

  async function resendWebhook(eventId: string) {
    const deliveries = await resendEvent(db, eventId, deps.webhookUrls);
    if (deliveries === 0) throw notFound('EVENT_NOT_FOUND', `No webhook event ${eventId} with a delivery to re-send`);
    log.warn({ event: 'admin.webhook_resend', eventId, deliveries }, 'operator re-sent a webhook event');
    return { eventId, deliveries };
  }

  return { findOrders, orderDetail, settlement, stuckOrders, retryResolution, webhookDeliveries, resendWebhook, deposits, settleDeposit };
}

export type AdminService = ReturnType<typeof createAdminService>;
