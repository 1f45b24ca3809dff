// Full cancel of a Paid order. The order of steps is what keeps money and
// points together: (1) hold the points and mark the order Canceling in one
// transaction, (2) ask Danal to refund with no lock held, (3) on a refund take
// the held points out; on a refusal release them; on an unknown outcome keep
// them held for the reconciler.
import type { Db } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import { AppError, conflict } from '../lib/errors.js';
import { DanalError, DanalUnavailableError, type DanalGateway } from '../danal/danal-gateway.js';
import { holdPoints } from '../wallet/wallet-ledger.js';
import { completeCancel, restorePaid } from './cancel-steps.js';
import * as orders from './order-repository.js';
import type { Order } from './order-repository.js';
import { DANAL_METHOD_OF } from './order-policy.js';
import { statusCode } from './order-status.js';
import { danalFailure, danalUnavailable, outcomeUnknown } from './danal-failures.js';
import { crashPoint } from '../lib/crash-points.js';

export function createCancelService(deps: { db: Db; danal: DanalGateway; log: Logger }) {
  const { db, danal, log } = deps;

  const notCancelable = (order: Order) =>
    conflict(
      statusCode(order.status),
      order.status === 'Canceling'
        ? `Order ${order.id} is already being canceled`
        : `Only Paid orders can be canceled; order ${order.id} is ${order.status}`,
    );

  async function cancel(userId: string, input: { orderID: string; reason?: string }) {
    const order = await orders.requireOwnOrder(db, input.orderID, userId);
    const reason = input.reason ?? 'customer request';
    if (order.status !== 'Paid') throw notCancelable(order);
    // 1. Reserve the points and mark the order, before Danal hears of it.
    await db.$transaction(async (tx) => {
      if (!(await orders.transition(tx, order.id, 'Paid', 'Canceling', { cancelReason: reason }))) {
        throw notCancelable((await orders.findOrder(tx, order.id))!);
      }
      if (!(await holdPoints(tx, userId, order.pointAmount))) {
        throw conflict('POINTS_ALREADY_USED', `The ${order.pointAmount} points of this order are no longer all in the wallet; it cannot be canceled`);
      }
    });
    // 2. Ask Danal to refund, holding no lock.
    crashPoint('cancel.before_danal');
    try {
      const refund = await danal.cancel({
        transactionId: order.danalTransactionId!,
        method: DANAL_METHOD_OF[order.paymentMethod],
        amount: order.amount,
        cancelType: 'C',
        reason,
      });
      // 3. Refunded: the held points leave the wallet.
      crashPoint('cancel.after_danal');
      const balance = await completeCancel(db, order, 'Canceling', refund);
      crashPoint('cancel.after_commit');
      log.info({ event: 'order.canceled', orderID: order.id, userId, pointAmount: order.pointAmount }, 'order canceled and refunded');
      return { orderID: order.id, status: 'Canceled' as const, canceledAmount: order.amount, balance };
    } catch (error) {
      return handleCancelFailure(order, error);
    }
  }

  async function handleCancelFailure(order: Order, error: unknown): Promise<never> {
    if (!(error instanceof DanalError)) throw error;
    const logFields = { orderID: order.id, userId: order.userId, reason: error.message };
    if (!error.definite) {
      await orders.transition(db, order.id, 'Canceling', 'CancelUnknown', orders.recordFailure('DANAL_OUTCOME_UNKNOWN', error.message));
      await orders.recordEvent(db, order.id, 'cancel.unknown', { reason: error.message });
      log.error({ event: 'order.cancel_unknown', ...logFields }, 'cancel outcome unknown; points stay held');
      throw outcomeUnknown();
    }
    // Danal certainly did not refund: the points are the user's again.
    const failure = danalFailure(error);
    await restorePaid(db, order, 'Canceling', failure);
    log.warn({ event: 'order.cancel_failed', ...logFields }, 'Danal did not cancel; points released');
    if (error instanceof DanalUnavailableError) throw danalUnavailable('nothing was refunded and the order stays Paid');
    throw new AppError(409, 'CANCEL_DECLINED', `Danal refused the cancel: ${failure.message || failure.code} (${failure.code}); the order stays Paid`);
  }

  return { cancel };
}

export type CancelService = ReturnType<typeof createCancelService>;
