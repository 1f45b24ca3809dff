// One chaos flow as a user, the buyer's window and Danal would play it,
// following its plan. It records what the client was told, so that the end
// of the run can check the final state against it.
import { randomUUID } from 'node:crypto';
import type { Answer, ChaosClient } from './client.js';
import type { FlowPlan } from './plan.js';

export interface ChaosUser {
  token: string;
}

export interface FlowResult {
  orderId?: string;
  faults: string[];
  /** The client was told the order is Paid (a 200 confirm or deposit credited). */
  toldPaid: boolean;
  /** The client was told the order is Canceled. */
  toldCanceled: boolean;
  /** The client was told a part of the order was refunded. */
  toldPartiallyCanceled: boolean;
  answers: number[];
}

const FAULTS = {
  latency: () => ({ kind: 'timeout', delayMs: 50 + Math.floor(Math.random() * 400) }), // slow, within the 1 s timeout
  timeout: () => ({ kind: 'timeout', delayMs: 1_200 + Math.floor(Math.random() * 1_300) }),
  cutoff: () => ({ kind: 'cutoff' }),
  error: () => ({ kind: 'error', code: 'CHAOS_DECLINE', message: 'chaos decline' }),
  server_error: () => ({ kind: 'server_error' }),
  different_amount: () => ({ kind: 'different_amount' }),
} as const;

const DANAL_METHOD = (va: boolean) => (va ? 'VACCOUNT' : 'CARD');
const CONFIRM_METHOD = (va: boolean) => (va ? 'VIRTUAL_ACCOUNT' : 'CARD');

export async function runFlow(plan: FlowPlan, user: ChaosUser, client: ChaosClient): Promise<FlowResult> {
  const result: FlowResult = { faults: [], toldPaid: false, toldCanceled: false, toldPartiallyCanceled: false, answers: [] };
  const token = user.token;
  const keyed = () => (plan.useIdempotencyKey ? randomUUID() : undefined);

  const order = await client.call('POST', '/api/payment/order', { token, key: keyed(), body: { amount: plan.amount, paymentMethod: plan.virtualAccount ? 'VirtualAccount' : 'Card' } });
  result.answers.push(order.status);
  if (order.status !== 201) return result;
  const orderId: string = order.body.data.orderID;
  result.orderId = orderId;
  if (plan.abandon) return result;

  const auth = await client.call('POST', '/sandbox/danal/authorize', { body: { orderId, amount: plan.amount, method: DANAL_METHOD(plan.virtualAccount) } });
  if (auth.status !== 201) return result;
  const transactionId: string = auth.body.transactionId;
  const notification = { code: 'SUCCESS', message: '입금완료', transactionID: transactionId, orderID: orderId, amount: String(plan.amount) };

  if (plan.earlyNotification) {
    result.faults.push('notification:early');
    result.answers.push((await client.call('POST', '/api/payment/noti/vaccount', { body: notification })).status);
  }
  if (plan.confirmFault) {
    result.faults.push(`confirm:${plan.confirmFault}`);
    await client.call('POST', '/sandbox/danal/faults', { body: { operation: 'confirm', orderId, ...FAULTS[plan.confirmFault]() } });
  }
  const confirmKey = keyed();
  const confirms = await Promise.all(
    Array.from({ length: plan.confirmCopies }, () =>
      client.call('POST', '/api/payment/confirm', { token, key: confirmKey, body: { orderID: orderId, transactionID: transactionId, method: CONFIRM_METHOD(plan.virtualAccount) } }),
    ),
  );
  result.answers.push(...confirms.map((c) => c.status));
  const confirmed = confirms.find((c) => c.status === 200)?.body.data;
  if (confirmed?.status === 'Paid') result.toldPaid = true;

  if (confirmed?.status === 'WaitingForDeposit' && plan.deposit) {
    // Danal's notification, and its resends.
    for (let i = 0; i <= plan.depositReplays; i++) {
      const deposit = await client.call('POST', '/sandbox/danal/deposit', { body: { transactionId } });
      if (deposit.body?.reply?.code === 'SUCCESS') result.toldPaid = true;
      if (i > 0) result.faults.push('notification:replayed');
    }
    if (plan.handReplayedNotification) {
      result.faults.push('notification:replayed');
      result.answers.push((await client.call('POST', '/api/payment/noti/vaccount', { body: notification })).status);
    }
  }

  if (result.toldPaid && plan.cancel) {
    if (plan.cancelFault) {
      result.faults.push(`cancel:${plan.cancelFault}`);
      await client.call('POST', '/sandbox/danal/faults', { body: { operation: 'cancel', orderId, ...FAULTS[plan.cancelFault]() } });
    }
    const cancelKey = keyed();
    const part = plan.partialShare ? { amount: (plan.amount * plan.partialShare) / 4 } : {};
    const cancels = await Promise.all(
      Array.from({ length: plan.cancelCopies }, () =>
        client.call('POST', '/api/payment/cancel', { token, key: cancelKey, body: { orderID: orderId, ...part, reason: 'chaos' } }),
      ),
    );
    noteCancels(result, cancels);
    if (plan.partialShare && plan.cancelRest && result.toldPartiallyCanceled && !result.toldCanceled) {
      noteCancels(result, [await client.call('POST', '/api/payment/cancel', { token, key: keyed(), body: { orderID: orderId, reason: 'chaos: the rest' } })]);
    }
  }
  return result;
}

function noteCancels(result: FlowResult, cancels: Answer[]) {
  result.answers.push(...cancels.map((c) => c.status));
  for (const c of cancels.filter((c) => c.status === 200)) {
    if (c.body.data.status === 'Canceled') result.toldCanceled = true;
    else result.toldPartiallyCanceled = true;
  }
}
