import { describe, expect, it } from 'vitest';
import {
  authorize, bearer, confirm, createOrder, ledgerRows, newUser, ownDatabase, postFrom, startTestServer, useTestServer, walletOf,
  type TestServer, type User,
} from '../helpers.js';

const t = useTestServer();

/**
 * A VirtualAccount order confirmed at Danal: account issued, nothing credited yet. The buyer's window
 * gives Danal the order's notiUrl, unless `plainPath`: then Danal notifies the seed's plain path.
 */
async function issuedAccount(server: TestServer, user: User, plainPath = false) {
  const order = await createOrder(server, user, 30_000, 'VirtualAccount');
  const transactionId = await authorize(server, order.orderID, 30_000, 'VACCOUNT', plainPath ? undefined : order.checkout.notiUrl);
  const res = await confirm(server, user, order.orderID, transactionId, 'VIRTUAL_ACCOUNT').expect(200);
  return { order, transactionId, confirmed: res.body.data };
}

const notify = (server: TestServer, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  server.api.post('/api/payment/noti/vaccount').set(headers).send(body);

describe('virtual account', () => {
  it('issues an account on confirm and credits when the sandbox reports the deposit', async () => {
    const user = await newUser(t);
    const { order, transactionId, confirmed } = await issuedAccount(t, user);
    expect(order.checkout.paymentsMethod).toBe('VACCOUNT');
    // The order's own notiUrl: the plain path and an unguessable token of this order.
    expect(order.checkout.notiUrl).toMatch(/\/api\/payment\/noti\/vaccount\/[A-Za-z0-9_-]{32,}$/);
    expect(confirmed).toMatchObject({ orderID: order.orderID, status: 'WaitingForDeposit', pointAmount: 30_000 });
    expect(confirmed.virtualAccount).toMatchObject({ bankName: expect.any(String), accountNumber: expect.stringMatching(/^\d+$/), holder: expect.any(String) });
    expect(new Date(confirmed.virtualAccount.dueAt).getTime()).toBeGreaterThan(Date.now());
    expect((await walletOf(t, user)).balance).toBe(0);

    const deposit = await t.api.post('/sandbox/danal/deposit').send({ transactionId }).expect(200);
    expect(deposit.body).toMatchObject({ replyStatus: 200, delivered: true });
    expect((await walletOf(t, user)).balance).toBe(30_000);
    const view = await t.api.get(`/api/payment/orders/${order.orderID}`).set(bearer(user)).expect(200);
    expect(view.body.data.status).toBe('Paid');

    const stored = await t.db.depositNotification.findMany({ where: { orderId: order.orderID } });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ outcome: 'CREDITED', body: { code: 'SUCCESS', transactionID: transactionId, amount: '30000' } });
    expect(stored[0]!.sourceIp).toMatch(/^(127\.0\.0\.1|::1)$/);
  });

  it('answers SUCCESS to replayed notifications and credits once, also when they arrive together', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(t, user);
    const body = { code: 'SUCCESS', message: '입금완료', transactionID: transactionId, orderID: order.orderID, amount: '30000' };
    const replies = await Promise.all(Array.from({ length: 8 }, () => notify(t, body)));
    for (const r of replies) expect(r.body).toEqual({ code: 'SUCCESS' });
    await notify(t, body).expect(200, { code: 'SUCCESS' });
    expect(await ledgerRows(t.db, order.orderID)).toHaveLength(1);
    expect((await walletOf(t, user)).balance).toBe(30_000);
    const outcomes = (await t.db.depositNotification.findMany({ where: { orderId: order.orderID } })).map((n) => n.outcome);
    expect(outcomes.filter((o) => o === 'CREDITED')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'DUPLICATE')).toHaveLength(8);
    // Danal's own notification once more: nothing credited, and the sandbox records the deposit, as
    // other files' audits of this shared database compare paid orders with it.
    expect((await t.api.post('/sandbox/danal/deposit').send({ transactionId }).expect(200)).body.delivered).toBe(true);
    expect((await walletOf(t, user)).balance).toBe(30_000);
  });

  it('refuses a wrong transactionID or a code other than SUCCESS with FAIL and credits nothing', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(t, user);
    const wrongTx = await notify(t, { code: 'SUCCESS', transactionID: 'TX-TEST-001', orderID: order.orderID, amount: '30000' });
    expect(wrongTx.body.code).toBe('FAIL');
    const notSuccess = await notify(t, { code: 'FAIL', transactionID: transactionId, orderID: order.orderID, amount: '30000' });
    expect(notSuccess.body.code).toBe('FAIL');
    const numberAmount = await notify(t, { code: 'SUCCESS', transactionID: transactionId, orderID: order.orderID, amount: 30000 });
    expect(numberAmount.status).toBe(400);
    expect(numberAmount.body.code).toBe('FAIL');
    expect((await walletOf(t, user)).balance).toBe(0);
    const stored = await t.db.depositNotification.findMany({ where: { orderId: order.orderID } });
    expect(stored.map((n) => n.outcome)).toEqual(['REJECTED', 'REJECTED', 'REJECTED']);
  });

  it('holds a deposit of another amount for an operator instead of dropping it (test/e2e/deposits.test.ts has the rest)', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(t, user);
    const wrongAmount = await notify(t, { code: 'SUCCESS', transactionID: transactionId, orderID: order.orderID, amount: '300' }).expect(200);
    expect(wrongAmount.body.code).toBe('SUCCESS');
    expect((await walletOf(t, user)).balance).toBe(0);
    const held = await t.db.unsettledDeposit.findMany({ where: { orderId: order.orderID } });
    expect(held.map((d) => [Number(d.amount), d.status])).toEqual([[300, 'Open']]);
    // Settled here, so that this file's shared database keeps no open money.
    await t.db.$executeRaw`UPDATE unsettled_deposits SET status = 'Returned', resolved_at = now(), resolved_by = 'test' WHERE order_id = ${order.orderID}`;
  });

  it('refuses a notification for an order that is not waiting for a deposit', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000, 'VirtualAccount');
    const res = await notify(t, { code: 'SUCCESS', transactionID: 'TX-TEST-001', orderID: order.orderID, amount: '10000' });
    expect(res.body.code).toBe('FAIL');
    const unknown = await notify(t, { code: 'SUCCESS', transactionID: 'TX-TEST-001', orderID: 'ORDNOSUCHORDER', amount: '10000' });
    expect(unknown.body.code).toBe('FAIL');
  });

  it('does not trust a forged X-Forwarded-For when no proxy is trusted', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(t, user);
    const body = { code: 'SUCCESS', transactionID: transactionId, orderID: order.orderID, amount: '30000' };
    // From 127.0.0.2, which is not allowed (sandbox mode allows 127.0.0.1 and ::1), claiming to be Danal.
    const forged = await postFrom(`${t.url}/api/payment/noti/vaccount`, '127.0.0.2', body, { 'X-Forwarded-For': '150.242.132.116' });
    expect([forged.status, forged.body.code]).toEqual([403, 'FAIL']);
    expect((await walletOf(t, user)).balance).toBe(0);
    const traced = await t.db.refusedNotification.findFirstOrThrow({ where: { sourceIp: '127.0.0.2', prefix: { contains: order.orderID } } });
    expect(traced.reason).toContain('127.0.0.2');
  });

  it("uses the proxy's forwarded address when a proxy is trusted, and refuses addresses not allowed", async () => {
    // A database of its own: it plays Danal by hand (the sandbox never sends this one), which the
    // sandbox comparison of other files' audits would count against the shared database.
    const database = await ownDatabase('proxied');
    const proxied = await startTestServer({ TRUST_PROXY: 'loopback' }, database.url);
    try {
      const user = await newUser(proxied);
      const { order, transactionId } = await issuedAccount(proxied, user);
      const body = { code: 'SUCCESS', transactionID: transactionId, orderID: order.orderID, amount: '30000' };
      const refused = await notify(proxied, body, { 'X-Forwarded-For': '203.0.113.9' }).expect(403);
      expect(refused.body.code).toBe('FAIL');
      expect((await walletOf(proxied, user)).balance).toBe(0);
      const fromDanal = await notify(proxied, body, { 'X-Forwarded-For': '150.242.132.116' }).expect(200);
      expect(fromDanal.body.code).toBe('SUCCESS');
      expect((await walletOf(proxied, user)).balance).toBe(30_000);
      const stored = await proxied.db.depositNotification.findMany({ where: { orderId: order.orderID }, orderBy: { id: 'asc' } });
      expect(stored.map((n) => [n.sourceIp, n.outcome])).toEqual([['150.242.132.116', 'CREDITED']]);
      // The refused one left a trace under the forwarded address, not a record.
      expect(await proxied.db.refusedNotification.count({ where: { sourceIp: '203.0.113.9' } })).toBeGreaterThanOrEqual(1);
    } finally {
      await proxied.close();
      await database.drop();
    }
  });

  it('accepts a notification from inside a NOTI_ALLOWED_IPS range and refuses one from outside it', async () => {
    const database = await ownDatabase('ranged'); // plays Danal by hand, as the test above
    const ranged = await startTestServer({ TRUST_PROXY: '127.0.0.1', NOTI_ALLOWED_IPS: '203.0.113.0/24' }, database.url);
    try {
      const user = await newUser(ranged);
      const { order, transactionId } = await issuedAccount(ranged, user);
      const body = { code: 'SUCCESS', transactionID: transactionId, orderID: order.orderID, amount: '30000' };
      await notify(ranged, body, { 'X-Forwarded-For': '203.0.114.1' }).expect(403);
      expect((await walletOf(ranged, user)).balance).toBe(0);
      await notify(ranged, body, { 'X-Forwarded-For': '203.0.113.200' }).expect(200, { code: 'SUCCESS' });
      expect((await walletOf(ranged, user)).balance).toBe(30_000);
    } finally {
      await ranged.close();
      await database.drop();
    }
  });

  it("credits only a notification that carries the order's notiUrl token on the token path", async () => {
    const user = await newUser(t);
    const first = await issuedAccount(t, user);
    const second = await issuedAccount(t, user, true);
    const tokenOf = (o: { order: { checkout: Record<string, string> } }) => o.order.checkout.notiUrl!.split('/').pop()!;
    expect(tokenOf(first)).not.toBe(tokenOf(second));
    const body = { code: 'SUCCESS', transactionID: first.transactionId, orderID: first.order.orderID, amount: '30000' };
    // From an allowed address, but with a made-up token, or the token of another order: refused and recorded.
    for (const token of ['A'.repeat(32), tokenOf(second)]) {
      const refused = await t.api.post(`/api/payment/noti/vaccount/${token}`).send(body).expect(403);
      expect(refused.body.code).toBe('FAIL');
    }
    expect((await walletOf(t, user)).balance).toBe(0);
    const stored = await t.db.depositNotification.findMany({ where: { orderId: first.order.orderID } });
    expect(stored.map((n) => [n.outcome, n.reason])).toEqual([
      ['REJECTED', 'the notiUrl token does not match the order'],
      ['REJECTED', 'the notiUrl token does not match the order'],
    ]);
    // Danal (the sandbox) posts to the notiUrl the order gave it: the right token.
    const deposit = await t.api.post('/sandbox/danal/deposit').send({ transactionId: first.transactionId }).expect(200);
    expect(deposit.body.notiUrl).toBe(first.order.checkout.notiUrl);
    expect((await walletOf(t, user)).balance).toBe(30_000);
    // The seed's plain path still credits, from an allowed address: where Danal posts when the window gave no notiUrl.
    const plain = await t.api.post('/sandbox/danal/deposit').send({ transactionId: second.transactionId }).expect(200);
    expect(plain.body).toMatchObject({ notiUrl: expect.stringMatching(/\/api\/payment\/noti\/vaccount$/), delivered: true });
    expect((await walletOf(t, user)).balance).toBe(60_000);
  });

  it('with NOTI_REQUIRE_TOKEN=true refuses the plain path and credits only through the token', async () => {
    const strict = await startTestServer({ NOTI_REQUIRE_TOKEN: 'true' });
    try {
      const user = await newUser(strict);
      const { order, transactionId } = await issuedAccount(strict, user);
      const body = { code: 'SUCCESS', transactionID: transactionId, orderID: order.orderID, amount: '30000' };
      expect((await notify(strict, body).expect(403)).body.code).toBe('FAIL');
      expect((await walletOf(strict, user)).balance).toBe(0);
      // Danal posts to the order's notiUrl: that credits.
      expect((await strict.api.post('/sandbox/danal/deposit').send({ transactionId }).expect(200)).body).toMatchObject({ notiUrl: order.checkout.notiUrl, delivered: true });
      expect((await walletOf(strict, user)).balance).toBe(30_000);
    } finally {
      await strict.close();
    }
  });

  it('credits a deposit Danal took after our deadline (test/e2e/deposits.test.ts has the rest)', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(t, user);
    await t.db.paymentOrder.update({ where: { id: order.orderID }, data: { vaccountDueAt: new Date(Date.now() - 1000) } });
    const res = await t.api.post('/sandbox/danal/deposit').send({ transactionId }).expect(200);
    expect(res.body.delivered).toBe(true);
    expect((await walletOf(t, user)).balance).toBe(30_000);
  });
});
