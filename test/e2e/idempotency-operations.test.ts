// One Idempotency-Key is one operation, whatever happens between its tries:
// a 5xx, an operator's settlement, a lost answer, a lock takeover, two
// processes at once. The operation a key started carries the key in the
// database, so a retry with the key finds it and answers with its outcome.
// And only the outcome of work that ran is stored under a key: a client told
// to ask again can ask again with the same key.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { DanalHttpClient } from '../../src/danal/danal-http-client.js';
import { SANDBOX_MERCHANT_ID, SANDBOX_SECRET_KEY } from '../../src/config.js';
import { createCancelService } from '../../src/payments/cancel-service.js';
import { requestHash } from '../../src/idempotency/idempotency-store.js';
import {
  audit, authorize, bearer, createOrder, expectLedgerConsistent, injectFault, newUser, orderOf, ownDatabase, paidOrder,
  sandboxTransaction, startTestServer, waitFor, walletOf, type TestServer, type User,
} from '../helpers.js';

const ADMIN_KEY = 'idempotency-ops-admin-key-0123456789abcdef';
let database: { url: string; drop(): Promise<void> };
let t: TestServer; // one process
let u: TestServer; // another process on the same database, reaching the same Danal sandbox
let cutOff: TestServer; // a process that cannot reach Danal

beforeAll(async () => {
  database = await ownDatabase('idemops');
  t = await startTestServer({ ADMIN_API_KEYS: ADMIN_KEY, RECONCILE_RETRY_BASE_MS: '100' }, database.url);
  u = await startTestServer({ DANAL_API_BASE: `${t.url}/sandbox/danal` }, database.url);
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  cutOff = await startTestServer({ DANAL_API_BASE: `http://127.0.0.1:${port}` }, database.url);
});
afterAll(async () => {
  await Promise.all([t?.close(), u?.close(), cutOff?.close()]);
  await database?.drop();
});
afterEach(async () => {
  if (t) await expectLedgerConsistent(t.db);
});

const post = (server: TestServer, user: User, path: string, body: object, key?: string) => {
  const req = server.api.post(`/api/payment/${path}`).set(bearer(user));
  return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
};
const cancelsOf = (orderID: string) => t.db.orderCancel.findMany({ where: { orderId: orderID }, orderBy: { seq: 'asc' } });
const operator = (orderID: string, body: object) =>
  t.api.post(`/api/admin/orders/${orderID}/reconcile`).set('Authorization', `Basic ${ADMIN_KEY}`).send(body).expect(200);

describe('one Idempotency-Key is one operation', () => {
  it('a partial cancel that timed out (504), then settled by an operator as refunded, answers the retry with that cancel and refunds nothing more', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    const key = randomUUID();
    const body = { orderID: order.orderID, amount: 3_000 };
    await injectFault(t, { operation: 'cancel', kind: 'timeout', orderId: order.orderID, delayMs: 1_500 }); // refunded, answered too late
    expect((await post(t, user, 'cancel', body, key).expect(504)).body.error.code).toBe('DANAL_OUTCOME_UNKNOWN');

    // Asked again at once: the cancel the key started is not settled; said so, not stored.
    const unsettled = await post(t, user, 'cancel', body, key).expect(409);
    expect(unsettled.body.error.code).toBe('ORDER_CANCEL_UNKNOWN');
    expect(unsettled.body.error.message).toContain('not settled yet');

    // The operator reads Danal's console: refunded.
    await operator(order.orderID, { cancelOutcome: 'refunded' });
    await t.sweep();
    expect((await orderOf(t, user, order.orderID)).status).toBe('PartialCanceled');

    const retry = await post(t, user, 'cancel', body, key).expect(200);
    expect(retry.body.data).toEqual({ orderID: order.orderID, status: 'PartialCanceled', canceledAmount: 3_000, canceledPoints: 3_000, balanceAmount: 7_000, balance: 7_000 });
    expect((await post(t, user, 'cancel', body, key).expect(200)).headers['idempotent-replayed']).toBe('true');
    expect(await sandboxTransaction(t, order.transactionId)).toMatchObject({ canceledAmount: 3_000, cancels: [expect.objectContaining({ amount: 3_000 })] });
    expect((await cancelsOf(order.orderID)).map((c) => [c.amount, c.status])).toEqual([[3_000, 'Done']]);
    expect((await walletOf(t, user)).balance).toBe(7_000);
    // The same key with another amount is another operation: refused.
    expect((await post(t, user, 'cancel', { ...body, amount: 2_000 }, key).expect(422)).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('a partial cancel an operator found not refunded answers the retry with that refusal, and stores it', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    const key = randomUUID();
    const body = { orderID: order.orderID, amount: 4_000 };
    await injectFault(t, { operation: 'cancel', kind: 'server_error', orderId: order.orderID }); // HTTP 500: not done, outcome unknown to us
    await post(t, user, 'cancel', body, key).expect(504);
    await operator(order.orderID, { cancelOutcome: 'not_refunded' });
    await t.sweep();
    const retry = await post(t, user, 'cancel', body, key).expect(409);
    expect(retry.body.error.code).toBe('CANCEL_DECLINED');
    expect((await post(t, user, 'cancel', body, key).expect(409)).headers['idempotent-replayed']).toBe('true');
    // Nothing was refunded, and the key never sent another cancel.
    expect((await sandboxTransaction(t, order.transactionId)).cancels).toHaveLength(0);
    expect(await cancelsOf(order.orderID)).toHaveLength(1);
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000, heldPoints: 0 });
  });

  it('a cancel that never reached Danal (503) lets its key ask again, and the retry refunds once', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    const key = randomUUID();
    const body = { orderID: order.orderID, amount: 2_500 };
    expect((await post(cutOff, user, 'cancel', body, key).expect(503)).body.error.code).toBe('DANAL_UNAVAILABLE');
    const retry = await post(t, user, 'cancel', body, key).expect(200);
    expect(retry.body.data).toMatchObject({ status: 'PartialCanceled', canceledAmount: 2_500, balanceAmount: 7_500 });
    expect((await sandboxTransaction(t, order.transactionId)).cancels).toHaveLength(1);
  });

  it('an order created under a key whose answer was lost is found by the retry, not created twice', async () => {
    const user = await newUser(t);
    const body = { amount: 10_000, paymentMethod: 'Card' };
    const key = randomUUID();
    const first = await post(t, user, 'order', body, key).expect(201);
    // What a process killed after its commit leaves: the key running, its lock run out.
    await t.db.$executeRaw`UPDATE idempotency_keys SET response_status = NULL, response_body = NULL, completed_at = NULL, locked_until = now() - interval '1 second' WHERE key = ${key}`;
    const retried = await post(t, user, 'order', body, key).expect(201);
    expect(retried.body.data).toEqual(first.body.data);
    // And what a key store that forgot the key leaves (a purge, a lost row): the order still knows its key.
    await t.db.$executeRaw`DELETE FROM idempotency_keys WHERE key = ${key}`;
    expect((await post(u, user, 'order', body, key).expect(201)).body.data.orderID).toBe(first.body.data.orderID);
    expect((await post(t, user, 'order', { ...body, amount: 20_000 }, key).expect(422)).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await t.db.paymentOrder.count({ where: { userId: user.userId } })).toBe(1);
  });

  it('a confirm retried with its key after Danal was unreachable (503) cannot start an approval of another transaction', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const [first, second] = [await authorize(t, order.orderID, 10_000), await authorize(t, order.orderID, 10_000)];
    const key = randomUUID();
    expect((await post(cutOff, user, 'confirm', { orderID: order.orderID, transactionID: first, method: 'CARD' }, key).expect(503)).body.error.code).toBe('DANAL_UNAVAILABLE');
    const other = await post(t, user, 'confirm', { orderID: order.orderID, transactionID: second, method: 'CARD' }, key).expect(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await sandboxTransaction(t, second)).status).toBe('AUTHENTICATED');
    // The same body is the same operation, tried again.
    expect((await post(t, user, 'confirm', { orderID: order.orderID, transactionID: first, method: 'CARD' }, key).expect(200)).body.data.status).toBe('Paid');
  });

  it('the same keyed partial cancel sent at once to two processes refunds once, and every try then gets that cancel', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    const key = randomUUID();
    const body = { orderID: order.orderID, amount: 3_000 };
    await injectFault(t, { operation: 'cancel', kind: 'timeout', orderId: order.orderID, delayMs: 300 }); // slow, within the timeout
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => post(i % 2 ? u : t, user, 'cancel', body, key)));
    const served = answers.filter((a) => a.status === 200);
    expect(served.length).toBeGreaterThanOrEqual(1);
    for (const a of served) expect(a.body.data).toEqual(served[0]!.body.data);
    for (const a of answers.filter((a) => a.status !== 200)) expect([a.status, a.body.error.code]).toEqual([409, 'IDEMPOTENCY_REQUEST_IN_PROGRESS']);
    for (const server of [t, u]) {
      expect((await post(server, user, 'cancel', body, key).expect(200)).body.data).toMatchObject({ canceledAmount: 3_000, balanceAmount: 7_000 });
    }
    expect((await sandboxTransaction(t, order.transactionId)).canceledAmount).toBe(3_000);
  });

  it('the cancel service, asked twice under one key behind the key store, plans one cancel: the database holds the key', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    const request = { orderID: order.orderID, amount: 1_000 };
    const key = { id: `behind-the-store-${randomUUID()}`, requestHash: requestHash(request) };
    const cancels = createCancelService({
      db: t.db,
      danal: new DanalHttpClient({ baseUrl: () => `${t.url}/sandbox/danal`, secretKey: SANDBOX_SECRET_KEY, merchantId: SANDBOX_MERCHANT_ID, timeoutMs: 2_000 }),
      log: createLogger('silent'),
      smallestPartialCancel: 100,
    });
    // At once: one refunds, the other meets that cancel in flight (or done).
    const together = await Promise.allSettled([cancels.cancel(user.userId, request, key), cancels.cancel(user.userId, request, key)]);
    const done = together.filter((r) => r.status === 'fulfilled');
    expect(done.length).toBeGreaterThanOrEqual(1);
    for (const r of together.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ORDER_CANCELING' });
    // And after: the same answer, nothing new planned.
    expect(await cancels.cancel(user.userId, request, key)).toEqual({ orderID: order.orderID, status: 'PartialCanceled', canceledAmount: 1_000, canceledPoints: 1_000, balanceAmount: 9_000, balance: 9_000 });
    expect(await cancelsOf(order.orderID)).toHaveLength(1);
    expect((await sandboxTransaction(t, order.transactionId)).canceledAmount).toBe(1_000);
    // A second row under the key is refused by the database itself.
    await expect(
      t.db.$executeRaw`INSERT INTO order_cancels (order_id, seq, amount, point_amount, cancel_type, reason, status, completed_at, idempotency_id, request_hash)
                       VALUES (${order.orderID}, 99, 1000, 1000, 'P', 'x', 'Refused', now(), ${key.id}, ${key.requestHash})`,
    ).rejects.toThrow(/order_cancels_idempotency_id_key|unique/i);
  });
});

describe('what is stored under a key: the outcome of work that ran, not a refusal before any', () => {
  it('does not store 409 ORDER_CONFIRMING: the retry with the key gets the confirm it asked for', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionID = await authorize(t, order.orderID, 10_000);
    const body = { orderID: order.orderID, transactionID, method: 'CARD' };
    await injectFault(t, { operation: 'confirm', kind: 'timeout', orderId: order.orderID, delayMs: 800 }); // slow, within the timeout
    const key = randomUUID();
    const running = post(t, user, 'confirm', body).then((r) => r); // no key: the buyer's own first try, still waiting for Danal
    await waitFor(() => t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } }), (o) => o.status === 'Confirming', 5_000);
    const busy = await post(t, user, 'confirm', body, key).expect(409);
    expect(busy.body.error.code).toBe('ORDER_CONFIRMING');
    expect((await running).status).toBe(200);
    const retry = await post(t, user, 'confirm', body, key).expect(200);
    expect(retry.body.data).toMatchObject({ status: 'Paid', balance: 10_000 });
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('does not store 409 ORDER_CANCEL_UNKNOWN: once an operator settled the other cancel, the retry with the key runs', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    await injectFault(t, { operation: 'cancel', kind: 'server_error', orderId: order.orderID });
    await post(t, user, 'cancel', { orderID: order.orderID, amount: 3_000 }).expect(504); // no key, outcome unknown
    const key = randomUUID();
    const body = { orderID: order.orderID, amount: 2_000 };
    expect((await post(t, user, 'cancel', body, key).expect(409)).body.error.code).toBe('ORDER_CANCEL_UNKNOWN');
    await operator(order.orderID, { cancelOutcome: 'not_refunded' });
    await t.sweep();
    const retry = await post(t, user, 'cancel', body, key).expect(200);
    expect(retry.body.data).toMatchObject({ status: 'PartialCanceled', canceledAmount: 2_000, balanceAmount: 8_000 });
  });

  it('does not store 400 VALIDATION_FAILED: the corrected body with the same key is served', async () => {
    const user = await newUser(t);
    const key = randomUUID();
    expect((await post(t, user, 'order', { amount: 0, paymentMethod: 'Card' }, key).expect(400)).body.error.code).toBe('VALIDATION_FAILED');
    const corrected = await post(t, user, 'order', { amount: 10_000, paymentMethod: 'Card' }, key).expect(201);
    expect(corrected.body.data.amount).toBe(10_000);
  });

  it("stores Danal's refusal of work that ran: 402 PAYMENT_DECLINED is replayed", async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionID = await authorize(t, order.orderID, 10_000);
    await injectFault(t, { operation: 'confirm', kind: 'error', orderId: order.orderID, code: 'CARD_LIMIT' });
    const key = randomUUID();
    const body = { orderID: order.orderID, transactionID, method: 'CARD' };
    const first = await post(t, user, 'confirm', body, key).expect(402);
    const again = await post(t, user, 'confirm', body, key).expect(402);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('leaves the database consistent with Danal', async () => {
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });
});
