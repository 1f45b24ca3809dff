// Partial cancel: POST /api/payment/cancel with an amount refunds that part at
// Danal (cancelType P), takes back the matching points, and leaves the order
// PartialCanceled until nothing remains. Never more than what remains, also
// when cancels race.
import { describe, expect, it } from 'vitest';
import {
  audit, authorize, bearer, cancel, confirm, createOrder, injectFault, ledgerRows, newUser, orderOf, paidOrder,
  sandboxTransaction, useTestServer, waitFor, walletOf, type User,
} from '../helpers.js';

const ADMIN_KEY = 'partial-cancel-admin-key-0123456789abcdef';
const t = useTestServer({ ADMIN_API_KEYS: ADMIN_KEY });

const statusOf = async (orderID: string) => (await t.db.paymentOrder.findUniqueOrThrow({ where: { id: orderID } })).status;

async function webhookStatuses(orderID: string) {
  const events = await t.db.webhookEvent.findMany({ where: { orderId: orderID }, orderBy: { createdAt: 'asc' } });
  return events.map((e) => ({ status: e.status, cancels: ((e.snapshot as { cancels?: unknown[] }).cancels ?? []).length }));
}

async function paidVirtualAccount(user: User, amount: number) {
  const order = await createOrder(t, user, amount, 'VirtualAccount');
  const transactionId = await authorize(t, order.orderID, amount, 'VACCOUNT');
  await confirm(t, user, order.orderID, transactionId, 'VIRTUAL_ACCOUNT').expect(200);
  await t.api.post('/sandbox/danal/deposit').send({ transactionId }).expect(200);
  await waitFor(() => orderOf(t, user, order.orderID), (o) => o.status === 'Paid');
  return { ...order, transactionId };
}

describe('partial cancel', () => {
  it('refunds parts until nothing remains: PartialCanceled, then Canceled, with one ledger row and one Danal cancel each', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);

    const first = await cancel(t, user, order.orderID, { amount: 3_000, reason: 'one item returned' }).expect(200);
    expect(first.body.data).toEqual({ orderID: order.orderID, status: 'PartialCanceled', canceledAmount: 3_000, canceledPoints: 3_000, balanceAmount: 7_000, balance: 7_000 });
    expect(first.body.message).toBe('Part of the payment canceled');
    const second = await cancel(t, user, order.orderID, { amount: 2_000 }).expect(200);
    expect(second.body.data).toMatchObject({ status: 'PartialCanceled', canceledAmount: 2_000, balanceAmount: 5_000, balance: 5_000 });

    const view = await orderOf(t, user, order.orderID);
    expect(view).toMatchObject({ status: 'PartialCanceled', totalAmount: 10_000, balanceAmount: 5_000, canceledAmount: 5_000, canceledPoints: 5_000, isPartialCancelable: true });
    expect(view.cancels.map((c) => [c.cancelAmount, c.refundableAmount, c.cancelReason])).toEqual([
      [3_000, 7_000, 'one item returned'],
      [2_000, 5_000, 'customer request'],
    ]);

    // Without an amount: what remains.
    const rest = await cancel(t, user, order.orderID).expect(200);
    expect(rest.body.data).toEqual({ orderID: order.orderID, status: 'Canceled', canceledAmount: 5_000, canceledPoints: 5_000, balanceAmount: 0, balance: 0 });
    expect(rest.body.message).toBe('Payment canceled');

    const danal = await sandboxTransaction(t, order.transactionId);
    expect(danal).toMatchObject({ status: 'CANCELED', canceledAmount: 10_000 });
    expect(danal.cancels.map((c: { amount: number; cancel_type: string }) => [Number(c.amount), c.cancel_type])).toEqual([[3_000, 'P'], [2_000, 'P'], [5_000, 'C']]);
    const final = await orderOf(t, user, order.orderID);
    expect(final.cancels.map((c) => c.transactionKey)).toEqual(danal.cancels.map((c: { cancel_transaction_id: string }) => c.cancel_transaction_id));
    expect(final).toMatchObject({ balanceAmount: 0, canceledAmount: 10_000 });
    expect((await ledgerRows(t.db, order.orderID)).map((r) => [r.type, r.amount])).toEqual([['CHARGE', 10_000], ['CANCEL', -3_000], ['CANCEL', -2_000], ['CANCEL', -5_000]]);
    // An operator finds the order by any of its Danal cancel ids, not only the last one.
    const firstCancelId = danal.cancels[0].cancel_transaction_id;
    const found = await t.api.get(`/api/admin/orders?transactionID=${firstCancelId}`).set('Authorization', `Basic ${ADMIN_KEY}`).expect(200);
    expect(found.body.data.orders.map((o: { orderID: string }) => o.orderID)).toEqual([order.orderID]);
    expect((await cancel(t, user, order.orderID, { amount: 1_000 }).expect(409)).body.error.code).toBe('ORDER_CANCELED');

    // Each refund is news for the merchant's systems, with the cancels so far.
    expect(await webhookStatuses(order.orderID)).toEqual([
      { status: 'Paid', cancels: 0 },
      { status: 'PartialCanceled', cancels: 1 },
      { status: 'PartialCanceled', cancels: 2 },
      { status: 'Canceled', cancels: 3 },
    ]);
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });

  it('refuses more than what remains with 409 and never asks Danal', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    await cancel(t, user, order.orderID, { amount: 4_000 }).expect(200);
    const res = await cancel(t, user, order.orderID, { amount: 6_001 }).expect(409);
    expect(res.body.error).toMatchObject({ code: 'CANCEL_AMOUNT_EXCEEDS_BALANCE' });
    expect(res.body.error.message).toContain('Only 6000 KRW');
    expect((await sandboxTransaction(t, order.transactionId)).cancels).toHaveLength(1);
    expect(await statusOf(order.orderID)).toBe('PartialCanceled');
    expect(await walletOf(t, user)).toMatchObject({ balance: 6_000, heldPoints: 0 });
  });

  it('two concurrent cancels that together exceed the balance: one succeeds, one gets 409, Danal is called once', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    const answers = await Promise.all([cancel(t, user, order.orderID, { amount: 6_000 }), cancel(t, user, order.orderID, { amount: 6_000 })]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(['ORDER_CANCELING', 'CANCEL_AMOUNT_EXCEEDS_BALANCE']).toContain(answers.find((a) => a.status === 409)!.body.error.code);
    const danal = await sandboxTransaction(t, order.transactionId);
    expect(danal.cancels).toHaveLength(1);
    expect(danal.canceledAmount).toBe(6_000);
    expect(await walletOf(t, user)).toMatchObject({ balance: 4_000, heldPoints: 0 });
    expect(await orderOf(t, user, order.orderID)).toMatchObject({ status: 'PartialCanceled', balanceAmount: 4_000 });
  });

  it('many concurrent partial cancels never refund more than the order, and Danal and the wallet agree', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    const answers = await Promise.all(Array.from({ length: 12 }, () => cancel(t, user, order.orderID, { amount: 3_000 })));
    const succeeded = answers.filter((a) => a.status === 200).length;
    expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    expect(succeeded).toBeGreaterThanOrEqual(1);
    expect(succeeded).toBeLessThanOrEqual(3);
    const danal = await sandboxTransaction(t, order.transactionId);
    expect(danal.canceledAmount).toBe(3_000 * succeeded);
    expect(danal.cancels).toHaveLength(succeeded);
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000 - 3_000 * succeeded, heldPoints: 0 });
    expect((await orderOf(t, user, order.orderID)).balanceAmount).toBe(10_000 - 3_000 * succeeded);
  });

  it('keeps the order PartialCanceled, with its points free, when Danal refuses the next part', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    await cancel(t, user, order.orderID, { amount: 1_000 }).expect(200);
    await injectFault(t, { operation: 'cancel', kind: 'error', orderId: order.orderID, code: 'CANCEL_PERIOD_OVER', message: '취소 기간 경과' });
    const refused = await cancel(t, user, order.orderID, { amount: 2_000 }).expect(409);
    expect(refused.body.error.code).toBe('CANCEL_DECLINED');
    expect(refused.body.error.message).toContain('stays PartialCanceled');
    expect(await orderOf(t, user, order.orderID)).toMatchObject({ status: 'PartialCanceled', balanceAmount: 9_000 });
    expect(await walletOf(t, user)).toMatchObject({ balance: 9_000, heldPoints: 0, availableBalance: 9_000 });
    // The refusal is not news: only Paid and the first part were sent.
    expect((await webhookStatuses(order.orderID)).map((e) => e.status)).toEqual(['Paid', 'PartialCanceled']);
    await cancel(t, user, order.orderID, { amount: 2_000 }).expect(200);
    expect((await walletOf(t, user)).balance).toBe(7_000);
  });

  it('takes no partial cancel of a virtual-account payment (409), but cancels it in full', async () => {
    const user = await newUser(t);
    const order = await paidVirtualAccount(user, 30_000);
    expect((await orderOf(t, user, order.orderID)).isPartialCancelable).toBe(false);
    const res = await cancel(t, user, order.orderID, { amount: 10_000 }).expect(409);
    expect(res.body.error.code).toBe('PARTIAL_CANCEL_NOT_SUPPORTED');
    expect((await sandboxTransaction(t, order.transactionId)).cancels).toHaveLength(0);
    expect(await statusOf(order.orderID)).toBe('Paid');
    await cancel(t, user, order.orderID, { amount: 30_000 }).expect(200);
    expect(await statusOf(order.orderID)).toBe('Canceled');
  });

  it('answers amounts that are not a positive whole number of KRW with 400 naming the field', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    for (const amount of [0, -100, 1.5, '3000', null, 1e12]) {
      const res = await t.api.post('/api/payment/cancel').set(bearer(user)).send({ orderID: order.orderID, amount }).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details[0].field).toBe('amount');
    }
    expect((await sandboxTransaction(t, order.transactionId)).cancels).toHaveLength(0);
  });

  it('is held by the database itself: no second refund row, no second cancel in flight, never more canceled than paid', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    await cancel(t, user, order.orderID, { amount: 4_000 }).expect(200);
    const id = order.orderID;
    // A second CANCEL row for cancel #1, or a CANCEL row that names no cancel.
    await expect(t.db.$executeRaw`INSERT INTO ledger_entries (user_id, order_id, type, amount, balance_after, cancel_seq)
      VALUES (${user.userId}::uuid, ${id}, 'CANCEL', -4000, 2000, 1)`).rejects.toThrow(/ledger_entries_one_per_order_type_and_cancel/);
    await expect(t.db.$executeRaw`INSERT INTO ledger_entries (user_id, order_id, type, amount, balance_after)
      VALUES (${user.userId}::uuid, ${id}, 'CANCEL', -1000, 5000)`).rejects.toThrow(/ledger_entries_cancel_seq_by_type/);
    // Two cancels in flight at once.
    await expect(t.db.$executeRaw`INSERT INTO order_cancels (order_id, seq, amount, point_amount, cancel_type, reason)
      VALUES (${id}, 2, 1000, 1000, 'P', 'x'), (${id}, 3, 1000, 1000, 'P', 'y')`).rejects.toThrow(/order_cancels_one_in_flight/);
    // More canceled than paid, or a status that does not match what was canceled.
    await expect(t.db.$executeRaw`UPDATE payment_orders SET status = 'Canceling', canceled_amount = 10001 WHERE id = ${id}`).rejects.toThrow(/payment_orders_canceled_within_paid/);
    await expect(t.db.$executeRaw`UPDATE payment_orders SET status = 'Canceled' WHERE id = ${id}`).rejects.toThrow(/payment_orders_canceled_matches_status/);
    await expect(t.db.$executeRaw`UPDATE payment_orders SET status = 'Paid' WHERE id = ${id}`).rejects.toThrow(/payment_orders_canceled_matches_status/);
    expect(await orderOf(t, user, id)).toMatchObject({ status: 'PartialCanceled', balanceAmount: 6_000 });
  });

  it('counts each part in the settlement on the day it was refunded', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user, 10_000);
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Seoul' }).format(new Date());
    const before = (await t.api.get(`/api/admin/settlement?from=${day}&to=${day}`).set('Authorization', `Basic ${ADMIN_KEY}`).expect(200)).body.data.totals;
    await cancel(t, user, order.orderID, { amount: 2_500 }).expect(200);
    await cancel(t, user, order.orderID, { amount: 500 }).expect(200);
    const after = (await t.api.get(`/api/admin/settlement?from=${day}&to=${day}`).set('Authorization', `Basic ${ADMIN_KEY}`).expect(200)).body.data.totals;
    expect(after.canceledCount - before.canceledCount).toBe(2);
    expect(after.canceledAmount - before.canceledAmount).toBe(3_000);
    expect(after.paidAmount).toBe(before.paidAmount);
  });
});
