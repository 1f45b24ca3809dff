// PostgreSQL stopped and started again under load: while it is down the
// service keeps answering (503, never 500), /readyz says not ready, and once
// it is back the service recovers by itself; no money is lost or doubled.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.js';
import { applyMigrations } from '../../src/db/schema-engine.js';
import { audit, bearer, newUser, startTestServer, waitFor, type TestServer, type User } from '../helpers.js';

const dataDir = path.join(tmpdir(), `dpot-outage-pg-${process.pid}`);
let port: number;
let database: EmbeddedDatabase;
let t: TestServer;

beforeAll(async () => {
  port = await findFreePort();
  database = await startEmbeddedPostgres({ dataDir, port });
  await applyMigrations(database.url);
  t = await startTestServer(
    { JOBS_ENABLED: 'true', RECONCILE_INTERVAL_SECONDS: '1', RECONCILE_RETRY_BASE_MS: '200', RECONCILE_STALE_AFTER_MS: '31000' },
    database.url,
  );
}, 120_000);

afterAll(async () => {
  await t?.close();
  await database?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** One user's charge flows, one after another, until told to stop: every status seen. */
async function chargeLoop(user: User, running: () => boolean, statuses: number[]) {
  while (running()) {
    const order = await t.api.post('/api/payment/order').set(bearer(user)).send({ amount: 1_000, paymentMethod: 'Card' });
    statuses.push(order.status);
    if (order.status !== 201) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const auth = await t.api.post('/sandbox/danal/authorize').send({ orderId: order.body.data.orderID, amount: 1_000, method: 'CARD' });
    statuses.push(auth.status);
    if (auth.status !== 201) continue;
    const confirmed = await t.api.post('/api/payment/confirm').set(bearer(user)).send({ orderID: order.body.data.orderID, transactionID: auth.body.transactionId, method: 'CARD' });
    statuses.push(confirmed.status);
  }
}

describe('the database goes away under load and comes back', () => {
  it('answers 503 meanwhile, never 500, reports not ready, recovers, and the audit finds nothing wrong', async () => {
    const users = await Promise.all([newUser(t), newUser(t), newUser(t), newUser(t)]);
    let running = true;
    const statuses: number[] = [];
    const load = Promise.all(users.map((u) => chargeLoop(u, () => running, statuses)));
    await new Promise((r) => setTimeout(r, 1_500));

    await database.stop();
    const ready = await waitFor(() => t.api.get('/readyz').then((r) => r), (r) => r.status === 503, 10_000);
    expect(ready.body.error.code).toBe('DATABASE_UNAVAILABLE');
    await t.api.get('/healthz').expect(200);
    const during = await t.api.post('/api/payment/order').set(bearer(users[0]!)).send({ amount: 1_000, paymentMethod: 'Card' });
    expect(during.status).toBe(503);
    expect(during.body.error.code).toBe('DATABASE_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 1_000));

    database = await startEmbeddedPostgres({ dataDir, port });
    await waitFor(() => t.api.get('/readyz').then((r) => r), (r) => r.status === 200, 30_000);
    const before = statuses.length;
    await waitFor(async () => statuses.slice(before).filter((s) => s === 200).length, (n) => n >= 8, 30_000);
    running = false;
    await load;

    expect(statuses.filter((s) => s >= 500 && s !== 503 && s !== 504)).toEqual([]);
    expect(statuses).toContain(503);
    expect(t.logs.filter((l) => l.includes('"unhandled error"'))).toEqual([]);

    // Orders caught mid-flight by the outage are settled by the reconciler, once they have been
    // untouched for RECONCILE_STALE_AFTER_MS (the Danal timeout and its 30 s margin): time passes.
    await t.db.$executeRaw`UPDATE payment_orders SET updated_at = updated_at - interval '1 minute' WHERE status IN ('Confirming', 'Canceling')`;
    await waitFor(
      () => t.db.paymentOrder.count({ where: { status: { in: ['Confirming', 'ConfirmUnknown', 'Canceling', 'CancelUnknown'] } } }),
      (n) => n === 0,
      30_000,
    );
    const result = await audit(t.db);
    expect(result.discrepancies).toEqual([]);
    expect(result.checked.orders).toBeGreaterThan(10);
  });
});
