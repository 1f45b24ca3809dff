// A buyer who confirms their own order with another buyer's transactionID
// must not keep that transaction: Danal declines it, and its owner's confirm
// still works. A transaction is held by one order at a time (the one Danal
// approved it for, or the one whose confirm is open), never by a Failed one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  audit, authorize, confirm, createOrder, injectFault, newUser, orderOf, ownDatabase, sandboxTransaction, startTestServer,
  walletOf, type TestServer,
} from '../helpers.js';

let database: { url: string; drop(): Promise<void> };
let t: TestServer;

beforeAll(async () => {
  database = await ownDatabase('squat');
  t = await startTestServer({ RECONCILE_RETRY_BASE_MS: '100' }, database.url);
});
afterAll(async () => {
  await t?.close();
  await database?.drop();
});

async function aliceAndBob() {
  const [alice, bob] = [await newUser(t), await newUser(t)];
  const aliceOrder = await createOrder(t, alice, 10_000);
  const bobOrder = await createOrder(t, bob, 10_000);
  const aliceTx = await authorize(t, aliceOrder.orderID, 10_000); // Alice's payment window
  return { alice, bob, aliceOrder, bobOrder, aliceTx };
}

describe("another buyer's transactionID", () => {
  it('is declined for the order that does not own it, and its owner confirms afterwards', async () => {
    const { alice, bob, aliceOrder, bobOrder, aliceTx } = await aliceAndBob();
    const squat = await confirm(t, bob, bobOrder.orderID, aliceTx).expect(402);
    expect(squat.body.error.code).toBe('PAYMENT_DECLINED');
    expect(squat.body.error.message).toContain('ORDER_MISMATCH');
    expect(await orderOf(t, bob, bobOrder.orderID)).toMatchObject({ status: 'Failed', transactionID: null });

    const owner = await confirm(t, alice, aliceOrder.orderID, aliceTx).expect(200);
    expect(owner.body.data).toMatchObject({ status: 'Paid', balance: 10_000 });
    expect((await walletOf(t, bob)).balance).toBe(0);
    // Once Danal approved it for Alice, nobody else's confirm reaches Danal with it.
    const later = await createOrder(t, bob, 10_000);
    expect((await confirm(t, bob, later.orderID, aliceTx).expect(409)).body.error.code).toBe('TRANSACTION_ALREADY_USED');
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });

  it('held by a confirm whose answer was lost is released once the reconciler settles it; the owner is never refunded', async () => {
    const { alice, bob, aliceOrder, bobOrder, aliceTx } = await aliceAndBob();
    await injectFault(t, { operation: 'confirm', kind: 'timeout', orderId: bobOrder.orderID, delayMs: 1_500 });
    await confirm(t, bob, bobOrder.orderID, aliceTx).expect(504);
    // While nobody knows what Danal did with it, no other confirm may use it: ask again later.
    expect((await confirm(t, alice, aliceOrder.orderID, aliceTx).expect(409)).body.error.code).toBe('TRANSACTION_BEING_CONFIRMED');
    await new Promise((r) => setTimeout(r, 200));
    await t.sweep(); // the net cancel finds it never approved (for Bob)
    expect(await orderOf(t, bob, bobOrder.orderID)).toMatchObject({ status: 'Failed', failure: expect.objectContaining({ code: 'NOT_APPROVED' }), transactionID: null });

    await confirm(t, alice, aliceOrder.orderID, aliceTx).expect(200);
    expect(await sandboxTransaction(t, aliceTx)).toMatchObject({ status: 'APPROVED', canceledAmount: 0, cancels: [] });
    expect((await walletOf(t, alice)).balance).toBe(10_000);
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });
});
