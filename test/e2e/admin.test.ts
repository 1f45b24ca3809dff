// /api/admin on a database of its own (its sums and lists must be exact):
// an API key, never a user token; lookups, settlement, unsettled orders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import {
  authorize,
  bearer,
  cancel,
  confirm,
  createOrder,
  injectFault,
  newUser,
  ownDatabase,
  paidOrder,
  startTestServer,
  waitFor,
  withClient,
  type TestServer,
  type User,
} from '../helpers.js';

const KEY = 'admin-test-key-0123456789abcdef0123456789';
let t: TestServer;
let database: { url: string; drop(): Promise<void> };
let user: User;
let other: User;
type Known = { orderID: string; transactionId?: string };
const orders = {} as Record<'card' | 'canceled' | 'va' | 'unknown', Known>;

const admin = (path: string) => t.api.get(`/api/admin${path}`).set('Authorization', `Basic ${KEY}`);

beforeAll(async () => {
  database = await ownDatabase('admin');
  t = await startTestServer({ ADMIN_API_KEYS: `${KEY},second-key-for-rotation-0123456789abcdef` }, database.url);
  [user, other] = [await newUser(t), await newUser(t)];
  orders.card = await paidOrder(t, user, 10_000);
  orders.canceled = await paidOrder(t, user, 20_000);
  await cancel(t, user, orders.canceled.orderID).expect(200);
  const va = await createOrder(t, other, 30_000, 'VirtualAccount');
  const vaTx = await authorize(t, va.orderID, 30_000, 'VACCOUNT');
  await confirm(t, other, va.orderID, vaTx, 'VIRTUAL_ACCOUNT').expect(200);
  await t.api.post('/sandbox/danal/deposit').send({ transactionId: vaTx }).expect(200);
  orders.va = { orderID: va.orderID, transactionId: vaTx };
  const unknown = await createOrder(t, other, 5_000);
  const unknownTx = await authorize(t, unknown.orderID, 5_000);
  await injectFault(t, { operation: 'confirm', kind: 'server_error', orderId: unknown.orderID });
  await confirm(t, other, unknown.orderID, unknownTx).expect(504);
  orders.unknown = { orderID: unknown.orderID, transactionId: unknownTx };
});

afterAll(async () => {
  await t?.close();
  await database?.drop();
});

describe('admin authentication', () => {
  it('refuses no key, a wrong key and a user token; accepts either configured key, raw or as base64(key:)', async () => {
    expect((await t.api.get('/api/admin/stuck').expect(401)).body.error.code).toBe('ADMIN_UNAUTHORIZED');
    await t.api.get('/api/admin/stuck').set('Authorization', 'Basic wrong-key-0123456789abcdef0123456789').expect(401);
    await t.api.get('/api/admin/stuck').set(bearer(user)).expect(401);
    await t.api.get('/api/admin/stuck').set('Authorization', 'Basic second-key-for-rotation-0123456789abcdef').expect(200);
    await t.api.get('/api/admin/stuck').set('Authorization', `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`).expect(200);
  });

  it('is closed when no key is configured', async () => {
    const closed = await startTestServer({}, database.url);
    try {
      expect((await request(closed.url).get('/api/admin/stuck').set('Authorization', `Basic ${KEY}`).expect(401)).body.error.code).toBe('ADMIN_DISABLED');
    } finally {
      await closed.close();
    }
  });
});

describe('order lookup', () => {
  it('finds orders by orderID, by Danal transaction id (approval or cancel), and by user, with paging', async () => {
    const byId = (await admin(`/orders?orderID=${orders.card.orderID}`).expect(200)).body.data.orders;
    expect(byId).toHaveLength(1);
    expect(byId[0]).toMatchObject({ orderID: orders.card.orderID, userId: user.userId, status: 'Paid' });

    const byTx = (await admin(`/orders?transactionID=${orders.va.transactionId}`).expect(200)).body.data.orders;
    expect(byTx.map((o: { orderID: string }) => o.orderID)).toEqual([orders.va.orderID]);
    const cancelTx = (await admin(`/orders/${orders.canceled.orderID}`).expect(200)).body.data.order.danalCancelTransactionId;
    expect((await admin(`/orders?transactionID=${cancelTx}`).expect(200)).body.data.orders[0].orderID).toBe(orders.canceled.orderID);

    const first = (await admin(`/orders?userId=${user.userId}&limit=1`).expect(200)).body.data;
    expect(first.orders[0].orderID).toBe(orders.canceled.orderID);
    const second = (await admin(`/orders?userId=${user.userId}&limit=1&cursor=${first.nextCursor}`).expect(200)).body.data;
    expect(second.orders[0].orderID).toBe(orders.card.orderID);
    expect(second.nextCursor).toBeNull();
  });

  it('shows one order with its events, ledger rows and deposit notifications', async () => {
    const detail = (await admin(`/orders/${orders.va.orderID}`).expect(200)).body.data;
    expect(detail.order).toMatchObject({ status: 'Paid', userId: other.userId });
    expect(detail.ledger).toEqual([expect.objectContaining({ type: 'CHARGE', amount: 30_000 })]);
    expect(detail.notifications).toEqual([expect.objectContaining({ outcome: 'CREDITED' })]);
    expect((await admin('/orders/ORD_DOES_NOT_EXIST').expect(404)).body.error.code).toBe('ORDER_NOT_FOUND');
  });

  it('refuses bad filters with 400', async () => {
    expect((await admin('/orders?userId=not-a-uuid').expect(400)).body.error.code).toBe('VALIDATION_FAILED');
    expect((await admin('/orders?orderID=x').expect(400)).body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('settlement', () => {
  it('sums paid, cancelled and net amounts per Korean day and payment method', async () => {
    const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10); // the date in Seoul
    const data = (await admin(`/settlement?from=${today}&to=${today}`).expect(200)).body.data;
    expect(data.timeZone).toBe('Asia/Seoul');
    expect(data.days).toHaveLength(1);
    expect(data.days[0].methods).toEqual([
      { method: 'Card', paidCount: 2, paidAmount: 30_000, canceledCount: 1, canceledAmount: 20_000, netAmount: 10_000 },
      { method: 'VirtualAccount', paidCount: 1, paidAmount: 30_000, canceledCount: 0, canceledAmount: 0, netAmount: 30_000 },
    ]);
    expect(data.totals).toEqual({ paidCount: 3, paidAmount: 60_000, canceledCount: 1, canceledAmount: 20_000, netAmount: 40_000 });
    expect((await admin('/settlement?from=2020-01-01&to=2020-01-31').expect(200)).body.data.days).toEqual([]);
  });

  it('refuses a reversed or too long range', async () => {
    await admin('/settlement?from=2026-02-01&to=2026-01-01').expect(400);
    await admin('/settlement?from=2026-01-01&to=2026-12-31').expect(400);
    await admin('/settlement?from=yesterday&to=2026-01-01').expect(400);
  });
});

describe('unsettled orders', () => {
  it('lists the order whose confirm outcome is unknown, and has it retried on request', async () => {
    const stuck = (await admin('/stuck').expect(200)).body.data.orders;
    expect(stuck).toEqual([expect.objectContaining({ orderID: orders.unknown.orderID, status: 'ConfirmUnknown', needsOperator: false })]);

    // As if the reconciler had given up on it.
    await withClient((c) => c.query('UPDATE payment_orders SET reconcile_gave_up_at = now() WHERE id = $1', [orders.unknown.orderID]), database.url);
    expect((await admin('/stuck').expect(200)).body.data.orders[0].needsOperator).toBe(true);
    // A refund answers an unknown cancel; this order's confirm is what is unknown.
    const misfit = await t.api.post(`/api/admin/orders/${orders.unknown.orderID}/reconcile`).set('Authorization', `Basic ${KEY}`).send({ cancelOutcome: 'refunded' }).expect(422);
    expect(misfit.body.error).toMatchObject({ code: 'ANSWER_DOES_NOT_FIT', message: expect.stringContaining('approvedAmount') });
    expect((await admin('/stuck').expect(200)).body.data.orders[0].needsOperator).toBe(true);
    const retried = await t.api.post(`/api/admin/orders/${orders.unknown.orderID}/reconcile`).set('Authorization', `Basic ${KEY}`).expect(200);
    expect(retried.body.data).toEqual({ orderID: orders.unknown.orderID, scheduled: true });
    expect((await admin('/stuck').expect(200)).body.data.orders[0]).toMatchObject({ needsOperator: false, attempts: 0 });
    // This server runs no jobs: one sweep by hand settles it.
    await t.sweep();
    await waitFor(() => admin('/stuck').then((r) => r.body.data.orders), (o) => o.length === 0);

    const settled = await t.api.post(`/api/admin/orders/${orders.card.orderID}/reconcile`).set('Authorization', `Basic ${KEY}`).expect(409);
    expect(settled.body.error.code).toBe('ORDER_NOT_UNSETTLED');
  });
});
