// Requests fired at once at the same order: the database decides who wins.
import { describe, expect, it } from 'vitest';
import {
  authorize, bearer, confirm, createOrder, ledgerRows, newUser, paidOrder,
  sandboxTransaction, useTestServer, walletOf,
} from '../helpers.js';
import { payOrderAndCredit } from '../../src/wallet/wallet-ledger.js';

const t = useTestServer();

describe('concurrent requests', () => {
  it('credits once when 25 confirms of one order arrive at once', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    const transactionId = await authorize(t, order.orderID, 10_000);
    const responses = await Promise.all(Array.from({ length: 25 }, () => confirm(t, user, order.orderID, transactionId)));

    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(statuses).toContain(200);
    for (const r of responses.filter((r) => r.status === 409)) expect(r.body.error.code).toBe('ORDER_CONFIRMING');
    expect(await ledgerRows(t.db, order.orderID)).toHaveLength(1);
    expect((await walletOf(t, user)).balance).toBe(10_000);
    // After the race, a confirm answers with the paid result.
    const after = await confirm(t, user, order.orderID, transactionId).expect(200);
    expect(after.body.data).toMatchObject({ status: 'Paid', balance: 10_000 });
  });

  it('credits each of many orders of one user exactly once when confirmed together', async () => {
    const user = await newUser(t);
    const orders = await Promise.all(Array.from({ length: 10 }, () => createOrder(t, user, 1_000)));
    const txs = await Promise.all(orders.map((o) => authorize(t, o.orderID, 1_000)));
    const responses = await Promise.all(orders.flatMap((o, i) => [confirm(t, user, o.orderID, txs[i]!), confirm(t, user, o.orderID, txs[i]!)]));
    expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(10);
    const wallet = await walletOf(t, user);
    expect(wallet.balance).toBe(10_000);
    expect(await t.db.ledgerEntry.count({ where: { userId: user.userId } })).toBe(10);
  });

  it('refunds once when 10 cancels of one order arrive at once', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => t.api.post('/api/payment/cancel').set(bearer(user)).send({ orderID: order.orderID })),
    );
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(409);
      expect(['ORDER_CANCELING', 'ORDER_CANCELED']).toContain(r.body.error.code);
    }
    const danal = await sandboxTransaction(t, order.transactionId);
    expect(danal.cancels).toHaveLength(1);
    expect((await walletOf(t, user)).balance).toBe(0);
    expect((await ledgerRows(t.db, order.orderID)).map((r) => r.type)).toEqual(['CHARGE', 'CANCEL']);
  });

  it('refuses a second CHARGE or CANCEL row for an order in the database itself', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    await expect(
      t.db.ledgerEntry.create({ data: { userId: user.userId, orderId: order.orderID, type: 'CHARGE', amount: 10_000, balanceAfter: 20_000 } }),
    ).rejects.toThrow();
    await expect(t.db.$executeRaw`UPDATE wallets SET balance = -1 WHERE user_id = ${user.userId}::uuid`).rejects.toThrow();
    await expect(t.db.$executeRaw`UPDATE ledger_entries SET amount = 1 WHERE order_id = ${order.orderID}`).rejects.toThrow(/append-only/);
    await expect(t.db.$executeRaw`DELETE FROM ledger_entries WHERE order_id = ${order.orderID}`).rejects.toThrow(/append-only/);
  });

  it('never marks an order Paid without crediting it: the one-statement charge is all or nothing', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    await t.db.$executeRaw`UPDATE payment_orders SET status = 'Confirming', danal_transaction_id = ${`TX-NOWALLET-${order.orderID}`} WHERE id = ${order.orderID}`;
    // A wallet that is not there (a bug elsewhere) must make the charge fail, not pay the order with nothing credited.
    await t.db.$executeRaw`DELETE FROM wallets WHERE user_id = ${user.userId}::uuid`;
    await expect(payOrderAndCredit(t.db, order.orderID, new Date())).rejects.toThrow(/balance_after/);
    expect((await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } })).status).toBe('Confirming');
    expect(await ledgerRows(t.db, order.orderID)).toEqual([]);
    await t.db.$executeRaw`INSERT INTO wallets (user_id) VALUES (${user.userId}::uuid)`;
    expect(await payOrderAndCredit(t.db, order.orderID, new Date())).toBe(order.pointAmount);
  });
});
