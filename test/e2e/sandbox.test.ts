// The Danal sandbox behaves like Danal: its auth, its rules, its window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, confirm, createOrder, newUser, startTestServer, walletOf, type TestServer } from '../helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const SANDBOX_KEY = 'SK_TEST_dpot_sandbox_secret_key';
const danalConfirm = (body: Record<string, unknown>, key = SANDBOX_KEY) =>
  t.api.post('/sandbox/danal/payments/confirm').set('Authorization', basic(key)).send(body);
const danalCancel = (body: Record<string, unknown>) =>
  t.api.post('/sandbox/danal/payments/cancel').set('Authorization', basic(SANDBOX_KEY)).send(body);

describe('Danal sandbox API', () => {
  it('requires Basic auth with the secret key and digit-string amounts', async () => {
    const tx = await authorize(t, 'ORDSANDBOX001', 5_000);
    const body = { method: 'CARD', transactionId: tx, merchantId: '9810030930', amount: '5000', orderId: 'ORDSANDBOX001' };
    expect((await danalConfirm(body, 'SK_TEST_wrong')).status).toBe(401);
    expect((await t.api.post('/sandbox/danal/payments/confirm').send(body)).status).toBe(401);
    const numeric = await danalConfirm({ ...body, amount: 5000 });
    expect(numeric.status).toBe(400);
    expect(numeric.body.code).toBe('INVALID_REQUEST');
    expect((await danalConfirm({ ...body, merchantId: 'OTHER' })).body.code).toBe('INVALID_MERCHANT');
    expect((await danalConfirm({ ...body, method: 'MOBILE' })).body.code).toBe('METHOD_MISMATCH');
  });

  it('approves once, echoes the same approval to a repeated confirm, and tracks what can be refunded', async () => {
    const tx = await authorize(t, 'ORDSANDBOX002', 5_000);
    const body = { method: 'CARD', transactionId: tx, merchantId: '9810030930', amount: '5000', orderId: 'ORDSANDBOX002' };
    const first = await danalConfirm(body).expect(200);
    expect(first.body).toMatchObject({ code: 'SUCCESS', transactionId: tx, orderId: 'ORDSANDBOX002', amount: '5000', method: 'CARD' });
    expect(first.body.transactionDateTime).toMatch(/^\d{14}$/);
    expect((await danalConfirm(body)).body).toEqual(first.body);

    const cancel = { method: 'CARD', transactionId: tx, merchantId: '9810030930', cancelReason: 'test' };
    expect((await danalCancel({ ...cancel, amount: '6000', cancelType: 'P' })).body.code).toBe('EXCEEDS_CANCELABLE_AMOUNT');
    expect((await danalCancel({ ...cancel, amount: '4000', cancelType: 'C' })).body.code).toBe('AMOUNT_MISMATCH');
    const partial = await danalCancel({ ...cancel, amount: '2000', cancelType: 'P' });
    expect(partial.body).toMatchObject({ code: 'SUCCESS', remainingAmount: '3000' });
    expect(partial.body.transactionId).not.toBe(tx);
    const rest = await danalCancel({ ...cancel, amount: '3000', cancelType: 'C' });
    expect(rest.body.code).toBe('SUCCESS');
    expect((await danalCancel({ ...cancel, amount: '1', cancelType: 'P' })).body.code).toBe('ALREADY_CANCELED');
    expect((await danalConfirm(body)).body.code).toBe('ALREADY_CANCELED');
  });

  it('serves a payment window whose Approve redirects to successUrl with the authentication, and Cancel to failUrl', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    const windowUrl = new URL(order.checkout.sandboxCheckoutUrl!);
    const page = await t.api.get(`${windowUrl.pathname}${windowUrl.search}`).expect(200);
    expect(page.text).toContain('Approve payment');
    expect(page.text).toContain(order.orderID);

    const fields = Object.fromEntries(windowUrl.searchParams);
    const approved = await t.api.post('/sandbox/danal/checkout/approve').type('form').send(fields).expect(303);
    const back = new URL(approved.headers.location!);
    expect(back.href.startsWith(order.checkout.successUrl!.split('?')[0]!)).toBe(true);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ code: 'SUCCESS', orderId: order.orderID, amount: '10000', method: 'CARD' });
    // The frontend then confirms with what the redirect carried.
    await confirm(t, user, order.orderID, back.searchParams.get('transactionId')!).expect(200);
    expect((await walletOf(t, user)).balance).toBe(10_000);

    const canceled = await t.api.post('/sandbox/danal/checkout/cancel').type('form').send(fields).expect(303);
    expect(new URL(canceled.headers.location!).searchParams.get('code')).toBe('USER_CANCEL');
    const landing = await t.api.get(`${back.pathname}${back.search}`).expect(200);
    expect(landing.text).toContain(order.orderID);
  });

  it('refuses a payment window for another merchant', async () => {
    const res = await t.api.get('/sandbox/danal/checkout').query({ merchantId: 'X', paymentsMethod: 'CARD', orderId: 'O1', amount: '1000', successUrl: 'http://a/s', failUrl: 'http://a/f' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('merchantId');
  });
});
