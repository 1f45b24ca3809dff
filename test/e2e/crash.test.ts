// A server process killed with SIGKILL at each step of confirm, cancel and
// deposit notification handling; then a restarted server and its reconciler.
// Nothing may be lost or doubled: every order ends in a final state that
// matches what the Danal sandbox did, and the audit finds nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { CRASH_POINTS, type CrashPoint } from '../../src/lib/crash-points.js';
import { audit, bearer, expectNoSecretsIn, orderOf, ownDatabase, sandboxTransaction, startTestServer, waitFor, walletOf, type TestServer, type User } from '../helpers.js';
import { spawnServer } from '../server-process.js';

interface Scenario {
  point: CrashPoint;
  user: User;
  orderID: string;
  transactionId: string;
}

let database: { url: string; drop(): Promise<void> };
const scenarios = new Map<CrashPoint, Scenario>();

beforeAll(async () => {
  database = await ownDatabase('crash');
});
afterAll(async () => {
  await database?.drop();
});

/** Runs the flow against a server armed to die at `point`, up to the request that kills it. */
async function crashAt(point: CrashPoint): Promise<Scenario> {
  const server = await spawnServer({ DATABASE_URL: database.url, DANAL_TIMEOUT_MS: '1000', TEST_CRASH_AT: point });
  try {
    const api = request(server.url);
    const email = `crash-${point}-${Date.now()}@example.com`;
    const registered = await api.post('/api/auth/register').send({ email, password: 'password123' }).expect(201);
    const token = (await api.post('/api/auth/login').send({ email, password: 'password123' }).expect(200)).body.data.accessToken;
    const user: User = { email, password: 'password123', token, userId: registered.body.data.userId };
    const virtualAccount = point.startsWith('notification');
    const amount = virtualAccount ? 30_000 : 10_000;
    const order = (await api.post('/api/payment/order').set(bearer(user)).send({ amount, paymentMethod: virtualAccount ? 'VirtualAccount' : 'Card' }).expect(201)).body.data;
    const transactionId = (await api.post('/sandbox/danal/authorize').send({ orderId: order.orderID, amount, method: virtualAccount ? 'VACCOUNT' : 'CARD' }).expect(201)).body.transactionId;
    const confirm = api.post('/api/payment/confirm').set(bearer(user)).send({ orderID: order.orderID, transactionID: transactionId, method: virtualAccount ? 'VIRTUAL_ACCOUNT' : 'CARD' });

    let fatal: Promise<unknown>;
    if (point.startsWith('confirm')) fatal = confirm;
    else {
      await confirm.expect(200);
      fatal = point.startsWith('cancel')
        ? api.post('/api/payment/cancel').set(bearer(user)).send({ orderID: order.orderID })
        : api.post('/sandbox/danal/deposit').send({ transactionId }); // Danal's notification reaches the same process
    }
    await expect(fatal).rejects.toThrow(/socket hang up|ECONNRESET/);
    const [code, signal] = await server.exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    return { point, user, orderID: order.orderID, transactionId };
  } finally {
    server.kill();
    expectNoSecretsIn(server.lines);
  }
}

describe('SIGKILL at every step, then a restart', () => {
  it.each(CRASH_POINTS)('the process dies at %s without answering', async (point) => {
    scenarios.set(point, await crashAt(point));
  });

  describe('after the restart', () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer(
        { JOBS_ENABLED: 'true', RECONCILE_INTERVAL_SECONDS: '1', RECONCILE_RETRY_BASE_MS: '200', RECONCILE_STALE_AFTER_MS: '31000' },
        database.url,
      );
      // Every process that held an order is dead; RECONCILE_STALE_AFTER_MS (the Danal timeout and its 30 s margin) passes.
      await t.db.$executeRaw`UPDATE payment_orders SET updated_at = updated_at - interval '1 minute' WHERE status IN ('Confirming', 'Canceling')`;
    });
    afterAll(async () => {
      await t?.close();
    });

    const scenario = (point: CrashPoint) => scenarios.get(point)!;
    const finalStatus = async (point: CrashPoint, status: string) => {
      const s = scenario(point);
      return waitFor(() => orderOf(t, s.user, s.orderID), (o) => o.status === status);
    };

    it('a confirm killed before or after Danal approved is net-canceled and fails; nothing is credited', async () => {
      expect((await finalStatus('confirm.before_danal', 'Failed')).failure?.code).toBe('NOT_APPROVED');
      expect(await sandboxTransaction(t, scenario('confirm.before_danal').transactionId)).toMatchObject({ status: 'AUTHENTICATED', cancels: [] });
      expect((await finalStatus('confirm.after_danal', 'Failed')).failure?.code).toBe('NET_CANCELED');
      expect(await sandboxTransaction(t, scenario('confirm.after_danal').transactionId)).toMatchObject({ status: 'CANCELED', canceledAmount: 10_000 });
      for (const point of ['confirm.before_danal', 'confirm.after_danal'] as const) {
        expect((await walletOf(t, scenario(point).user)).balance).toBe(0);
      }
    });

    it('a confirm killed after its commit stays Paid, and the client asking again is answered without a second credit', async () => {
      const s = scenario('confirm.after_commit');
      await finalStatus('confirm.after_commit', 'Paid');
      const again = await t.api.post('/api/payment/confirm').set(bearer(s.user)).send({ orderID: s.orderID, transactionID: s.transactionId, method: 'CARD' }).expect(200);
      expect(again.body.data).toMatchObject({ status: 'Paid', balance: 10_000 });
      expect((await walletOf(t, s.user)).entries).toHaveLength(1);
    });

    it('a cancel killed at any step ends Canceled, refunded once, with the points gone', async () => {
      for (const point of ['cancel.before_danal', 'cancel.after_danal', 'cancel.after_commit'] as const) {
        const s = scenario(point);
        await finalStatus(point, 'Canceled');
        expect((await sandboxTransaction(t, s.transactionId)).cancels).toHaveLength(1);
        expect(await walletOf(t, s.user)).toMatchObject({ balance: 0, heldPoints: 0 });
      }
    });

    it("a deposit notification killed before or after its commit is credited exactly once when Danal sends it again", async () => {
      expect((await orderOf(t, scenario('notification.before_commit').user, scenario('notification.before_commit').orderID)).status).toBe('WaitingForDeposit');
      expect((await orderOf(t, scenario('notification.after_commit').user, scenario('notification.after_commit').orderID)).status).toBe('Paid');
      for (const point of ['notification.before_commit', 'notification.after_commit'] as const) {
        const s = scenario(point);
        // Danal got no answer, so it sends the notification again (twice here).
        for (let i = 0; i < 2; i++) {
          const resent = await t.api.post('/sandbox/danal/deposit').send({ transactionId: s.transactionId }).expect(200);
          expect(resent.body.delivered).toBe(true);
        }
        await finalStatus(point, 'Paid');
        expect((await walletOf(t, s.user)).balance).toBe(30_000);
      }
    });

    it('the audit finds every wallet equal to its ledger and every order agreeing with Danal', async () => {
      const result = await audit(t.db);
      expect(result.discrepancies).toEqual([]);
      expect(result.checked.orders).toBe(8);
    });
  });
});
