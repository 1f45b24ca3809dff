// What a valid deposit notification does to its order. Money Danal says
// arrived is never dropped: a deposit Danal took after our clock closed the
// account is credited; one that cannot be credited is held for an operator
// (ops:stuck, the admin API, the audit) and Danal hears SUCCESS only once it
// is recorded. And the deadline is one: we send Danal ours, and keep Danal's.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDanalDateTime } from '../../src/danal/danal-http-client.js';
import {
  audit, bearer, confirm, createOrder, eventsOf, injectFault, ledgerRows, newUser, orderOf, ownDatabase, sandboxTransaction,
  startTestServer, waitFor, walletOf, withClient, type TestServer, type User,
} from '../helpers.js';

const exec = promisify(execFile);
const ADMIN_KEY = 'deposits-test-admin-key-0123456789abcdef';
let database: { url: string; drop(): Promise<void> };
let t: TestServer;

beforeAll(async () => {
  database = await ownDatabase('deposits');
  t = await startTestServer({ ADMIN_API_KEYS: ADMIN_KEY }, database.url);
});
afterAll(async () => {
  await t?.close();
  await database?.drop();
});

async function script(name: string, ...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], { env: { ...process.env, DATABASE_URL: database.url } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}
const admin = (method: 'get' | 'post', path: string) => t.api[method](`/api/admin${path}`).set('Authorization', `Basic ${ADMIN_KEY}`);
const notify = (body: Record<string, unknown>) => t.api.post('/api/payment/noti/vaccount').send(body);
const deposit = (transactionId: string) => t.api.post('/sandbox/danal/deposit').send({ transactionId }).expect(200);
const orderRow = (orderID: string) => t.db.paymentOrder.findUniqueOrThrow({ where: { id: orderID } });

/** A virtual account issued by Danal for the order's checkout, as the buyer's window passes it on. */
async function issuedAccount(user: User, amount = 30_000, expire?: { expireDate: string; expireTime: string }) {
  const order = await createOrder(t, user, amount, 'VirtualAccount');
  const { expireDate, expireTime } = expire ?? (order.checkout as { expireDate: string; expireTime: string });
  const authorized = await t.api.post('/sandbox/danal/authorize').send({ orderId: order.orderID, amount, method: 'VACCOUNT', expireDate, expireTime }).expect(201);
  const transactionId: string = authorized.body.transactionId;
  const confirmed = await confirm(t, user, order.orderID, transactionId, 'VIRTUAL_ACCOUNT').expect(200);
  return { order, transactionId, confirmed: confirmed.body.data };
}

/** Our clock closes the account: its deadline passes (Danal's, a minute later, has not). */
const passOurDeadline = (orderID: string) => t.db.paymentOrder.update({ where: { id: orderID }, data: { vaccountDueAt: new Date(Date.now() - 1_000) } });

describe('a deposit Danal took after our deadline', () => {
  it('is credited when it arrives a moment after the deadline passed', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(user);
    await passOurDeadline(order.orderID);
    expect((await deposit(transactionId)).body.delivered).toBe(true);
    expect((await orderOf(t, user, order.orderID)).status).toBe('Paid');
    expect((await walletOf(t, user)).balance).toBe(30_000);
    expect(await eventsOf(t, order.orderID)).toContain('deposit.after_deadline');
  });

  it('is credited when our sweep had already expired the order, and Danal hears SUCCESS', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(user);
    await passOurDeadline(order.orderID);
    await t.sweep();
    expect((await orderOf(t, user, order.orderID)).status).toBe('Expired');

    const late = await deposit(transactionId);
    expect(late.body.delivered).toBe(true);
    expect(await orderOf(t, user, order.orderID)).toMatchObject({ status: 'Paid' });
    expect((await walletOf(t, user)).balance).toBe(30_000);
    expect((await ledgerRows(t.db, order.orderID)).map((r) => [r.type, r.amount])).toEqual([['CHARGE', 30_000]]);
    const webhooks = await t.db.webhookEvent.findMany({ where: { orderId: order.orderID }, orderBy: { createdAt: 'asc' } });
    expect(webhooks.map((w) => w.status)).toEqual(['WaitingForDeposit', 'Expired', 'Paid']);
    // Danal resending it changes nothing.
    expect((await deposit(transactionId)).body.delivered).toBe(true);
    expect((await walletOf(t, user)).balance).toBe(30_000);
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });
});

describe('a deposit that cannot be credited', () => {
  it('is held for an operator: SUCCESS to Danal, listed by ops:stuck and the admin API, unsettled in the audit, one deposit however often it is resent', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(user);
    const body = { code: 'SUCCESS', message: '입금완료', transactionID: transactionId, orderID: order.orderID, amount: '25000' };
    await notify(body).expect(200, { code: 'SUCCESS' });
    await notify(body).expect(200, { code: 'SUCCESS' }); // Danal resends it
    expect((await walletOf(t, user)).balance).toBe(0);
    expect((await orderOf(t, user, order.orderID)).status).toBe('WaitingForDeposit');
    const outcomes = await t.db.depositNotification.findMany({ where: { orderId: order.orderID }, orderBy: { id: 'asc' } });
    expect(outcomes.map((n) => n.outcome)).toEqual(['HELD', 'DUPLICATE']);

    const stuck = (await admin('get', '/stuck').expect(200)).body.data;
    const held = stuck.deposits.find((d: { orderID: string }) => d.orderID === order.orderID);
    expect(held).toMatchObject({ amount: 25_000, transactionID: transactionId, status: 'Open', orderStatus: 'WaitingForDeposit', orderAmount: 30_000, userId: user.userId });
    expect(held.reason).toContain('25000');
    expect((await admin('get', '/deposits').expect(200)).body.data.deposits.map((d: { depositId: string }) => d.depositId)).toContain(held.depositId);

    const listed = await script('ops-stuck');
    expect(listed.code).toBe(1);
    expect(listed.output).toContain(`deposit ${held.depositId}  25000 KRW  order ${order.orderID}`);
    const audited = await script('audit-ledger');
    expect(audited.code).toBe(1);
    expect(audited.output).toContain(`UNSETTLED deposit ${held.depositId} of 25000 KRW for order ${order.orderID}`);
    expect(audited.output).toContain('no discrepancies');

    // Not the order's amount: it cannot be credited to it. The operator returns it to the buyer.
    expect((await admin('post', `/deposits/${held.depositId}/settle`).send({ resolution: 'credit' }).expect(409)).body.error.code).toBe('DEPOSIT_NOT_CREDITABLE');
    const returned = await script('ops-stuck', '--settle-deposit', held.depositId, '--returned', '--note', 'refunded to the buyer from Danal console');
    expect(returned).toMatchObject({ code: 0 });
    expect((await admin('post', `/deposits/${held.depositId}/settle`).send({ resolution: 'returned' }).expect(409)).body.error.code).toBe('DEPOSIT_ALREADY_SETTLED');
    expect((await admin('get', '/deposits?status=Returned').expect(200)).body.data.deposits).toEqual([
      expect.objectContaining({ depositId: held.depositId, resolvedBy: 'ops:stuck', resolutionNote: 'refunded to the buyer from Danal console' }),
    ]);
    expect((await script('ops-stuck')).code).toBe(0);
    expect((await script('audit-ledger')).code).toBe(0);
    // The database keeps it: no delete, no rewrite.
    await expect(t.db.$executeRaw`DELETE FROM unsettled_deposits WHERE id = ${BigInt(held.depositId)}`).rejects.toThrow(/keeps every deposit/);

    // The order's own deposit is credited as ever.
    expect((await deposit(transactionId)).body.delivered).toBe(true);
    expect((await walletOf(t, user)).balance).toBe(30_000);
  });

  it('is held when the order cannot take it (its confirm still open), and the operator credits it once the account is issued', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 30_000, 'VirtualAccount');
    const transactionId = (await t.api.post('/sandbox/danal/authorize').send({ orderId: order.orderID, amount: 30_000, method: 'VACCOUNT' }).expect(201)).body.transactionId;
    await injectFault(t, { operation: 'confirm', kind: 'timeout', orderId: order.orderID, delayMs: 900 }); // Danal issues the account, answers late
    const confirming = confirm(t, user, order.orderID, transactionId, 'VIRTUAL_ACCOUNT').then((r) => r);
    await waitFor(() => sandboxTransaction(t, transactionId), (tx) => tx.status === 'ISSUED', 5_000);
    // The buyer pays at once; Danal reports it while our confirm still waits.
    expect((await deposit(transactionId)).body.delivered).toBe(true);
    expect((await confirming).status).toBe(200);
    expect((await orderOf(t, user, order.orderID)).status).toBe('WaitingForDeposit');
    const [held] = (await admin('get', '/deposits').expect(200)).body.data.deposits.filter((d: { orderID: string }) => d.orderID === order.orderID);
    expect(held).toMatchObject({ amount: 30_000, reason: expect.stringContaining('Confirming') });

    const credited = await admin('post', `/deposits/${held.depositId}/settle`).send({ resolution: 'credit', note: 'paid while the confirm was open' }).expect(200);
    expect(credited.body.data).toMatchObject({ status: 'Credited', resolvedBy: 'admin API' });
    expect((await orderOf(t, user, order.orderID)).status).toBe('Paid');
    expect((await walletOf(t, user)).balance).toBe(30_000);
    // Danal resending the notification credits nothing more.
    await notify({ code: 'SUCCESS', transactionID: transactionId, orderID: order.orderID, amount: '30000' }).expect(200, { code: 'SUCCESS' });
    expect((await ledgerRows(t.db, order.orderID))).toHaveLength(1);
    expect(await audit(t.db)).toMatchObject({ discrepancies: [], unsettled: [] });
  });

  it('is answered SUCCESS only once it is recorded: a failure to record makes Danal send it again', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(user);
    await withClient(async (c) => {
      await c.query(`CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`);
      await c.query(`CREATE TRIGGER refuse_for_test BEFORE INSERT ON unsettled_deposits FOR EACH ROW WHEN (NEW.order_id = '${order.orderID}') EXECUTE FUNCTION refuse_for_test()`);
    }, database.url);
    const body = { code: 'SUCCESS', transactionID: transactionId, orderID: order.orderID, amount: '29000' };
    const failed = await notify(body);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.body.code).not.toBe('SUCCESS');
    expect(await t.db.unsettledDeposit.count({ where: { orderId: order.orderID } })).toBe(0);
    await withClient((c) => c.query('DROP TRIGGER refuse_for_test ON unsettled_deposits; DROP FUNCTION refuse_for_test()'), database.url);
    await notify(body).expect(200, { code: 'SUCCESS' });
    expect(await t.db.unsettledDeposit.count({ where: { orderId: order.orderID, status: 'Open' } })).toBe(1);
    const [held] = await t.db.unsettledDeposit.findMany({ where: { orderId: order.orderID } });
    await admin('post', `/deposits/${held!.id}/settle`).send({ resolution: 'returned' }).expect(200);
  });
});

describe('the deposit deadline', () => {
  it('is sent to Danal in the checkout (expireDate, expireTime, Korea time) and is the account the buyer gets', async () => {
    const user = await newUser(t);
    const before = Date.now();
    const { order, confirmed } = await issuedAccount(user);
    const { expireDate, expireTime } = order.checkout as { expireDate: string; expireTime: string };
    const ours = (await orderRow(order.orderID)).vaccountDueAt!;
    // VACCOUNT_DEPOSIT_MINUTES (24 h) from the order, to the minute Danal takes.
    expect(ours.getTime() % 60_000).toBe(0);
    expect(ours.getTime()).toBeGreaterThan(before + 24 * 3600_000 - 61_000);
    expect(ours.getTime()).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);
    expect(`${expireDate}${expireTime}`).toBe(formatDanalDateTime(ours).slice(0, 12));
    expect(new Date(confirmed.virtualAccount.dueAt).getTime()).toBe(ours.getTime());
  });

  it("is the one Danal reports back when Danal names another", async () => {
    const user = await newUser(t);
    const danals = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 2 * 3600_000);
    const kst = formatDanalDateTime(danals);
    const { order, confirmed } = await issuedAccount(user, 30_000, { expireDate: kst.slice(0, 8), expireTime: kst.slice(8, 12) });
    expect(new Date(confirmed.virtualAccount.dueAt).getTime()).toBe(danals.getTime());
    expect((await orderRow(order.orderID)).vaccountDueAt!.getTime()).toBe(danals.getTime());
  });

  it('closes both sides at once: past it the sandbox takes no deposit and our sweep expires the order', async () => {
    const user = await newUser(t);
    const past = formatDanalDateTime(new Date(Date.now() - 60_000));
    const { order, transactionId } = await issuedAccount(user, 30_000, { expireDate: past.slice(0, 8), expireTime: past.slice(8, 12) });
    const refused = await t.api.post('/sandbox/danal/deposit').send({ transactionId }).expect(409);
    expect(refused.body.code).toBe('ACCOUNT_EXPIRED');
    await t.sweep();
    expect((await orderOf(t, user, order.orderID)).status).toBe('Expired');
    expect((await walletOf(t, user)).balance).toBe(0);
    expect((await audit(t.db)).discrepancies).toEqual([]);
  });
});

describe('the deposit notification and the orders check', () => {
  it('still refuses what is not about one of our accounts: another transaction, a code other than SUCCESS', async () => {
    const user = await newUser(t);
    const { order, transactionId } = await issuedAccount(user);
    expect((await notify({ code: 'SUCCESS', transactionID: 'TX-TEST-001', orderID: order.orderID, amount: '30000' })).body.code).toBe('FAIL');
    expect((await notify({ code: 'FAIL', transactionID: transactionId, orderID: order.orderID, amount: '30000' })).body.code).toBe('FAIL');
    expect(await t.db.unsettledDeposit.count({ where: { orderId: order.orderID } })).toBe(0);
    expect((await t.api.get(`/api/payment/orders/${order.orderID}`).set(bearer(user)).expect(200)).body.data.status).toBe('WaitingForDeposit');
  });
});
