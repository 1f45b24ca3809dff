// npm run audit:ledger on a database of its own: silent on a consistent one,
// and it names each kind of damage a bug could do.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, cancel, confirm, createOrder, injectFault, newUser, ownDatabase, paidOrder, startTestServer, withClient, type TestServer } from '../helpers.js';

const exec = promisify(execFile);
let t: TestServer;
let databaseUrl: string;
let drop: () => Promise<void>;
const admin = withClient;

async function runAudit(): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'scripts/audit-ledger.ts'], { env: { ...process.env, DATABASE_URL: databaseUrl } });
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
    // The declined order let go of its transaction.
    expect(clean.output).toMatch(/checked 3 orders against the Danal sandbox/);
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
    expect(damaged.output).toContain(`order ${paid.orderID} is Failed but Danal has APPROVED`);
    expect(damaged.output).toContain('4 discrepancies');
  });
});
