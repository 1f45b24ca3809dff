// Logs carry what operators need and none of the secrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, bearer, confirm, createOrder, expectLedgerConsistent, newUser, paidOrder, startTestServer, type TestServer } from '../helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ JWT_SECRET: 'log-test-jwt-secret-0123456789abcdef' });
});
afterAll(() => t.close());

describe('logging', () => {
  it('writes one line per request and per business event, with no secret, token, password or account number', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user);
    await t.api.post('/api/payment/cancel').set(bearer(user)).send({ orderID: paid.orderID }).expect(200);
    const va = await createOrder(t, user, 20_000, 'VirtualAccount');
    const tx = await authorize(t, va.orderID, 20_000, 'VACCOUNT');
    const confirmed = await confirm(t, user, va.orderID, tx, 'VIRTUAL_ACCOUNT').expect(200);
    const accountNumber: string = confirmed.body.data.virtualAccount.accountNumber;
    await t.api.post('/sandbox/danal/deposit').send({ transactionId: tx }).expect(200);
    await t.api.post('/api/auth/login').send({ email: user.email, password: 'wrong-password' }).expect(401);

    const lines = t.logs.map((l) => JSON.parse(l));
    const requestLine = lines.find((l) => l.msg === 'request' && l.path === '/api/payment/confirm');
    expect(requestLine).toMatchObject({ method: 'POST', status: 200, userId: user.userId });
    expect(requestLine.reqId).toBeTruthy();
    expect(typeof requestLine.durationMs).toBe('number');
    const events = lines.filter((l) => l.event).map((l) => l.event);
    expect(events).toEqual(expect.arrayContaining(['order.created', 'order.confirmed', 'order.canceled', 'order.account_issued', 'notification.credited']));
    expect(lines.find((l) => l.event === 'order.confirmed')).toMatchObject({ orderID: paid.orderID, userId: user.userId });

    const everything = t.logs.join('\n');
    for (const secret of [user.password, user.token, 'wrong-password', 'SK_TEST_dpot_sandbox_secret_key', 'log-test-jwt-secret-0123456789abcdef', accountNumber]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toContain(Buffer.from('SK_TEST_dpot_sandbox_secret_key:').toString('base64'));
    await expectLedgerConsistent(t.db);
  });
});
