// Two server processes on one database, both reaching one Danal sandbox
// through DANAL_API_BASE as they would reach the one real Danal. Duplicate
// confirms, cancels and deposit notifications for the same orders go to both
// at once: each order is credited once and refunded at most once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { audit, authorize, bearer, createOrder, expectNoSecretsIn, newUser, ownDatabase, sandboxTransaction, startTestServer, walletOf, type TestServer, type User } from '../helpers.js';
import { spawnServer, type ServerProcess } from '../server-process.js';

let database: { url: string; drop(): Promise<void> };
let danal: TestServer; // plays Danal (its sandbox) for both processes
let processes: ServerProcess[] = [];
let user: User;

beforeAll(async () => {
  database = await ownDatabase('replicas');
  danal = await startTestServer({}, database.url);
  const env = { DATABASE_URL: database.url, DANAL_API_BASE: `${danal.url}/sandbox/danal`, DANAL_TIMEOUT_MS: '5000' };
  processes = await Promise.all([spawnServer(env), spawnServer(env)]);
  user = await newUser(danal);
});

afterAll(async () => {
  for (const p of processes) p.kill();
  for (const p of processes) expectNoSecretsIn(p.lines);
  await danal?.close();
  await database?.drop();
});

/** `copies` requests at once, alternating between the two processes. */
function toBoth(copies: number, send: (api: ReturnType<typeof request>) => request.Test) {
  return Promise.all(Array.from({ length: copies }, (_, i) => send(request(processes[i % 2]!.url)).then((r) => r)));
}

describe('two server processes, one database, one Danal', () => {
  const cards: { orderID: string; transactionId: string }[] = [];

  it('credits each order once when its confirm arrives ten times at once, split over both processes', async () => {
    for (let i = 0; i < 5; i++) {
      const order = await createOrder(danal, user, 10_000);
      cards.push({ orderID: order.orderID, transactionId: await authorize(danal, order.orderID, 10_000) });
    }
    const answers = await Promise.all(
      cards.map((c) => toBoth(10, (api) => api.post('/api/payment/confirm').set(bearer(user)).send({ orderID: c.orderID, transactionID: c.transactionId, method: 'CARD' }))),
    );
    for (const perOrder of answers) {
      expect(perOrder.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
      // The rest saw the confirm in flight in the other process.
      for (const r of perOrder.filter((r) => r.status !== 200)) expect([r.status, r.body.error.code]).toEqual([409, 'ORDER_CONFIRMING']);
    }
    // Both processes asked the one Danal (not a sandbox of their own).
    const confirmsAtDanal = danal.logs.map((l) => JSON.parse(l)).filter((l) => l.path === '/sandbox/danal/payments/confirm');
    expect(confirmsAtDanal.length).toBeGreaterThanOrEqual(5);
    const wallet = await walletOf(danal, user);
    expect(wallet.balance).toBe(50_000);
    expect(wallet.entries.filter((e) => e.type === 'CHARGE')).toHaveLength(5);
  });

  it('refunds each order once when its cancel arrives ten times at once, split over both processes', async () => {
    const answers = await Promise.all(cards.map((c) => toBoth(10, (api) => api.post('/api/payment/cancel').set(bearer(user)).send({ orderID: c.orderID }))));
    for (const perOrder of answers) {
      expect(perOrder.filter((r) => r.status === 200)).toHaveLength(1);
      for (const r of perOrder.filter((r) => r.status !== 200)) expect(r.status).toBe(409);
    }
    for (const c of cards) expect((await sandboxTransaction(danal, c.transactionId)).cancels).toHaveLength(1);
    expect(await walletOf(danal, user)).toMatchObject({ balance: 0, heldPoints: 0 });
  });

  it('credits each virtual account once when its deposit notification arrives ten times at once at both processes', async () => {
    const accounts: { orderID: string; transactionId: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const order = await createOrder(danal, user, 30_000, 'VirtualAccount');
      const transactionId = await authorize(danal, order.orderID, 30_000, 'VACCOUNT');
      await request(processes[i % 2]!.url).post('/api/payment/confirm').set(bearer(user)).send({ orderID: order.orderID, transactionID: transactionId, method: 'VIRTUAL_ACCOUNT' }).expect(200);
      accounts.push({ orderID: order.orderID, transactionId });
    }
    const answers = await Promise.all(
      accounts.map((a) =>
        toBoth(10, (api) => api.post('/api/payment/noti/vaccount').send({ code: 'SUCCESS', message: '입금완료', transactionID: a.transactionId, orderID: a.orderID, amount: '30000' })),
      ),
    );
    for (const perOrder of answers) for (const r of perOrder) expect([r.status, r.body]).toEqual([200, { code: 'SUCCESS' }]);
    const wallet = await walletOf(danal, user);
    expect(wallet.balance).toBe(90_000);
    const credited = await danal.db.depositNotification.groupBy({ by: ['outcome'], _count: true, where: { orderId: { in: accounts.map((a) => a.orderID) } } });
    expect(Object.fromEntries(credited.map((c) => [c.outcome, c._count]))).toEqual({ CREDITED: 3, DUPLICATE: 27 });
    // And Danal's own notification, once more: SUCCESS, nothing credited, and the sandbox records the deposit.
    for (const a of accounts) expect((await danal.api.post('/sandbox/danal/deposit').send({ transactionId: a.transactionId }).expect(200)).body.delivered).toBe(true);
    expect((await walletOf(danal, user)).balance).toBe(90_000);
  });

  it('leaves a database the audit finds consistent with the ledger and with the sandbox', async () => {
    expect((await audit(danal.db)).discrepancies).toEqual([]);
  });
});
