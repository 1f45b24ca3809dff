// The reconciler brings every order whose outcome at Danal is unknown to a
// final state, and expires what waited too long. Danal publishes no lookup API
// (danal-api.md section 7), so the only way to settle an unknown is to act:
// - ConfirmUnknown: cancel the Danal transaction (net cancel) and fail the
//   order. Nothing is credited by assumption; money Danal may have taken goes back.
// - CancelUnknown: send the same cancel again until Danal answers definitely,
//   when that is safe: a cancel of everything that remains (cancelType C)
//   cannot refund twice, since a repeat finds nothing left. A partial cancel
//   (P) repeated after a lost success would refund its amount again, so it
//   waits for an operator, who reads Danal's console and says what happened.
// Attempts back off exponentially; when they run out the order waits for an
// operator (npm run ops:stuck). Every step is an order_events row.
import type { Db } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import { DanalDeclinedError, DanalError, type DanalGateway, type DanalMethod } from '../danal/danal-gateway.js';
import { danalFailure } from './danal-failures.js';
import { completeCancel, restoreUncanceled } from './cancel-steps.js';
import { inFlightCancel, type OrderCancel } from './cancel-repository.js';
import * as orders from './order-repository.js';
import type { Order } from './order-repository.js';
import * as repo from './reconcile-repository.js';

// Danal's answers that settle a net cancel. Danal's real codes are not
// published (danal-api.md section 6); these are the sandbox's, kept here only.
const NEVER_APPROVED = new Set(['NOT_APPROVED', 'TRANSACTION_NOT_FOUND']);
const ALREADY_CANCELED = 'ALREADY_CANCELED';

/** Danal gave a definite answer that no retry can change: only an operator can settle the order. */
class NeedsOperator extends Error {}

export interface ReconcilerSettings {
  /** A Confirming or Canceling order untouched this long has lost its request. */
  staleAfterMs: number;
  /** Delay before the first attempt, doubled for each further one up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  /** How long one attempt may take (a Danal call and its commit): the order's lease. */
  attemptLeaseMs: number;
}

export interface SweepReport {
  expiredOrders: number;
  expiredAccounts: number;
  orphaned: number;
  attempted: number;
  resolved: number;
  retrying: number;
  gaveUp: number;
}

export function createReconciler(deps: { db: Db; danal: DanalGateway; log: Logger; settings: ReconcilerSettings; now?: () => Date }) {
  const { db, danal, log, settings } = deps;
  const now = deps.now ?? (() => new Date());

  function backoffMs(attempt: number): number {
    const exponential = Math.min(settings.retryBaseMs * 2 ** Math.max(0, attempt - 1), settings.retryMaxMs);
    const jittered = exponential * (0.8 + Math.random() * 0.4); // spread retries of many orders apart
    return Math.max(jittered, settings.attemptLeaseMs);
  }

  async function failConfirmed(order: Order, code: string, message: string, event: string, detail: Record<string, unknown>) {
    await db.$transaction(async (tx) => {
      const moved = await orders.transition(tx, order.id, 'ConfirmUnknown', 'Failed', {
        ...orders.recordFailure(code, message),
        ...(typeof detail.cancelTransactionId === 'string' && { danalCancelTransactionId: detail.cancelTransactionId }),
        // Never approved: the transaction may be another buyer's, who must still be able to confirm with it.
        ...(code === 'NOT_APPROVED' && { danalTransactionId: null }),
      });
      if (!moved) throw new Error(`order ${order.id} left ConfirmUnknown while the reconciler held it`);
      await orders.recordEvent(tx, order.id, event, detail);
    });
    log.warn({ event: 'order.reconciled', orderID: order.id, userId: order.userId, outcome: event }, `unknown confirm settled: ${message}`);
  }

  /**
   * Net cancel: whatever Danal approved goes back, and the order fails. Only
   * the transaction this order claimed is ever canceled: an answer of Danal's
   * that named another one is a discrepancy for an operator, since canceling
   * it could refund a payment that is not this order's.
   */
  async function settleConfirm(order: Order): Promise<void> {
    const claimed = order.danalTransactionId!;
    const recorded = await repo.approvalOnRecord(db, order.id);
    if (recorded && recorded.transactionId !== claimed) {
      throw new NeedsOperator(
        `Danal's answer named transaction ${recorded.transactionId}, not ${claimed} which this order claimed; nothing is canceled by assumption. ` +
          `Check both in Danal's console, then: npm run ops:stuck -- --retry ${order.id} --approved-amount <KRW approved for ${claimed}>`,
      );
    }
    const approval = { transactionId: claimed, amount: recorded?.amount ?? order.amount };
    try {
      const refund = await danal.cancel({
        transactionId: approval.transactionId,
        method: order.danalMethod as DanalMethod,
        amount: approval.amount,
        cancelType: 'C',
        reason: 'net cancel: the confirm outcome was unknown',
      });
      await failConfirmed(order, 'NET_CANCELED', `The confirm's outcome was unknown; Danal's approval of ${approval.amount} KRW was canceled`, 'reconcile.net_canceled', {
        transactionId: approval.transactionId,
        amount: approval.amount,
        cancelTransactionId: refund.cancelTransactionId,
      });
    } catch (error) {
      if (error instanceof DanalDeclinedError && NEVER_APPROVED.has(error.code)) {
        return failConfirmed(order, 'NOT_APPROVED', 'Danal never approved the payment; nothing was charged', 'reconcile.not_approved', { transactionId: approval.transactionId, danalCode: error.code });
      }
      if (error instanceof DanalDeclinedError && error.code === ALREADY_CANCELED) {
        return failConfirmed(order, 'NET_CANCELED', "Danal's approval had already been canceled; nothing is charged", 'reconcile.already_canceled', { transactionId: approval.transactionId });
      }
      if (error instanceof DanalDeclinedError) {
        // Typically a full cancel of an amount other than the one approved: the process that heard
        // Danal's answer died before recording it. Danal's console shows what was approved.
        throw new NeedsOperator(
          `Danal refused the net cancel of ${approval.amount} KRW: ${error.code} ${error.danalMessage}. ` +
            `Check the approval in Danal's console, then: npm run ops:stuck -- --retry ${order.id} --approved-amount <KRW>`,
        );
      }
      throw error;
    }
  }

  /** The cancel again: Danal refunds, says it already has, or refuses for certain. */
  async function settleCancel(order: Order): Promise<void> {
    const cancel = await inFlightCancel(db, order.id);
    if (!cancel) throw new Error(`order ${order.id} is CancelUnknown without a cancel in flight`);
    const ruling = await repo.operatorCancelRuling(db, order.id, cancel.seq);
    if (ruling === 'refunded') {
      await completeCancel(db, order, cancel, 'CancelUnknown', { cancelTransactionId: null, canceledAt: now() }, { type: 'reconcile.operator_refunded', detail: {} });
    } else if (ruling === 'not_refunded') {
      await restoreUncanceled(db, order, cancel, 'CancelUnknown', { code: 'NOT_REFUNDED', message: "an operator found in Danal's console that nothing was refunded" }, { type: 'reconcile.operator_not_refunded', detail: {} });
    } else if (cancel.cancelType === 'P') {
      throw new NeedsOperator(
        `The partial cancel #${cancel.seq} of ${cancel.amount} KRW cannot be sent again safely. Check in Danal's console whether it was refunded, then: ` +
          `npm run ops:stuck -- --retry ${order.id} --cancel-outcome refunded|not-refunded`,
      );
    } else {
      await repeatCancel(order, cancel);
    }
    log.warn({ event: 'order.reconciled', orderID: order.id, userId: order.userId, cancelSeq: cancel.seq }, 'unknown cancel settled');
  }

  async function repeatCancel(order: Order, cancel: OrderCancel): Promise<void> {
    try {
      const refund = await danal.cancel({
        transactionId: order.danalTransactionId!,
        method: order.danalMethod as DanalMethod,
        amount: cancel.amount,
        cancelType: 'C',
        reason: cancel.reason,
      });
      await completeCancel(db, order, cancel, 'CancelUnknown', refund, { type: 'reconcile.canceled', detail: { cancelTransactionId: refund.cancelTransactionId } });
    } catch (error) {
      if (!(error instanceof DanalDeclinedError)) throw error;
      if (error.code === ALREADY_CANCELED) {
        // The earlier attempt went through; Danal does not repeat its cancel id.
        await completeCancel(db, order, cancel, 'CancelUnknown', { cancelTransactionId: null, canceledAt: now() }, { type: 'reconcile.already_canceled', detail: { danalCode: error.code } });
      } else {
        await restoreUncanceled(db, order, cancel, 'CancelUnknown', danalFailure(error), { type: 'reconcile.cancel_refused', detail: { danalCode: error.code, danalMessage: error.danalMessage } });
      }
    }
  }

  /** One attempt at one order: settled, retried later, or left for an operator. */
  async function attempt(order: Order): Promise<'resolved' | 'retrying' | 'gaveUp'> {
    try {
      await (order.status === 'ConfirmUnknown' ? settleConfirm(order) : settleCancel(order));
      return 'resolved';
    } catch (error) {
      if (!(error instanceof DanalError) && !(error instanceof NeedsOperator)) throw error;
      const reason = error.message;
      const logFields = { orderID: order.id, status: order.status, attempt: order.reconcileAttempts, reason };
      if (error instanceof NeedsOperator || order.reconcileAttempts >= settings.maxAttempts) {
        await repo.giveUp(db, order, reason);
        log.error({ event: 'order.reconcile_gave_up', ...logFields }, 'reconciler gave up; an operator must settle this order');
        return 'gaveUp';
      }
      await repo.scheduleRetry(db, order, new Date(now().getTime() + backoffMs(order.reconcileAttempts)), reason);
      log.warn({ event: 'order.reconcile_retry', ...logFields }, 'order not settled yet; will retry');
      return 'retrying';
    }
  }

  /** One pass: expire, find orphans, try every unknown order that is due. */
  async function sweep(): Promise<SweepReport> {
    const at = now();
    const expired = await repo.expireDue(db, at);
    const orphaned = await repo.markOrphaned(db, new Date(at.getTime() - settings.staleAfterMs));
    const report: SweepReport = { expiredOrders: expired.pending.length, expiredAccounts: expired.accounts.length, orphaned: orphaned.length, attempted: 0, resolved: 0, retrying: 0, gaveUp: 0 };
    for (;;) {
      const due = await repo.claimDue(db, now(), settings.retryBaseMs, new Date(now().getTime() + settings.attemptLeaseMs), 20);
      if (due.length === 0) break;
      report.attempted += due.length;
      const outcomes = await Promise.allSettled(due.map(attempt));
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome.status === 'fulfilled') report[outcome.value] += 1;
        // A database error: the lease runs out and a later sweep tries again.
        else log.error({ event: 'order.reconcile_error', orderID: due[i]!.id, err: outcome.reason }, 'reconcile attempt failed');
      }
    }
    if (orphaned.length > 0) log.warn({ event: 'orders.orphaned', orderIDs: orphaned }, 'orders left in flight by a lost request');
    const busy = report.expiredOrders + report.expiredAccounts + report.orphaned + report.attempted > 0;
    if (busy) log.info({ event: 'reconcile.sweep', ...report }, 'reconciler sweep');
    return report;
  }

  return { sweep };
}

export type Reconciler = ReturnType<typeof createReconciler>;
