// The Danal sandbox behaves like Danal: its auth, its rules, its window; and
// it is no tool for reaching other servers: it posts notifications only to
// the service's own notification URL, follows no redirect, and tells its
// caller the status it got, never the body.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, bearer, confirm, createOrder, newUser, startTestServer, walletOf, type TestServer } from '../helpers.js';

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

/** A local HTTP server standing in for something the sandbox must not read (an internal service). */
async function localServer(handler: http.RequestListener): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the sandbox fetches no URL it is handed', () => {
  it("refuses a notiUrl that is not this service's notification URL", async () => {
    const internal = await localServer((_req, res) => res.end('{"code":"SUCCESS","secret":"internal-data"}'));
    try {
      for (const notiUrl of [`${internal.url}/api/payment/noti/vaccount`, `${internal.url}/anything`, `${t.url.replace('127.0.0.1', 'localhost')}/api/wallet`, 'http://169.254.169.254/latest/meta-data']) {
        const res = await t.api.post('/sandbox/danal/authorize').send({ orderId: 'ORDSSRF0001', amount: 1000, method: 'VACCOUNT', notiUrl });
        expect(res.status, notiUrl).toBe(400);
        expect(res.body.message).toContain('notiUrl');
      }
      expect(internal.hits).toEqual([]);
    } finally {
      await internal.close();
    }
  });

  it('posts a deposit to the order\'s own notiUrl and answers with the status, not the body', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000, 'VirtualAccount');
    const tx = await authorize(t, order.orderID, 10_000, 'VACCOUNT', order.checkout.notiUrl);
    await confirm(t, user, order.orderID, tx, 'VIRTUAL_ACCOUNT').expect(200);
    const deposit = await t.api.post('/sandbox/danal/deposit').send({ transactionId: tx }).expect(200);
    expect(deposit.body).toMatchObject({ notiUrl: order.checkout.notiUrl, replyStatus: 200, delivered: true });
    expect(deposit.body.reply).toBeUndefined();
    expect((await walletOf(t, user)).balance).toBe(10_000);
  });
});

describe('a sandbox told to notify another URL (SANDBOX_NOTI_URLS)', () => {
  let other: TestServer;
  let target: Awaited<ReturnType<typeof localServer>>;
  let redirected: Awaited<ReturnType<typeof localServer>>;
  beforeAll(async () => {
    redirected = await localServer((_req, res) => res.end('{"code":"SUCCESS","secret":"behind-the-redirect"}'));
    target = await localServer((req, res) => {
      if (req.url!.startsWith('/redirect')) {
        res.writeHead(302, { location: `${redirected.url}/secret` });
        return void res.end();
      }
      // Not the service: it must not count as a delivered deposit (the order stays WaitingForDeposit).
      res.setHeader('content-type', 'application/json');
      res.end('{"code":"FAIL","secret":"the-target-body"}');
    });
    other = await startTestServer({ SANDBOX_NOTI_URLS: `${target.url}/hook,${target.url}/redirect` });
  });
  afterAll(async () => {
    await other?.close();
    await target?.close();
    await redirected?.close();
  });

  async function depositTo(notiUrl: string) {
    const user = await newUser(other);
    const order = await createOrder(other, user, 10_000, 'VirtualAccount');
    const tx = (await other.api.post('/sandbox/danal/authorize').send({ orderId: order.orderID, amount: 10_000, method: 'VACCOUNT', notiUrl }).expect(201)).body.transactionId;
    await other.api.post('/api/payment/confirm').set(bearer(user)).send({ orderID: order.orderID, transactionID: tx, method: 'VIRTUAL_ACCOUNT' }).expect(200);
    return other.api.post('/sandbox/danal/deposit').send({ transactionId: tx }).expect(200);
  }

  it('never returns what the target answered', async () => {
    const deposit = await depositTo(`${target.url}/hook`);
    expect(deposit.body).toMatchObject({ replyStatus: 200, delivered: false });
    expect(deposit.text).not.toContain('the-target-body');
  });

  it('follows no redirect', async () => {
    const deposit = await depositTo(`${target.url}/redirect`);
    expect(deposit.body).toMatchObject({ replyStatus: 302, delivered: false });
    expect(deposit.text).not.toContain('behind-the-redirect');
    expect(redirected.hits).toEqual([]);
  });
});

