// When a request to Danal cannot even leave (connection refused), nothing
// happened at Danal: the order is freed for another try, the points released.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize, bearer, confirm, createOrder, expectLedgerConsistent, newUser, paidOrder, sandboxTransaction,
  startTestServer, walletOf, type TestServer,
} from '../helpers.js';

let t: TestServer;
let cutOff: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  cutOff = await startTestServer({ DANAL_API_BASE: `http://127.0.0.1:${port}` });
});
afterAll(async () => {
  await cutOff.close();
  await t.close();
});
afterEach(() => expectLedgerConsistent(t.db));

describe('Danal unreachable', () => {
  it('answers 503 to a confirm and leaves the order Pending, so it can be confirmed later', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user);
    const transactionId = await authorize(t, order.orderID, 10_000);
    const res = await confirm(cutOff, user, order.orderID, transactionId).expect(503);
    expect(res.body.error.code).toBe('DANAL_UNAVAILABLE');
    expect(res.body.error.message).toContain('nothing was charged');
    expect((await t.db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } })).status).toBe('Pending');
    await confirm(t, user, order.orderID, transactionId).expect(200);
    expect((await walletOf(t, user)).balance).toBe(10_000);
  });

  it('answers 503 to a cancel and releases the held points, the order still Paid', async () => {
    const user = await newUser(t);
    const order = await paidOrder(t, user);
    const res = await cutOff.api.post('/api/payment/cancel').set(bearer(user)).send({ orderID: order.orderID }).expect(503);
    expect(res.body.error.message).toContain('nothing was refunded');
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000, heldPoints: 0 });
    expect((await sandboxTransaction(t, order.transactionId)).cancels).toEqual([]);
    await t.api.post('/api/payment/cancel').set(bearer(user)).send({ orderID: order.orderID }).expect(200);
  });
});
