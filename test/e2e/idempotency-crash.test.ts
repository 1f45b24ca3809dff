// A keyed partial cancel whose process was killed after its commit, before
// its answer: the client retries with the same key and body once the key's
// lock has run out. The retry must find the cancel it started and answer with
// it; it must not plan a second one (the review saw 6,000 KRW refunded).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { audit, bearer, expectNoSecretsIn, orderOf, ownDatabase, sandboxTransaction, startTestServer, walletOf, type User } from '../helpers.js';
import { spawnServer } from '../server-process.js';

let database: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  database = await ownDatabase('idemcrash');
});
afterAll(async () => {
  await database?.drop();
});

describe('an Idempotency-Key retried after the process died', () => {
  it('answers a partial cancel killed after its commit with that cancel, and refunds once', async () => {
    const key = randomUUID();
    const server = await spawnServer({ DATABASE_URL: database.url, DANAL_TIMEOUT_MS: '1000', TEST_CRASH_AT: 'cancel.after_commit' });
    let user: User;
    let orderID: string;
    let transactionId: string;
    try {
      const api = request(server.url);
      const email = `idem-crash-${Date.now()}@example.com`;
      const registered = await api.post('/api/auth/register').send({ email, password: 'password123' }).expect(201);
      const token = (await api.post('/api/auth/login').send({ email, password: 'password123' }).expect(200)).body.data.accessToken;
      user = { email, password: 'password123', token, userId: registered.body.data.userId };
      orderID = (await api.post('/api/payment/order').set(bearer(user)).send({ amount: 10_000, paymentMethod: 'Card' }).expect(201)).body.data.orderID;
      transactionId = (await api.post('/sandbox/danal/authorize').send({ orderId: orderID, amount: 10_000, method: 'CARD' }).expect(201)).body.transactionId;
      await api.post('/api/payment/confirm').set(bearer(user)).send({ orderID, transactionID: transactionId, method: 'CARD' }).expect(200);
      const fatal = api.post('/api/payment/cancel').set(bearer(user)).set('Idempotency-Key', key).send({ orderID, amount: 3_000 });
      await expect(fatal).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(await server.exited).toEqual([null, 'SIGKILL']);
    } finally {
      server.kill();
      expectNoSecretsIn(server.lines);
    }

    const t = await startTestServer({}, database.url);
    try {
      // The key's lock runs out (DANAL_TIMEOUT_MS + 30 s in production): time passes.
      await t.db.$executeRaw`UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE key = ${key}`;
      const retry = await t.api.post('/api/payment/cancel').set(bearer(user)).set('Idempotency-Key', key).send({ orderID, amount: 3_000 }).expect(200);
      expect(retry.body.data).toEqual({ orderID, status: 'PartialCanceled', canceledAmount: 3_000, canceledPoints: 3_000, balanceAmount: 7_000, balance: 7_000 });
      const again = await t.api.post('/api/payment/cancel').set(bearer(user)).set('Idempotency-Key', key).send({ orderID, amount: 3_000 }).expect(200);
      expect(again.headers['idempotent-replayed']).toBe('true');

      expect(await orderOf(t, user, orderID)).toMatchObject({ status: 'PartialCanceled', canceledAmount: 3_000, balanceAmount: 7_000 });
      expect((await orderOf(t, user, orderID)).cancels).toHaveLength(1);
      expect(await sandboxTransaction(t, transactionId)).toMatchObject({ canceledAmount: 3_000, cancels: [expect.objectContaining({ amount: 3_000 })] });
      expect((await walletOf(t, user)).balance).toBe(7_000);
      expect((await audit(t.db)).discrepancies).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
