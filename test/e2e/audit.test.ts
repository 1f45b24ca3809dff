// npm run audit:ledger on a database of its own: silent on a consistent one,
// and it names each kind of damage a bug could do.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorize, cancel, confirm, createOrder, injectFault, newUser, ownDatabase, paidOrder, startTestServer, withClient, type TestServer } from '../helpers.js';

const exec = promisify(execFile);
let t: TestServer;
let databaseUrl: string;
let drop: () => Promise<void>;
const admin = withClient;

const runAudit = () => runAuditOn(databaseUrl);

async function runAuditOn(url: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'scripts/audit-ledger.ts'], { env: { ...process.env, DATABASE_URL: url } });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

beforeAll(async () => {
  ({ url: databaseUrl, drop } = await ownDatabase('audit'));
  t = await startTestServer({}, databaseUrl);
});

afterAll(async () => {
  await t?.close();
  await drop?.();
});

describe('npm run audit:ledger', () => {
  it('finds nothing wrong after paid, canceled, declined and deposited orders, and then names every damage', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 10_000);
    const canceled = await paidOrder(t, user, 20_000);
    await cancel(t, user, canceled.orderID).expect(200);
    const declined = await createOrder(t, user, 5_000);
    await injectFault(t, { operation: 'confirm', kind: 'error', orderId: declined.orderID });
    await confirm(t, user, declined.orderID, await authorize(t, declined.orderID, 5_000)).expect(402);
    const va = await createOrder(t, user, 30_000, 'VirtualAccount');
    const vaTransaction = await authorize(t, va.orderID, 30_000, 'VACCOUNT');
    await confirm(t, user, va.orderID, vaTransaction, 'VIRTUAL_ACCOUNT').expect(200);
    await t.api.post('/sandbox/danal/deposit').send({ transactionId: vaTransaction }).expect(200);

    const clean = await runAudit();
    expect(clean.output).toContain('no discrepancies');
    expect(clean.output).toMatch(/checked 4 orders\n/);
    expect(clean.output).toMatch(/checked 1 wallets/);
    // The declined order let go of its transaction: it is checked with the orders that hold no money.
    expect(clean.output).toMatch(/checked 3 orders against the Danal sandbox/);
    expect(clean.output).toMatch(/checked 1 unpaid orders against the Danal sandbox/);
    expect(clean.code).toBe(0);

    // Damage of the kinds a bug could do, each behind the service's back.
    await admin(async (c) => {
      await c.query(`UPDATE wallets SET balance = balance + 500 WHERE user_id = $1`, [user.userId]); // balance without ledger row
      await c.query(`UPDATE payment_orders SET status = 'Failed' WHERE id = $1`, [paid.orderID]); // credited, then marked failed
      await c.query(`UPDATE danal_sandbox.transactions SET status = 'CANCELED', canceled_amount = approved_amount WHERE order_id = $1`, [va.orderID]); // refunded at Danal, points kept
    }, databaseUrl);
    const damaged = await runAudit();
    expect(damaged.code).toBe(1);
    expect(damaged.output).toContain(`wallet ${user.userId}: balance 40500 but its ledger sums to 40000`);
    expect(damaged.output).toContain(`order ${paid.orderID} (Failed, 10000 KRW, 10000 points, canceled 0 KRW 0 points): 1 CHARGE row(s) of 10000`);
    expect(damaged.output).toContain(`order ${va.orderID} is Paid but Danal has CANCELED`);
    expect(damaged.output).toMatch(new RegExp(`order ${paid.orderID} is Failed but Danal has transaction \\w+ APPROVED`));
    // The balance without its ledger row also breaks the chain of balance_after values.
    expect(damaged.output).toMatch(new RegExp(`wallet ${user.userId}: balance 40500 but its last ledger row \\(\\d+\\) left 40000`));
    expect(damaged.output).toContain('5 discrepancies');
  });
});

// Each further check on a clean database of its own: damage, the audit exits 1 naming it, repair, exit 0.
describe('npm run audit:ledger, further checks', () => {
  let clean: { url: string; drop(): Promise<void> };
  let s: TestServer;
  const auditOf = () => runAuditOn(clean.url);
  const asSuperuser = (sql: string, params: unknown[] = []) =>
    admin(async (c) => {
      await c.query('SET session_replication_role = replica'); // past the append-only triggers, as damage would be
      await c.query(sql, params);
    }, clean.url);

  beforeAll(async () => {
    clean = await ownDatabase('audit_more');
    s = await startTestServer({}, clean.url);
  });
  afterAll(async () => {
    await s?.close();
    await clean?.drop();
  });
  afterEach(async () => {
    const after = await auditOf();
    expect(after.output).toContain('no discrepancies');
    expect(after.code).toBe(0);
  });

  it('finds a broken chain of balance_after values, even when the sums still agree', async () => {
    const user = await newUser(s);
    await paidOrder(s, user, 10_000);
    const second = await paidOrder(s, user, 5_000);
    const rows = await s.db.ledgerEntry.findMany({ where: { userId: user.userId }, orderBy: { id: 'asc' } });
    await asSuperuser('UPDATE ledger_entries SET balance_after = 12000 WHERE id = $1', [rows[0]!.id]);
    const damaged = await auditOf();
    expect(damaged.code).toBe(1);
    expect(damaged.output).toContain(`ledger row ${rows[0]!.id} of user ${user.userId}: balance_after 12000, but the row before left 0 and this one moves 10000`);
    expect(damaged.output).toContain(`ledger row ${rows[1]!.id} of user ${user.userId}: balance_after 15000, but the row before left 12000 and this one moves 5000`);
    await asSuperuser('UPDATE ledger_entries SET balance_after = 10000 WHERE id = $1', [rows[0]!.id]);
    expect(second.orderID).toBeTruthy();
  });

  it('finds ledger rows of a user who has no wallet', async () => {
    const user = await newUser(s);
    await asSuperuser('DELETE FROM wallets WHERE user_id = $1', [user.userId]);
    await asSuperuser(`INSERT INTO ledger_entries (user_id, type, amount, balance_after) VALUES ($1, 'SPEND', -100, 0)`, [user.userId]);
    const damaged = await auditOf();
    expect(damaged.code).toBe(1);
    expect(damaged.output).toMatch(new RegExp(`ledger row \\d+ \\(-100 points\\) belongs to user ${user.userId}, who has no wallet`));
    await asSuperuser('DELETE FROM ledger_entries WHERE user_id = $1', [user.userId]);
    await asSuperuser('INSERT INTO wallets (user_id) VALUES ($1)', [user.userId]);
  });

  it('finds a Pending order whose payment Danal approved', async () => {
    const user = await newUser(s);
    const order = await createOrder(s, user, 10_000);
    const tx = await authorize(s, order.orderID, 10_000);
    await asSuperuser(`UPDATE danal_sandbox.transactions SET status = 'APPROVED', approved_amount = 10000, approved_at = now() WHERE transaction_id = $1`, [tx]);
    const damaged = await auditOf();
    expect(damaged.code).toBe(1);
    expect(damaged.output).toContain(`order ${order.orderID} is Pending but Danal has transaction ${tx} APPROVED, approved 10000, canceled 0`);
    await asSuperuser(`UPDATE danal_sandbox.transactions SET status = 'AUTHENTICATED', approved_amount = NULL, approved_at = NULL WHERE transaction_id = $1`, [tx]);
  });

  it('finds an Expired order whose money Danal approved, card or deposit', async () => {
    const user = await newUser(s);
    const card = await createOrder(s, user, 10_000);
    const cardTx = await authorize(s, card.orderID, 10_000);
    const va = await createOrder(s, user, 30_000, 'VirtualAccount');
    const vaTx = await authorize(s, va.orderID, 30_000, 'VACCOUNT');
    await confirm(s, user, va.orderID, vaTx, 'VIRTUAL_ACCOUNT').expect(200);
    await asSuperuser(`UPDATE payment_orders SET status = 'Expired' WHERE id = ANY($1)`, [[card.orderID, va.orderID]]);
    await asSuperuser(`UPDATE danal_sandbox.transactions SET status = 'APPROVED', approved_amount = 10000, approved_at = now() WHERE transaction_id = $1`, [cardTx]);
    await asSuperuser(`UPDATE danal_sandbox.transactions SET status = 'DEPOSITED' WHERE transaction_id = $1`, [vaTx]);
    const damaged = await auditOf();
    expect(damaged.code).toBe(1);
    expect(damaged.output).toContain(`order ${card.orderID} is Expired but Danal has transaction ${cardTx} APPROVED`);
    expect(damaged.output).toContain(`order ${va.orderID} is Expired but Danal has transaction ${vaTx} DEPOSITED`);
    // An account that closed unpaid is no money.
    await asSuperuser(`UPDATE danal_sandbox.transactions SET status = 'ISSUED' WHERE transaction_id = $1`, [vaTx]);
    await asSuperuser(`UPDATE danal_sandbox.transactions SET status = 'AUTHENTICATED', approved_amount = NULL, approved_at = NULL WHERE transaction_id = $1`, [cardTx]);
  });

  it("finds a Confirming order that claims another order's transaction", async () => {
    const user = await newUser(s);
    const mine = await createOrder(s, user, 10_000);
    const theirs = await createOrder(s, user, 10_000);
    const theirTx = await authorize(s, theirs.orderID, 10_000);
    await asSuperuser(`UPDATE payment_orders SET status = 'Confirming', danal_transaction_id = $2, danal_method = 'CARD' WHERE id = $1`, [mine.orderID, theirTx]);
    const damaged = await auditOf();
    expect(damaged.code).toBe(1);
    expect(damaged.output).toContain(`order ${mine.orderID} is Confirming but Danal has AUTHENTICATED`);
    await asSuperuser(`UPDATE payment_orders SET status = 'Pending', danal_transaction_id = NULL, danal_method = NULL WHERE id = $1`, [mine.orderID]);
  });

  it('counts a deposit held for an operator as unsettled money until it is settled', async () => {
    const user = await newUser(s);
    const va = await createOrder(s, user, 30_000, 'VirtualAccount');
    const vaTx = await authorize(s, va.orderID, 30_000, 'VACCOUNT');
    await confirm(s, user, va.orderID, vaTx, 'VIRTUAL_ACCOUNT').expect(200);
    await s.api.post('/api/payment/noti/vaccount').send({ code: 'SUCCESS', transactionID: vaTx, orderID: va.orderID, amount: '3000' }).expect(200, { code: 'SUCCESS' });
    const open = await auditOf();
    expect(open.code).toBe(1);
    expect(open.output).toMatch(new RegExp(`UNSETTLED deposit \\d+ of 3000 KRW for order ${va.orderID} \\(Danal transaction ${vaTx}, received .*\\) waits for an operator: amount 3000 differs from the order's 30000`));
    expect(open.output).toContain('1 unsettled');
    const [held] = await s.db.unsettledDeposit.findMany({ where: { orderId: va.orderID } });
    await admin((c) => c.query(`UPDATE unsettled_deposits SET status = 'Returned', resolved_at = now(), resolved_by = 'test' WHERE id = $1`, [held!.id]), clean.url);
  });
});
