// The user's own history: orders and ledger, newest first, a page at a time,
// each order as the design seed's payment object.
import { describe, expect, it } from 'vitest';
import { authorize, bearer, cancel, confirm, createOrder, injectFault, newUser, paidOrder, useTestServer, type User } from '../helpers.js';

const t = useTestServer();

const listOrders = (user: User, query = '') => t.api.get(`/api/payment/orders${query}`).set(bearer(user));
const listLedger = (user: User, query = '') => t.api.get(`/api/wallet/ledger${query}`).set(bearer(user));

/** Every page, following nextCursor. */
async function allPages(user: User, path: string, limit: number) {
  const seen: { orderID?: string; id?: string }[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    type Row = { orderID?: string; id?: string };
    const res: { body: { data: { orders?: Row[]; entries?: Row[]; nextCursor: string | null } } } = await t.api.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`).set(bearer(user)).expect(200);
    seen.push(res.body.data.orders ?? res.body.data.entries ?? []);
    cursor = res.body.data.nextCursor;
  } while (cursor);
  return seen;
}

describe('GET /api/payment/orders', () => {
  it('pages through every order of the user exactly once, newest first', async () => {
    const user = await newUser(t);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await createOrder(t, user, 1_000 * (i + 1))).orderID);
    const pages = await allPages(user, '/api/payment/orders', 3);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((o) => o.orderID)).toEqual([...created].reverse());
  });

  it('shows only the caller’s orders', async () => {
    const [alice, bob] = [await newUser(t), await newUser(t)];
    await createOrder(t, alice);
    const mine = await createOrder(t, bob);
    const res = await listOrders(bob).expect(200);
    expect(res.body.data.orders.map((o: { orderID: string }) => o.orderID)).toEqual([mine.orderID]);
  });

  it('filters by status and by time, and keeps filtering across pages', async () => {
    const user = await newUser(t);
    const before = new Date().toISOString();
    const paid = [await paidOrder(t, user, 1_000), await paidOrder(t, user, 2_000), await paidOrder(t, user, 3_000)];
    await createOrder(t, user, 4_000); // Pending
    const canceled = await paidOrder(t, user, 5_000);
    await cancel(t, user, canceled.orderID).expect(200);

    const onlyPaid = await allPages(user, '/api/payment/orders?status=Paid', 2);
    expect(onlyPaid.flat().map((o) => o.orderID)).toEqual(paid.map((p) => p.orderID).reverse());
    const paidOrCanceled = (await listOrders(user, '?status=Paid,Canceled').expect(200)).body.data.orders;
    expect(paidOrCanceled).toHaveLength(4);
    expect((await listOrders(user, `?to=${encodeURIComponent(before)}`).expect(200)).body.data.orders).toEqual([]);
    expect((await listOrders(user, `?from=${encodeURIComponent(before)}`).expect(200)).body.data.orders).toHaveLength(5);
  });

  it('describes each order as a payment object', async () => {
    const user = await newUser(t);
    const canceled = await paidOrder(t, user, 10_000);
    await cancel(t, user, canceled.orderID).expect(200);
    const paid = await paidOrder(t, user, 20_000);
    const declined = await createOrder(t, user, 5_000);
    await injectFault(t, { operation: 'confirm', kind: 'error', orderId: declined.orderID, code: 'CARD_LIMIT', message: '한도 초과' });
    await confirm(t, user, declined.orderID, await authorize(t, declined.orderID, 5_000)).expect(402);

    const orders = (await listOrders(user).expect(200)).body.data.orders;
    const byId = Object.fromEntries(orders.map((o: { orderID: string }) => [o.orderID, o]));
    expect(byId[paid.orderID]).toMatchObject({
      status: 'Paid',
      totalAmount: 20_000,
      balanceAmount: 20_000,
      currency: 'KRW',
      method: 'Card',
      suppliedAmount: 18_182,
      vat: 1_818,
      taxFreeAmount: 0,
      transactionID: paid.transactionId,
      cancels: [],
      failure: null,
    });
    expect(byId[paid.orderID].approvedAt).toBeTruthy();
    expect(byId[canceled.orderID]).toMatchObject({ status: 'Canceled', totalAmount: 10_000, balanceAmount: 0 });
    expect(byId[canceled.orderID].cancels).toEqual([
      expect.objectContaining({ cancelAmount: 10_000, cancelReason: 'customer request', refundableAmount: 0, transactionKey: expect.any(String), canceledAt: expect.any(String) }),
    ]);
    expect(byId[declined.orderID]).toMatchObject({ status: 'Failed', balanceAmount: 0, failure: { code: 'CARD_LIMIT', message: '한도 초과' } });
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=101', 'limit'],
    ['?limit=ten', 'limit'],
    ['?status=Done', 'status'],
    ['?from=yesterday', 'from'],
    ['?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z', 'from'],
    ['?color=red', 'color'],
    ['?limit=1&limit=2', 'limit'],
  ])('refuses %s with 400 naming %s', async (query, field) => {
    const user = await newUser(t);
    const res = await listOrders(user, query).expect(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.some((d: { field: string }) => d.field === field || d.field.startsWith(`${field}.`))).toBe(true);
  });

  it('refuses a cursor it did not give out with 400 INVALID_CURSOR', async () => {
    const user = await newUser(t);
    for (const cursor of ['garbage', Buffer.from('{"t":"x","id":1}').toString('base64url'), Buffer.from('[]').toString('base64url')]) {
      expect((await listOrders(user, `?cursor=${cursor}`).expect(400)).body.error.code).toBe('INVALID_CURSOR');
    }
  });

  it('needs a token', async () => {
    await t.api.get('/api/payment/orders').expect(401);
    await t.api.get('/api/wallet/ledger').expect(401);
  });
});

describe('GET /api/wallet/ledger', () => {
  it('pages through every ledger row exactly once, newest first, with the balance after each', async () => {
    const user = await newUser(t);
    const a = await paidOrder(t, user, 1_000);
    const b = await paidOrder(t, user, 2_000);
    await cancel(t, user, a.orderID).expect(200);
    await paidOrder(t, user, 3_000);
    const pages = await allPages(user, '/api/wallet/ledger', 2);
    expect(pages.map((p) => p.length)).toEqual([2, 2]);
    const rows = pages.flat() as unknown as { type: string; amount: number; balanceAfter: number; orderID: string }[];
    expect(rows.map((r) => [r.type, r.amount, r.balanceAfter])).toEqual([
      ['CHARGE', 3_000, 5_000],
      ['CANCEL', -1_000, 2_000],
      ['CHARGE', 2_000, 3_000],
      ['CHARGE', 1_000, 1_000],
    ]);
    expect(rows[2]!.orderID).toBe(b.orderID);
  });

  it('refuses a bad limit or cursor', async () => {
    const user = await newUser(t);
    expect((await listLedger(user, '?limit=500').expect(400)).body.error.code).toBe('VALIDATION_FAILED');
    expect((await listLedger(user, '?cursor=abc').expect(400)).body.error.code).toBe('INVALID_CURSOR');
  });
});
