// The reconciler on pg-boss, running in the background as in production, on a
// database of its own: every unknown outcome ends in a final state that
// matches what the Danal sandbox did, and nothing is credited or refunded twice.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  audit,
  authorize,
  cancel,
  confirm,
  createOrder,
  eventsOf,
  injectFault,
  newUser,
  orderOf,
  ownDatabase,
  paidOrder,
  sandboxTransaction,
  startTestServer,
  waitFor,
  walletOf,
  withClient,
  type TestServer,
  type User,
} from '../helpers.js';

const exec = promisify(execFile);
const JOBS = {
  JOBS_ENABLED: 'true',
  RECONCILE_INTERVAL_SECONDS: '1',
  RECONCILE_RETRY_BASE_MS: '200',
  RECONCILE_RETRY_MAX_MS: '1000',
  RECONCILE_MAX_ATTEMPTS: '3',
  RECONCILE_STALE_AFTER_MS: '31000',
  JOBS_STALE_AFTER_SECONDS: '5',
};
const ADMIN_KEY = 'reconciler-test-admin-key-0123456789abcdef';
// The sandbox answers this late: after the service's 1 s Danal timeout.
const LATE = 2_500;

let t: TestServer;
let database: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  database = await ownDatabase('reconciler');
  t = await startTestServer({ ...JOBS, ADMIN_API_KEYS: ADMIN_KEY }, database.url);
});

afterAll(async () => {
  await t?.close();
  await database?.drop();
});

const statusIs = (status: string) => (order: { status: string }) => order.status === status;
const settled = (user: User, orderID: string, status: string) => waitFor(() => orderOf(t, user, orderID), statusIs(status));

async function opsStuck(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'scripts/ops-stuck.ts', ...args], { env: { ...process.env, DATABASE_URL: database.url } });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('unknown confirms', () => {
  it('a confirm whose answer came too late is net-canceled at Danal and the order fails with nothing credited', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionId = await authorize(t, order.orderID, 10_000);
    await injectFault(t, { operation: 'confirm', kind: 'timeout', orderId: order.orderID, delayMs: LATE });
    const res = await confirm(t, user, order.orderID, transactionId).expect(504);
    expect(res.body.error.code).toBe('DANAL_OUTCOME_UNKNOWN');

    const failed = await settled(user, order.orderID, 'Failed');
    expect(failed.failure?.code).toBe('NET_CANCELED');
    const danal = await sandboxTransaction(t, transactionId);
    expect(danal).toMatchObject({ status: 'CANCELED', approvedAmount: 10_000, canceledAmount: 10_000 });
    expect(danal.cancels).toHaveLength(1);
    expect((await walletOf(t, user)).balance).toBe(0);
    expect(await eventsOf(t, order.orderID)).toEqual(['confirm.unknown', 'reconcile.net_canceled']);
    // The buyer retrying the same confirm learns the order failed; nothing is charged again.
    expect((await confirm(t, user, order.orderID, transactionId).expect(409)).body.error.code).toBe('ORDER_FAILED');
  });

  it('a confirm Danal answered with a server error is found never approved: Failed, and no refund is made', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 5_000);
    const transactionId = await authorize(t, order.orderID, 5_000);
    await injectFault(t, { operation: 'confirm', kind: 'server_error', orderId: order.orderID });
    await confirm(t, user, order.orderID, transactionId).expect(504);

    const failed = await settled(user, order.orderID, 'Failed');
    expect(failed.failure?.code).toBe('NOT_APPROVED');
    expect(await sandboxTransaction(t, transactionId)).toMatchObject({ status: 'AUTHENTICATED', approvedAmount: null, cancels: [] });
    expect(await eventsOf(t, order.orderID)).toEqual(['confirm.unknown', 'reconcile.not_approved']);
  });

  it('an approval of another amount whose refund failed is returned in full, at the amount Danal approved', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionId = await authorize(t, order.orderID, 10_000);
    await injectFault(t, { operation: 'confirm', kind: 'different_amount', orderId: order.orderID, amount: 12_000 });
    await injectFault(t, { operation: 'cancel', kind: 'server_error', orderId: order.orderID });
    expect((await confirm(t, user, order.orderID, transactionId).expect(409)).body.error.code).toBe('AMOUNT_MISMATCH');
    expect((await orderOf(t, user, order.orderID)).status).toBe('ConfirmUnknown');

    await settled(user, order.orderID, 'Failed');
    expect(await sandboxTransaction(t, transactionId)).toMatchObject({ status: 'CANCELED', approvedAmount: 12_000, canceledAmount: 12_000 });
    expect((await walletOf(t, user)).balance).toBe(0);
  });
});

describe('unknown cancels', () => {
  it('a cancel whose answer came too late is settled as Canceled: the held points leave, Danal refunded once', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 10_000);
    await injectFault(t, { operation: 'cancel', kind: 'timeout', orderId: paid.orderID, delayMs: LATE });
    await cancel(t, user, paid.orderID).expect(504);
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000, heldPoints: 10_000, availableBalance: 0 });

    await settled(user, paid.orderID, 'Canceled');
    expect(await walletOf(t, user)).toMatchObject({ balance: 0, heldPoints: 0 });
    expect((await sandboxTransaction(t, paid.transactionId)).cancels).toHaveLength(1);
    expect(await eventsOf(t, paid.orderID)).toEqual(['cancel.unknown', 'reconcile.already_canceled']);
  });

  it('a cancel lost to a server error is sent again and refunds once', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 20_000);
    await injectFault(t, { operation: 'cancel', kind: 'server_error', orderId: paid.orderID });
    await cancel(t, user, paid.orderID).expect(504);

    await settled(user, paid.orderID, 'Canceled');
    const danal = await sandboxTransaction(t, paid.transactionId);
    expect(danal.cancels).toHaveLength(1);
    expect(await eventsOf(t, paid.orderID)).toEqual(['cancel.unknown', 'reconcile.canceled']);
    expect((await walletOf(t, user)).balance).toBe(0);
  });

  it('a cancel Danal refuses when asked again leaves the order Paid with its points free', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 10_000);
    await injectFault(t, { operation: 'cancel', kind: 'server_error', orderId: paid.orderID });
    await injectFault(t, { operation: 'cancel', kind: 'error', orderId: paid.orderID, code: 'CANCEL_PERIOD_OVER', message: '취소 가능 기간 경과' });
    await cancel(t, user, paid.orderID).expect(504);

    const order = await settled(user, paid.orderID, 'Paid');
    expect(order.failure?.code).toBe('CANCEL_PERIOD_OVER');
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000, heldPoints: 0, availableBalance: 10_000 });
    expect((await sandboxTransaction(t, paid.transactionId)).cancels).toHaveLength(0);
  });

  it('an order Danal keeps failing on is given up after its attempts, listed by ops:stuck, and settled after an operator retry', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 10_000);
    // One for the cancel request, three for the reconciler's attempts.
    for (let i = 0; i < 4; i++) await injectFault(t, { operation: 'cancel', kind: 'server_error', orderId: paid.orderID });
    await cancel(t, user, paid.orderID).expect(504);

    const gaveUp = await waitFor(() => eventsOf(t, paid.orderID), (events) => events.includes('reconcile.gave_up'));
    expect(gaveUp).toEqual(['cancel.unknown', 'reconcile.retry', 'reconcile.retry', 'reconcile.gave_up']);
    expect((await orderOf(t, user, paid.orderID)).status).toBe('CancelUnknown');

    const listed = await opsStuck();
    expect(listed.code).toBe(1);
    expect(listed.output).toContain(`${paid.orderID}  CancelUnknown  10000 KRW`);
    expect(listed.output).toContain('NEEDS OPERATOR');
    expect(listed.output).toMatch(/1 unsettled order\(s\), 1 waiting for an operator/);

    const retried = await opsStuck('--retry', paid.orderID);
    expect(retried).toMatchObject({ code: 0 });
    await settled(user, paid.orderID, 'Canceled');
    expect((await opsStuck()).output).toMatch(/0 unsettled order\(s\), 0 waiting for an operator/);
  });
});

describe('what only an operator can settle', () => {
  it('a lost confirm that Danal approved for another amount is given up at once, then net-canceled with the amount the operator read', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    // A tampered checkout: the buyer authenticated 12,000 KRW, and Danal approved that.
    const transactionId = await authorize(t, order.orderID, 12_000);
    await withClient(async (c) => {
      await c.query(`UPDATE danal_sandbox.transactions SET status = 'APPROVED', approved_amount = 12000, approved_at = now() WHERE transaction_id = $1`, [transactionId]);
      // ...and the process that heard the answer died before recording it.
      await c.query(
        `UPDATE payment_orders SET status = 'Confirming', danal_transaction_id = $2, danal_method = 'CARD', updated_at = now() - interval '1 minute' WHERE id = $1`,
        [order.orderID, transactionId],
      );
    }, database.url);

    // A full cancel of 10,000 is refused: no retry can change that, so it goes to an operator at once.
    const events = await waitFor(() => eventsOf(t, order.orderID), (e) => e.includes('reconcile.gave_up'));
    expect(events).toEqual(['confirm.unknown', 'reconcile.gave_up']);
    const listed = await opsStuck();
    expect(listed.output).toContain(`${order.orderID}  ConfirmUnknown`);
    expect(listed.output).toContain(`--retry ${order.orderID} --approved-amount`);

    // The operator reads 12,000 in Danal's console.
    expect(await opsStuck('--retry', order.orderID, '--approved-amount', '12000')).toMatchObject({ code: 0 });
    expect((await settled(user, order.orderID, 'Failed')).failure?.code).toBe('NET_CANCELED');
    expect(await sandboxTransaction(t, transactionId)).toMatchObject({ status: 'CANCELED', approvedAmount: 12_000, canceledAmount: 12_000 });
    expect(await opsStuck('--approved-amount', '5')).toMatchObject({ code: 2 });
  });
});

describe('unknown partial cancels', () => {
  it('are never sent twice: the operator says Danal refunded, and the part is taken back once', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 10_000);
    // Danal refunds, but the answer comes after the service stopped waiting.
    await injectFault(t, { operation: 'cancel', kind: 'timeout', orderId: paid.orderID, delayMs: LATE });
    await cancel(t, user, paid.orderID, { amount: 4_000 }).expect(504);
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000, heldPoints: 4_000, availableBalance: 6_000 });

    // Repeating a part could refund it twice: the reconciler hands it to an operator at once.
    const events = await waitFor(() => eventsOf(t, paid.orderID), (e) => e.includes('reconcile.gave_up'));
    expect(events).toEqual(['cancel.unknown', 'reconcile.gave_up']);
    const listed = await opsStuck();
    expect(listed.output).toContain(`${paid.orderID}  CancelUnknown`);
    expect(listed.output).toContain(`--retry ${paid.orderID} --cancel-outcome refunded|not-refunded`);
    expect(await opsStuck('--retry', paid.orderID, '--cancel-outcome', 'maybe')).toMatchObject({ code: 2 });
    // An approved amount answers an unknown confirm: given for this cancel, it is refused, not ignored.
    expect(await opsStuck('--retry', paid.orderID, '--approved-amount', '10000')).toMatchObject({ code: 2 });
    expect((await eventsOf(t, paid.orderID)).filter((e) => e === 'reconcile.operator_retry')).toHaveLength(0);

    // Danal's console shows the refund.
    expect(await opsStuck('--retry', paid.orderID, '--cancel-outcome', 'refunded')).toMatchObject({ code: 0 });
    expect(await settled(user, paid.orderID, 'PartialCanceled')).toMatchObject({ balanceAmount: 6_000, canceledAmount: 4_000 });
    expect(await walletOf(t, user)).toMatchObject({ balance: 6_000, heldPoints: 0 });
    expect(await sandboxTransaction(t, paid.transactionId)).toMatchObject({ canceledAmount: 4_000, cancels: [expect.anything()] });

    // The rest, lost too: a cancel of everything that remains is safe to send again.
    await injectFault(t, { operation: 'cancel', kind: 'timeout', orderId: paid.orderID, delayMs: LATE });
    await cancel(t, user, paid.orderID).expect(504);
    await settled(user, paid.orderID, 'Canceled');
    expect(await walletOf(t, user)).toMatchObject({ balance: 0, heldPoints: 0 });
    expect(await sandboxTransaction(t, paid.transactionId)).toMatchObject({ status: 'CANCELED', canceledAmount: 10_000 });
    expect((await eventsOf(t, paid.orderID)).slice(-2)).toEqual(['cancel.unknown', 'reconcile.already_canceled']);
  });

  it('the operator says Danal did not refund: the order is as it was and its points are free', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 10_000);
    // The request is lost before Danal processed it.
    await injectFault(t, { operation: 'cancel', kind: 'server_error', orderId: paid.orderID });
    await cancel(t, user, paid.orderID, { amount: 4_000 }).expect(504);
    await waitFor(() => eventsOf(t, paid.orderID), (e) => e.includes('reconcile.gave_up'));

    const reconcile = (body: object) => t.api.post(`/api/admin/orders/${paid.orderID}/reconcile`).set('Authorization', `Basic ${ADMIN_KEY}`).send(body);
    // The wrong kind of answer, or both kinds, changes nothing and says why.
    const misfit = await reconcile({ approvedAmount: 10_000 });
    expect(misfit.status).toBe(422);
    expect(misfit.body.error).toMatchObject({ code: 'ANSWER_DOES_NOT_FIT', message: expect.stringContaining('cancelOutcome') });
    expect((await reconcile({ approvedAmount: 10_000, cancelOutcome: 'not_refunded' })).status).toBe(400);
    expect(await eventsOf(t, paid.orderID)).not.toContain('reconcile.operator_retry');

    const res = await reconcile({ cancelOutcome: 'not_refunded' });
    expect(res.status).toBe(200);
    const order = await settled(user, paid.orderID, 'Paid');
    expect(order).toMatchObject({ balanceAmount: 10_000, cancels: [], failure: { code: 'NOT_REFUNDED' } });
    expect(await walletOf(t, user)).toMatchObject({ balance: 10_000, heldPoints: 0 });
    expect((await sandboxTransaction(t, paid.transactionId)).cancels).toHaveLength(0);
    await cancel(t, user, paid.orderID, { amount: 4_000 }).expect(200);
  });
});

describe('expiry', () => {
  it('a Pending order past its expiry becomes Expired and can no longer be confirmed', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 10_000);
    const transactionId = await authorize(t, order.orderID, 10_000);
    // Time passes: the order's 30 minutes are over.
    await withClient((c) => c.query(`UPDATE payment_orders SET expires_at = now() - interval '1 second' WHERE id = $1`, [order.orderID]), database.url);

    await settled(user, order.orderID, 'Expired');
    expect(await eventsOf(t, order.orderID)).toEqual(['order.expired']);
    expect((await confirm(t, user, order.orderID, transactionId).expect(409)).body.error.code).toBe('ORDER_EXPIRED');
  });

  it('a virtual account past its deadline becomes Expired; a deposit Danal still took is credited all the same', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 30_000, 'VirtualAccount');
    const transactionId = await authorize(t, order.orderID, 30_000, 'VACCOUNT');
    await confirm(t, user, order.orderID, transactionId, 'VIRTUAL_ACCOUNT').expect(200);
    await withClient((c) => c.query(`UPDATE payment_orders SET vaccount_due_at = now() - interval '1 second' WHERE id = $1`, [order.orderID]), database.url);

    await settled(user, order.orderID, 'Expired');
    expect(await eventsOf(t, order.orderID)).toEqual(['order.expired']);
    // Danal's deadline is a day away (the sandbox's default for an authorize without expireDate): it took the money.
    const deposit = await t.api.post('/sandbox/danal/deposit').send({ transactionId }).expect(200);
    expect(deposit.body).toMatchObject({ replyStatus: 200, delivered: true });
    const recorded = await t.db.depositNotification.findMany({ where: { orderId: order.orderID } });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ outcome: 'CREDITED', reason: 'credited 30000 points after our deposit deadline' });
    expect((await orderOf(t, user, order.orderID)).status).toBe('Paid');
    expect((await walletOf(t, user)).balance).toBe(30_000);
  });
});

describe('orders a lost request left in flight', () => {
  it('become unknown once stale and are settled: a Confirming order fails, a Canceling order is canceled', async () => {
    const user = await newUser(t);
    const confirming = await createOrder(t, user, 10_000);
    const transactionId = await authorize(t, confirming.orderID, 10_000);
    const canceling = await paidOrder(t, user, 20_000);
    // What a process killed in the middle of each request leaves behind (the kill itself: crash.test.ts).
    await withClient(async (c) => {
      await c.query(
        `UPDATE payment_orders SET status = 'Confirming', danal_transaction_id = $2, danal_method = 'CARD', updated_at = now() - interval '1 minute' WHERE id = $1`,
        [confirming.orderID, transactionId],
      );
      await c.query('BEGIN');
      await c.query(`UPDATE payment_orders SET status = 'Canceling', updated_at = now() - interval '1 minute' WHERE id = $1`, [canceling.orderID]);
      await c.query(`UPDATE wallets SET held_points = held_points + 20000 WHERE user_id = $1`, [user.userId]);
      await c.query(`INSERT INTO order_cancels (order_id, seq, amount, point_amount, cancel_type, reason) VALUES ($1, 1, 20000, 20000, 'C', 'test')`, [canceling.orderID]);
      await c.query('COMMIT');
    }, database.url);

    expect((await settled(user, confirming.orderID, 'Failed')).failure?.code).toBe('NOT_APPROVED');
    await settled(user, canceling.orderID, 'Canceled');
    expect(await eventsOf(t, confirming.orderID)).toEqual(['confirm.unknown', 'reconcile.not_approved']);
    expect(await eventsOf(t, canceling.orderID)).toEqual(['cancel.unknown', 'reconcile.canceled']);
    expect(await walletOf(t, user)).toMatchObject({ balance: 0, heldPoints: 0 });
  });
});

describe('several processes', () => {
  it('two servers sweeping one database at once settle each unknown order once', async () => {
    const other = await startTestServer(JOBS, database.url);
    try {
      const user = await newUser(t);
      const paid = await Promise.all(Array.from({ length: 6 }, () => paidOrder(t, user, 1_000)));
      for (const order of paid) await injectFault(t, { operation: 'cancel', kind: 'server_error', orderId: order.orderID });
      await Promise.all(paid.map((order) => cancel(t, user, order.orderID).expect(504)));
      // Both background engines run, and both processes sweep by hand as well, all at once.
      await Promise.all([t.sweep(), other.sweep(), t.sweep(), other.sweep()]);

      for (const order of paid) await settled(user, order.orderID, 'Canceled');
      for (const order of paid) expect((await sandboxTransaction(t, order.transactionId)).cancels).toHaveLength(1);
      expect(await walletOf(t, user)).toMatchObject({ balance: 0, heldPoints: 0 });
    } finally {
      await other.close();
    }
  });

  it('readyz reports the job engine', async () => {
    const res = await t.api.get('/readyz').expect(200);
    expect(res.body.data).toMatchObject({ status: 'ready', database: 'ok', jobs: 'ok' });
  });
});

describe('afterwards', () => {
  it('the whole database agrees with the ledger and with the Danal sandbox', async () => {
    const result = await audit(t.db);
    expect(result.discrepancies).toEqual([]);
    expect(result.checked['orders against the Danal sandbox']).toBeGreaterThan(10);
  });
});

describe('the job engine failing while the database is fine', () => {
  it('makes /readyz answer 503 JOBS_UNAVAILABLE, and ready again once the engine works', async () => {
    await waitFor(() => t.api.get('/readyz').then((r) => r.status), (s) => s === 200);
    // Take pg-boss's tables away from under it.
    await withClient((c) => c.query('ALTER SCHEMA pgboss RENAME TO pgboss_away'), database.url);
    try {
      const failing = await waitFor(() => t.api.get('/readyz').then((r) => r), (r) => r.status === 503, 15_000);
      expect(failing.body.error.code).toBe('JOBS_UNAVAILABLE');
    } finally {
      await withClient((c) => c.query('ALTER SCHEMA pgboss_away RENAME TO pgboss'), database.url);
    }
    await waitFor(() => t.api.get('/readyz').then((r) => r.status), (s) => s === 200, 30_000);
  });
});
