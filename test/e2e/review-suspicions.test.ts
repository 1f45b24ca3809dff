// The review's suspicions, each put to the test (the margin between
// RECONCILE_STALE_AFTER_MS and DANAL_TIMEOUT_MS is in test/unit/config.test.ts):
// - a confirm whose order left Confirming while Danal answered (the orphan
//   sweep took it) answered 200 ConfirmUnknown (virtual account) or 500 (card);
// - the net cancel acted on the transaction Danal's answer named, which could
//   be another order's payment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  audit, authorize, bearer, confirm, createOrder, eventsOf, injectFault, newUser, orderOf, ownDatabase, paidOrder,
  sandboxTransaction, startTestServer, waitFor, walletOf, withClient, type TestServer, type User,
} from '../helpers.js';

const ADMIN_KEY = 'suspicions-test-admin-key-0123456789abcdef';
let database: { url: string; drop(): Promise<void> };
let t: TestServer;

beforeAll(async () => {
  database = await ownDatabase('suspicions');
  t = await startTestServer({ ADMIN_API_KEYS: ADMIN_KEY, RECONCILE_RETRY_BASE_MS: '100' }, database.url);
});
afterAll(async () => {
  await t?.close();
  await database?.drop();
});

const statusOf = async (orderID: string) => (await t.db.paymentOrder.findUniqueOrThrow({ where: { id: orderID } })).status;
/** What the orphan sweep does to an order it takes for lost. */
const takeForLost = (orderID: string) =>
  withClient((c) => c.query(`UPDATE payment_orders SET status = 'ConfirmUnknown', failure_code = 'REQUEST_LOST', updated_at = now() WHERE id = $1 AND status = 'Confirming'`, [orderID]), database.url);

async function confirmWhileTakenForLost(user: User, method: 'CARD' | 'VACCOUNT') {
  const va = method === 'VACCOUNT';
  const order = await createOrder(t, user, 10_000, va ? 'VirtualAccount' : 'Card');
  const transactionId = await authorize(t, order.orderID, 10_000, method);
  await injectFault(t, { operation: 'confirm', kind: 'timeout', orderId: order.orderID, delayMs: 700 }); // approved, answered within the timeout
  const answer = confirm(t, user, order.orderID, transactionId, va ? 'VIRTUAL_ACCOUNT' : 'CARD').then((r) => r);
  await waitFor(() => statusOf(order.orderID), (s) => s === 'Confirming', 5_000);
  await takeForLost(order.orderID);
  return { order, transactionId, res: await answer };
}

describe('a confirm whose order left Confirming while Danal answered', () => {
  it.each(['CARD', 'VACCOUNT'] as const)('(%s) answers 504 outcome unknown, credits nothing, and the reconciler returns the money', async (method) => {
    const user = await newUser(t);
    const { order, transactionId, res } = await confirmWhileTakenForLost(user, method);
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('DANAL_OUTCOME_UNKNOWN');
    expect((await walletOf(t, user)).balance).toBe(0);
    expect(await statusOf(order.orderID)).toBe('ConfirmUnknown');
    const events = await t.db.orderEvent.findMany({ where: { orderId: order.orderID, type: 'confirm.unknown' } });
    expect(events.map((e) => e.detail)).toContainEqual(expect.objectContaining({ code: 'CLAIM_LOST', approval: { transactionId, amount: 10_000 } }));

    await new Promise((r) => setTimeout(r, 150));
    await t.sweep();
    expect((await orderOf(t, user, order.orderID)).failure?.code).toBe('NET_CANCELED');
    expect(await sandboxTransaction(t, transactionId)).toMatchObject({ status: 'CANCELED', canceledAmount: 10_000 });
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });
});

describe('the net cancel', () => {
  it("acts only on the transaction the order claimed: an answer that named another order's payment waits for an operator", async () => {
    const [alice, bob] = [await newUser(t), await newUser(t)];
    const alicePaid = await paidOrder(t, alice, 10_000);
    const bobOrder = await createOrder(t, bob, 10_000);
    const bobTx = await authorize(t, bobOrder.orderID, 10_000);
    // What a confirm records when Danal's answer echoes another transaction (DANAL_ECHO_MISMATCH).
    await withClient(async (c) => {
      await c.query(
        `UPDATE payment_orders SET status = 'ConfirmUnknown', danal_transaction_id = $2, danal_method = 'CARD', failure_code = 'DANAL_ECHO_MISMATCH', updated_at = now() - interval '1 minute' WHERE id = $1`,
        [bobOrder.orderID, bobTx],
      );
      await c.query(`INSERT INTO order_events (order_id, type, detail) VALUES ($1, 'confirm.unknown', $2)`, [
        bobOrder.orderID,
        JSON.stringify({ code: 'DANAL_ECHO_MISMATCH', reason: 'Danal approved another transaction or order', approval: { transactionId: alicePaid.transactionId, amount: 10_000 } }),
      ]);
    }, database.url);

    await t.sweep();
    // Alice's payment is untouched; Bob's order waits for an operator, who is told why.
    expect(await sandboxTransaction(t, alicePaid.transactionId)).toMatchObject({ status: 'APPROVED', canceledAmount: 0, cancels: [] });
    expect(await orderOf(t, alice, alicePaid.orderID)).toMatchObject({ status: 'Paid' });
    expect(await statusOf(bobOrder.orderID)).toBe('ConfirmUnknown');
    const stuck = (await t.api.get('/api/admin/stuck').set('Authorization', `Basic ${ADMIN_KEY}`).expect(200)).body.data.orders;
    expect(stuck.find((o: { orderID: string }) => o.orderID === bobOrder.orderID)).toMatchObject({
      needsOperator: true,
      lastReason: expect.stringContaining(`named transaction ${alicePaid.transactionId}, not ${bobTx}`),
    });

    // The operator reads Danal's console: Bob's own transaction was approved for 10,000 KRW (or not at all).
    await t.api.post(`/api/admin/orders/${bobOrder.orderID}/reconcile`).set('Authorization', `Basic ${ADMIN_KEY}`).send({ approvedAmount: 10_000 }).expect(200);
    await t.sweep();
    expect(await orderOf(t, bob, bobOrder.orderID)).toMatchObject({ status: 'Failed', failure: expect.objectContaining({ code: 'NOT_APPROVED' }) });
    expect(await sandboxTransaction(t, alicePaid.transactionId)).toMatchObject({ status: 'APPROVED', canceledAmount: 0 });
    expect(await eventsOf(t, bobOrder.orderID)).toContain('reconcile.gave_up');
    expect((await t.api.get(`/api/payment/orders/${alicePaid.orderID}`).set(bearer(alice)).expect(200)).body.data.status).toBe('Paid');
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });
});
