import { describe, expect, it } from 'vitest';
import {
  authorize, bearer, confirm, createOrder, injectFault, ledgerRows, newUser, paidOrder,
  sandboxTransaction, startTestServer, useTestServer, walletOf,
} from '../helpers.js';

const t = useTestServer();

describe('card charge flow', () => {
  it('creates an order whose amount, points and checkout the server decided', async () => {
    const user = await newUser(t);
    const res = await t.api.post('/api/payment/order').set(bearer(user)).send({ amount: 10_000, paymentMethod: 'Card' }).expect(201);
    const order = res.body.data;
    expect(res.body.success).toBe(true);
    expect(order).toMatchObject({ amount: 10_000, pointAmount: 10_000, paymentMethod: 'Card', status: 'Pending' });
    expect(order.orderID).toMatch(/^[A-Za-z0-9_-]{6,64}$/);
    expect(new Date(order.expiresAt).getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(order.checkout).toMatchObject({
      merchantId: '9810030930', paymentsMethod: 'CARD', orderId: order.orderID, amount: 10_000, userId: user.userId,
    });
    expect(order.checkout.successUrl).toMatch(/^http/);
    expect(order.checkout.failUrl).toMatch(/^http/);
    expect(order.checkout.notiUrl).toBeUndefined();
    const stored = await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } });
    expect(stored).toMatchObject({ vat: 909, suppliedAmount: 9091, taxFreeAmount: 0 });
  });

  it('confirms with Danal, marks the order Paid and credits the points once', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    const transactionId = await authorize(t, order.orderID, 10_000);
    const res = await confirm(t, user, order.orderID, transactionId).expect(200);
    expect(res.body.data).toMatchObject({ orderID: order.orderID, status: 'Paid', pointAmount: 10_000, balance: 10_000 });
    expect(res.body.data.paidAt).toBeTruthy();

    const again = await confirm(t, user, order.orderID, transactionId).expect(200);
    expect(again.body.data).toEqual(res.body.data);
    const wallet = await walletOf(t, user);
    expect(wallet.balance).toBe(10_000);
    expect(wallet.entries).toHaveLength(1);
    expect(wallet.entries[0]).toMatchObject({ type: 'CHARGE', amount: 10_000, orderID: order.orderID });

    const view = await t.api.get(`/api/payment/orders/${order.orderID}`).set(bearer(user)).expect(200);
    expect(view.body.data).toMatchObject({ status: 'Paid', transactionID: transactionId, amount: 10_000, failure: null });
    expect((await sandboxTransaction(t, transactionId)).status).toBe('APPROVED');
  });

  it('refuses to confirm the same order with another transactionID once paid', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    const other = await authorize(t, order.orderID, 10_000);
    const res = await confirm(t, user, order.orderID, other).expect(409);
    expect(res.body.error.code).toBe('ORDER_ALREADY_CONFIRMED');
    expect((await walletOf(t, user)).balance).toBe(10_000);
  });

  it('applies the point policy from config', async () => {
    const bonus = await startTestServer({ POINT_RATE_PERCENT: '110' });
    try {
      const user = await newUser(bonus);
      const order = await paidOrder(bonus, user, 10_000);
      expect(order.pointAmount).toBe(11_000);
      expect((await walletOf(bonus, user)).balance).toBe(11_000);
    } finally {
      await bonus.close();
    }
  });

  it('keeps a tampered checkout from crediting: Danal refuses an amount the buyer did not authenticate', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionId = await authorize(t, order.orderID, 100);
    const res = await confirm(t, user, order.orderID, transactionId).expect(402);
    expect(res.body.error.code).toBe('PAYMENT_DECLINED');
    const view = await t.api.get(`/api/payment/orders/${order.orderID}`).set(bearer(user)).expect(200);
    expect(view.body.data).toMatchObject({ status: 'Failed', failure: { code: 'AMOUNT_MISMATCH' } });
    expect((await walletOf(t, user)).balance).toBe(0);
    expect((await sandboxTransaction(t, transactionId)).approvedAmount).toBeNull();
  });

  it('cancels an approval of a different amount, fails the order and credits nothing', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionId = await authorize(t, order.orderID, 100);
    await injectFault(t, { operation: 'confirm', kind: 'different_amount', orderId: order.orderID });
    const res = await confirm(t, user, order.orderID, transactionId).expect(409);
    expect(res.body.error.code).toBe('AMOUNT_MISMATCH');
    expect(res.body.error.message).toContain('100 KRW');

    const danal = await sandboxTransaction(t, transactionId);
    expect(danal).toMatchObject({ status: 'CANCELED', approvedAmount: 100, canceledAmount: 100 });
    const stored = await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } });
    expect(stored.status).toBe('Failed');
    expect(stored.failureCode).toBe('AMOUNT_MISMATCH');
    expect(stored.danalCancelTransactionId).toBe(danal.cancels[0].cancel_transaction_id);
    expect(await ledgerRows(t.db, order.orderID)).toEqual([]);
  });

  it('records a Danal decline on the order with its code and message', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    const transactionId = await authorize(t, order.orderID, 10_000);
    await injectFault(t, { operation: 'confirm', kind: 'error', orderId: order.orderID, code: 'CARD_LIMIT', message: '한도 초과' });
    const res = await confirm(t, user, order.orderID, transactionId).expect(402);
    expect(res.body.error).toMatchObject({ code: 'PAYMENT_DECLINED' });
    expect(res.body.error.message).toContain('CARD_LIMIT');
    const view = await t.api.get(`/api/payment/orders/${order.orderID}`).set(bearer(user)).expect(200);
    expect(view.body.data).toMatchObject({ status: 'Failed', failure: { code: 'CARD_LIMIT', message: '한도 초과' } });
    const retry = await confirm(t, user, order.orderID, transactionId).expect(409);
    expect(retry.body.error.code).toBe('ORDER_FAILED');
  });

  it('records a confirm that timed out as unknown, neither failed nor credited', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    const transactionId = await authorize(t, order.orderID, 10_000);
    await injectFault(t, { operation: 'confirm', kind: 'timeout', orderId: order.orderID, delayMs: 2_500 });
    const res = await confirm(t, user, order.orderID, transactionId).expect(504);
    expect(res.body.error.code).toBe('DANAL_OUTCOME_UNKNOWN');
    const stored = await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } });
    expect(stored.status).toBe('ConfirmUnknown');
    expect(await ledgerRows(t.db, order.orderID)).toEqual([]);
    // Danal did approve it: the record says so, for the reconciler to resolve.
    expect((await sandboxTransaction(t, transactionId)).status).toBe('APPROVED');
  });

  it('records a confirm whose connection was cut as unknown', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    const transactionId = await authorize(t, order.orderID, 10_000);
    await injectFault(t, { operation: 'confirm', kind: 'cutoff', orderId: order.orderID });
    await confirm(t, user, order.orderID, transactionId).expect(504);
    expect((await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } })).status).toBe('ConfirmUnknown');
  });

  it('gives a Mobile checkout the itemCode the Danal SDK requires', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000, 'Mobile');
    expect(order.checkout).toMatchObject({ paymentsMethod: 'MOBILE', itemCode: '1270000000' });
  });

  it('refuses a method that does not match the order', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000, 'KakaoPay');
    const transactionId = await authorize(t, order.orderID, 10_000, 'KAKAOPAY');
    const res = await confirm(t, user, order.orderID, transactionId, 'CARD').expect(400);
    expect(res.body.error.code).toBe('METHOD_MISMATCH');
    await confirm(t, user, order.orderID, transactionId, 'KAKAOPAY').expect(200);
  });

  it('refuses to confirm an expired order', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    await t.db.paymentOrder.update({ where: { id: order.orderID }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const transactionId = await authorize(t, order.orderID, 10_000);
    const res = await confirm(t, user, order.orderID, transactionId).expect(409);
    expect(res.body.error.code).toBe('ORDER_EXPIRED');
    expect((await sandboxTransaction(t, transactionId)).status).toBe('AUTHENTICATED');
  });

  it("answers another user's order as if it did not exist", async () => {
    const owner = await newUser(t);
    const stranger = await newUser(t);
    const order = await paidOrder(t, owner);
    const look = await t.api.get(`/api/payment/orders/${order.orderID}`).set(bearer(stranger)).expect(404);
    expect(look.body.error.code).toBe('ORDER_NOT_FOUND');
    await confirm(t, stranger, order.orderID, order.transactionId).expect(404);
    await t.api.post('/api/payment/cancel').set(bearer(stranger)).send({ orderID: order.orderID }).expect(404);
    expect((await walletOf(t, owner)).balance).toBe(10_000);
  });

  it('gives the frontend its Danal client key and merchant ID, never the secret key', async () => {
    const user = await newUser(t);
    const res = await t.api.get('/api/payment/config').set(bearer(user)).expect(200);
    expect(res.body.data).toEqual({ clientKey: 'CL_TEST_dpot_sandbox_client_key', merchantID: '9810030930' });
    expect(JSON.stringify(res.body)).not.toContain('SK_');
  });

  it('serves health, readiness and an X-Request-Id on every response', async () => {
    const health = await t.api.get('/healthz').expect(200);
    expect(health.headers['x-request-id']).toBeTruthy();
    await t.api.get('/readyz').expect(200);
    const missing = await t.api.get('/nope').expect(404);
    expect(missing.headers['x-request-id']).toBeTruthy();
    expect(missing.body.error.code).toBe('ROUTE_NOT_FOUND');
  });
});
