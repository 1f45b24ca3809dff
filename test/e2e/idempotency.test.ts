// Idempotency-Key on order, confirm and cancel: a repeat gets the first
// answer and no work is done twice.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { purgeExpiredKeys, requestHash } from '../../src/idempotency/idempotency-store.js';
import { authorize, bearer, createOrder, injectFault, newUser, paidOrder, sandboxTransaction, useTestServer, walletOf, type User } from '../helpers.js';

const t = useTestServer();

const post = (user: User, path: string, body: object, key?: string) => {
  const req = t.api.post(`/api/payment/${path}`).set(bearer(user));
  return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
};
const ordersOf = (user: User) => t.db.paymentOrder.count({ where: { userId: user.userId } });

describe('Idempotency-Key', () => {
  it('creates one order for two requests with one key, and replays the first answer', async () => {
    const user = await newUser(t);
    const key = randomUUID();
    const first = await post(user, 'order', { amount: 10_000, paymentMethod: 'Card' }, key).expect(201);
    const again = await post(user, 'order', { paymentMethod: 'Card', amount: 10_000 }, key).expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await ordersOf(user)).toBe(1);
  });

  it('replays a confirm without confirming again: the stored balance, not the current one', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionID = await authorize(t, order.orderID, 10_000);
    const body = { orderID: order.orderID, transactionID, method: 'CARD' };
    const key = randomUUID();
    const first = await post(user, 'confirm', body, key).expect(200);
    expect(first.body.data.balance).toBe(10_000);
    await paidOrder(t, user, 5_000); // the wallet moves on
    const again = await post(user, 'confirm', body, key).expect(200);
    expect(again.body).toEqual(first.body);
    expect((await walletOf(t, user)).balance).toBe(15_000);
  });

  it('refunds once for a cancel sent twice with one key', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 10_000);
    const key = randomUUID();
    const first = await post(user, 'cancel', { orderID: paid.orderID }, key).expect(200);
    const again = await post(user, 'cancel', { orderID: paid.orderID }, key).expect(200);
    expect(again.body).toEqual(first.body);
    expect((await sandboxTransaction(t, paid.transactionId)).cancels).toHaveLength(1);
    // Without the key, the repeat is a new request and meets the order's state.
    expect((await post(user, 'cancel', { orderID: paid.orderID }).expect(409)).body.error.code).toBe('ORDER_CANCELED');
  });

  it('refuses the same key with a different body (422), and does nothing', async () => {
    const user = await newUser(t);
    const key = randomUUID();
    await post(user, 'order', { amount: 10_000, paymentMethod: 'Card' }, key).expect(201);
    const res = await post(user, 'order', { amount: 20_000, paymentMethod: 'Card' }, key).expect(422);
    expect(res.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await ordersOf(user)).toBe(1);
  });

  it('answers 409 to a repeat that arrives while the first is still waiting for Danal', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionID = await authorize(t, order.orderID, 10_000);
    await injectFault(t, { operation: 'confirm', kind: 'timeout', orderId: order.orderID, delayMs: 600 }); // slow, within the timeout
    const body = { orderID: order.orderID, transactionID, method: 'CARD' };
    const key = randomUUID();
    const responses = await Promise.all([post(user, 'confirm', body, key), post(user, 'confirm', body, key)]);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    expect(responses.find((r) => r.status === 409)!.body.error.code).toBe('IDEMPOTENCY_REQUEST_IN_PROGRESS');
    // Once the first has finished, the repeat gets its answer.
    const later = await post(user, 'confirm', body, key).expect(200);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect((await walletOf(t, user)).balance).toBe(10_000);
  });

  it('keeps keys apart per user: another user with the same key gets an order of their own', async () => {
    const [alice, bob] = [await newUser(t), await newUser(t)];
    const key = randomUUID();
    const a = await post(alice, 'order', { amount: 10_000, paymentMethod: 'Card' }, key).expect(201);
    const b = await post(bob, 'order', { amount: 10_000, paymentMethod: 'Card' }, key).expect(201);
    expect(b.body.data.orderID).not.toBe(a.body.data.orderID);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
  });

  it('does not store a 5xx: a retry with the key runs again and meets the order as it now is', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionID = await authorize(t, order.orderID, 10_000);
    await injectFault(t, { operation: 'confirm', kind: 'server_error', orderId: order.orderID });
    const body = { orderID: order.orderID, transactionID, method: 'CARD' };
    const key = randomUUID();
    expect((await post(user, 'confirm', body, key).expect(504)).body.error.code).toBe('DANAL_OUTCOME_UNKNOWN');
    const retry = await post(user, 'confirm', body, key).expect(409);
    expect(retry.body.error.code).toBe('ORDER_CONFIRM_UNKNOWN');
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('lets a repeat take over a key whose first request was lost with its process', async () => {
    const user = await newUser(t);
    const key = randomUUID();
    const body = { amount: 10_000, paymentMethod: 'Card' };
    // What a process killed mid-request leaves: the key running, its lock run out.
    await t.db.$executeRaw`INSERT INTO idempotency_keys (user_id, route, key, request_hash, locked_until)
      VALUES (${user.userId}::uuid, 'POST /api/payment/order', ${key}, ${requestHash(body)}, now() - interval '1 second')`;
    await post(user, 'order', body, key).expect(201);
    expect(await ordersOf(user)).toBe(1);
    expect((await post(user, 'order', body, key).expect(201)).headers['idempotent-replayed']).toBe('true');
  });

  it.each([
    ['too long', 'k'.repeat(256)],
    ['with a space', 'my key'],
    ['not ASCII', 'café'],
  ])('refuses a key %s with 400', async (_why, key) => {
    const user = await newUser(t);
    const res = await t.api
      .post('/api/payment/order')
      .set(bearer(user))
      .set('Idempotency-Key', key)
      .send({ amount: 10_000, paymentMethod: 'Card' })
      .expect(400);
    expect(res.body.error.code).toBe('INVALID_IDEMPOTENCY_KEY');
    expect(await ordersOf(user)).toBe(0);
  });

  it('keeps a key for the configured hours (at least 24) and then forgets it', async () => {
    const user = await newUser(t);
    const [young, old] = [randomUUID(), randomUUID()];
    await post(user, 'order', { amount: 10_000, paymentMethod: 'Card' }, young).expect(201);
    await post(user, 'order', { amount: 10_000, paymentMethod: 'Card' }, old).expect(201);
    await t.db.$executeRaw`UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = ${young}`;
    await t.db.$executeRaw`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = ${old}`;
    await purgeExpiredKeys(t.db, 24);
    const left = await t.db.idempotencyKey.findMany({ where: { userId: user.userId }, select: { key: true } });
    expect(left.map((k) => k.key)).toEqual([young]);
  });
});
