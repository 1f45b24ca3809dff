import { describe, expect, it } from 'vitest';
import { spendPoints } from '../../src/wallet/wallet-ledger.js';
import {
  bearer, createOrder, injectFault, ledgerRows, newUser, paidOrder,
  sandboxTransaction, useTestServer, walletOf,
} from '../helpers.js';

const t = useTestServer();

const cancel = (user: { token: string }, orderID: string, body: Record<string, unknown> = {}) =>
  t.api.post('/api/payment/cancel').set(bearer(user as never)).send({ orderID, ...body });

describe('cancel', () => {
  it('refunds at Danal and takes the points back', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    const res = await cancel(user, order.orderID, { reason: 'changed my mind' }).expect(200);
    expect(res.body.data).toEqual({ orderID: order.orderID, status: 'Canceled', canceledAmount: 10_000, canceledPoints: 10_000, balanceAmount: 0, balance: 0 });

    const danal = await sandboxTransaction(t, order.transactionId);
    expect(danal).toMatchObject({ status: 'CANCELED', canceledAmount: 10_000 });
    expect(danal.cancels[0]).toMatchObject({ cancel_type: 'C', reason: 'changed my mind' });
    expect(danal.cancels[0].cancel_transaction_id).not.toBe(order.transactionId);
    const rows = await ledgerRows(t.db, order.orderID);
    expect(rows.map((r) => [r.type, r.amount])).toEqual([['CHARGE', 10_000], ['CANCEL', -10_000]]);
    const view = await t.api.get(`/api/payment/orders/${order.orderID}`).set(bearer(user)).expect(200);
    expect(view.body.data.status).toBe('Canceled');
    expect(view.body.data.canceledAt).toBeTruthy();
  });

  it('answers a second cancel with 409 ORDER_CANCELED and refunds nothing more', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    await cancel(user, order.orderID).expect(200);
    const again = await cancel(user, order.orderID).expect(409);
    expect(again.body.error.code).toBe('ORDER_CANCELED');
    expect((await sandboxTransaction(t, order.transactionId)).cancels).toHaveLength(1);
  });

  it('refuses to cancel an order that is not Paid, naming its status', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    const res = await cancel(user, order.orderID).expect(409);
    expect(res.body.error.code).toBe('ORDER_PENDING');
  });

  it('refuses with 409 and never calls Danal when the points were already spent', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    await spendPoints(t.db, user.userId, 3_000);
    const res = await cancel(user, order.orderID).expect(409);
    expect(res.body.error.code).toBe('POINTS_ALREADY_USED');
    const danal = await sandboxTransaction(t, order.transactionId);
    expect(danal).toMatchObject({ status: 'APPROVED', canceledAmount: 0, cancels: [] });
    const wallet = await walletOf(t, user);
    expect(wallet).toMatchObject({ balance: 7_000, heldPoints: 0 });
    expect((await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } })).status).toBe('Paid');
  });

  it('gives the points back and keeps the order Paid when Danal refuses the cancel', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    await injectFault(t, { operation: 'cancel', kind: 'error', orderId: order.orderID, code: 'CANCEL_PERIOD_OVER', message: '취소 기간 경과' });
    const res = await cancel(user, order.orderID).expect(409);
    expect(res.body.error.code).toBe('CANCEL_DECLINED');
    expect(res.body.error.message).toContain('CANCEL_PERIOD_OVER');
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000, heldPoints: 0, availableBalance: 10_000 });
    expect((await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } })).status).toBe('Paid');
    // Nothing stuck: the next cancel goes through.
    await cancel(user, order.orderID).expect(200);
    expect((await walletOf(t, user)).balance).toBe(0);
  });

  it('records a cancel that timed out as unknown and keeps the points held, not spendable', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    await injectFault(t, { operation: 'cancel', kind: 'timeout', orderId: order.orderID, delayMs: 2_500 });
    const res = await cancel(user, order.orderID).expect(504);
    expect(res.body.error.code).toBe('DANAL_OUTCOME_UNKNOWN');
    expect((await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } })).status).toBe('CancelUnknown');
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000, heldPoints: 10_000, availableBalance: 0 });
    await expect(spendPoints(t.db, user.userId, 1)).rejects.toMatchObject({ code: 'INSUFFICIENT_POINTS' });
    const again = await cancel(user, order.orderID).expect(409);
    expect(again.body.error.code).toBe('ORDER_CANCEL_UNKNOWN');
  });
});
