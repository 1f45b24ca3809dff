// One chaos flow as a user, the buyer's window and Danal would play it,
// following its plan. It records what the client was told, so that the end
// of the run can check the final state against it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Answer, ChaosClient } from './client.js';
import type { FlowPlan } from './plan.js';

export interface ChaosUser {
  token: string;
  userId: string;
}

/** A cancel asked for under an Idempotency-Key: asked again at the end, it must answer with its outcome. */
export interface KeyedCancel {
  orderId: string;
  key: string;
  body: Record<string, unknown>;
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
  keyedCancels: KeyedCancel[];
  /** Tries of keyed cancels after the first (a lost answer, a 504, a cancel still running). */
  cancelRetries: number;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers after which a patient frontend asks again with the same key: the cancel is running or its outcome unknown. */
const askAgain = (a: Answer) =>
  a.status === 504 || (a.status === 409 && ['IDEMPOTENCY_REQUEST_IN_PROGRESS', 'ORDER_CANCELING'].includes(a.body?.error?.code));

export async function runFlow(plan: FlowPlan, user: ChaosUser, client: ChaosClient, db: pg.Pool): Promise<FlowResult> {
  const result: FlowResult = { faults: [], toldPaid: false, toldCanceled: false, toldPartiallyCanceled: false, answers: [], keyedCancels: [], cancelRetries: 0 };
  const token = user.token;
  const keyed = () => (plan.useIdempotencyKey ? randomUUID() : undefined);

  const order = await client.call('POST', '/api/payment/order', { token, key: keyed(), body: { amount: plan.amount, paymentMethod: plan.virtualAccount ? 'VirtualAccount' : 'Card' } });
  result.answers.push(order.status);
  if (order.status !== 201) return result;
  const orderId: string = order.body.data.orderID;
  result.orderId = orderId;
  if (plan.abandon) return result;

  // The buyer's window gets the checkout's deposit deadline, as Danal's SDK would.
  const { expireDate, expireTime } = order.body.data.checkout as { expireDate?: string; expireTime?: string };
  const auth = await client.call('POST', '/sandbox/danal/authorize', {
    body: { orderId, amount: plan.amount, method: DANAL_METHOD(plan.virtualAccount), ...(expireDate && { expireDate, expireTime }) },
  });
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
    if (plan.lateDeposit) {
      // Our clock closes the account first (Danal's deadline, a moment later, has not passed), maybe
      // the sweep expires the order too, and then Danal reports the deposit.
      result.faults.push(`notification:late:${plan.lateDeposit}`);
      await db.query(`UPDATE payment_orders SET vaccount_due_at = now() - interval '1 second' WHERE id = $1 AND status = 'WaitingForDeposit'`, [orderId]);
      for (let i = 0; plan.lateDeposit === 'expired_by_sweep' && i < 30; i++) {
        const seen = await client.call('GET', `/api/payment/orders/${orderId}`, { token });
        if (seen.body?.data?.status !== 'WaitingForDeposit') break;
        await sleep(200);
      }
    }
    // Danal's notification, and its resends.
    for (let i = 0; i <= plan.depositReplays; i++) {
      const deposit = await client.call('POST', '/sandbox/danal/deposit', { body: { transactionId } });
      if (deposit.body?.delivered === true) result.toldPaid = true;
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
    const body = { orderID: orderId, ...part, reason: 'chaos' };
    if (cancelKey) result.keyedCancels.push({ orderId, key: cancelKey, body });
    const cancels = await Promise.all(
      Array.from({ length: plan.cancelCopies }, () => cancelAsking(client, result, token, body, cancelKey, cancelKey ? plan.lostCancelAnswerMs : undefined)),
    );
    noteCancels(result, cancels);
    if (plan.partialShare && plan.cancelRest && result.toldPartiallyCanceled && !result.toldCanceled) {
      const restKey = keyed();
      const rest = { orderID: orderId, reason: 'chaos: the rest' };
      if (restKey) result.keyedCancels.push({ orderId, key: restKey, body: rest });
      noteCancels(result, [await cancelAsking(client, result, token, rest, restKey)]);
    }
  }
  return result;
}

/**
 * A cancel as a patient frontend sends it: with a key, it asks again with the same key and body
 * while the answer says the cancel is still running or its outcome unknown (a few times, then it
 * leaves it; the run asks every key once more at the end). `lostAnswerMs`: the first answer is lost.
 */
async function cancelAsking(client: ChaosClient, result: FlowResult, token: string, body: Record<string, unknown>, key?: string, lostAnswerMs?: number) {
  let answer = await client.call('POST', '/api/payment/cancel', { token, key, body, firstAnswerWithinMs: lostAnswerMs });
  if (lostAnswerMs !== undefined) result.faults.push('cancel:lost_answer');
  for (let i = 0; key && i < 6 && askAgain(answer); i++) {
    result.answers.push(answer.status);
    await sleep(300 + 300 * i);
    result.cancelRetries += 1;
    answer = await client.call('POST', '/api/payment/cancel', { token, key, body });
  }
  return answer;
}

function noteCancels(result: FlowResult, cancels: Answer[]) {
  result.answers.push(...cancels.map((c) => c.status));
  for (const c of cancels.filter((c) => c.status === 200)) {
    if (c.body.data.status === 'Canceled') result.toldCanceled = true;
    else result.toldPartiallyCanceled = true;
  }
}
