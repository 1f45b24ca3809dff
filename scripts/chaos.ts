// npm run test:chaos -- --flows N --seed S [--concurrency C] [--restarts R]
// Random user flows (card and virtual-account orders, duplicate confirms,
// cancels, replayed and early notifications) against the service while the
// Danal sandbox injects latency, timeouts, cut connections, declines, server
// errors and different-amount approvals, and the service is SIGKILLed and
// restarted R times. Then it waits for the reconciler and runs the audit.
// Exits 1 on any discrepancy, on an order left unsettled, or on a final state
// that contradicts what a client was told.
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { findFreePort, startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { applyMigrations } from '../src/db/schema-engine.js';
import { auditLedger } from '../src/audit/ledger-audit.js';
import { ChaosService } from './chaos/service.js';
import { ChaosClient } from './chaos/client.js';
import { planFlows, seededRandom } from './chaos/plan.js';
import { runFlow, type ChaosUser, type FlowResult } from './chaos/flow.js';

const { values } = parseArgs({
  options: {
    flows: { type: 'string', default: '200' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    concurrency: { type: 'string', default: '12' },
    restarts: { type: 'string', default: '3' },
    users: { type: 'string', default: '30' },
  },
});
const flows = Number(values.flows);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
const restarts = Number(values.restarts);
const userCount = Number(values.users);
for (const [name, value] of Object.entries({ flows, seed, concurrency, restarts, users: userCount })) {
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} must be a whole number`);
    process.exit(2);
  }
}

const say = (line: string) => console.log(`[chaos] ${line}`);
const run = promisify(execFile);
/** What an operator reads for an unknown confirm: the amount Danal's console shows approved. */
const approvedAmount = (amount: number | undefined) => (amount ? ['--approved-amount', String(amount)] : []);

/**
 * What an operator reads for an unknown cancel: Danal's canceled total either
 * includes the cancel in flight (refunded) or does not (not refunded).
 */
function cancelOutcome(order: { canceled_amount: number; cancel_amount: number | null }, danalCanceled: number | undefined): string[] {
  if (order.cancel_amount === null || danalCanceled === undefined) return [];
  if (danalCanceled === order.canceled_amount + order.cancel_amount) return ['--cancel-outcome', 'refunded'];
  if (danalCanceled === order.canceled_amount) return ['--cancel-outcome', 'not-refunded'];
  return [];
}

const UNSETTLED = ['Confirming', 'ConfirmUnknown', 'Canceling', 'CancelUnknown'];

const workDir = await mkdtemp(path.join(tmpdir(), 'dpot-chaos-'));
await chmod(workDir, 0o755); // the embedded PostgreSQL runs as "postgres" when we are root
const database = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'pg'), port: await findFreePort() });
let exitCode = 1;
const service = new ChaosService(database.url, await findFreePort(), path.join(workDir, 'service.log'));
try {
  await applyMigrations(database.url);
  await service.start();
  const client = new ChaosClient(service.url);
  say(`flows ${flows}, seed ${seed}, concurrency ${concurrency}, restarts ${restarts}, service ${service.url}, log ${workDir}/service.log`);

  const users: ChaosUser[] = [];
  for (let i = 0; i < userCount; i++) {
    const email = `chaos-${i}-${randomUUID()}@example.com`;
    await client.call('POST', '/api/auth/register', { body: { email, password: 'chaos-password' } });
    users.push({ token: (await client.call('POST', '/api/auth/login', { body: { email, password: 'chaos-password' } })).body.data.accessToken });
  }

  // The flows, and the monkey: a SIGKILL and a restart each time another share of the flows is done.
  const plans = planFlows(flows, seed, userCount);
  const results: FlowResult[] = new Array(flows);
  const monkey = seededRandom(seed + 1);
  const killAt = Array.from({ length: restarts }, (_, i) => Math.floor(((i + 1) * flows) / (restarts + 1)));
  let next = 0;
  let done = 0;
  let restarted = 0;
  let restarting: Promise<void> | undefined;
  async function restart() {
    await new Promise((r) => setTimeout(r, Math.floor(monkey() * 400))); // land somewhere inside the flows in flight
    await service.kill();
    await new Promise((r) => setTimeout(r, 300 + Math.floor(monkey() * 700)));
    await service.start();
    restarted += 1;
    say(`killed and restarted the service (${restarted}/${restarts}) after ${done} flows`);
  }
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < flows) {
        const index = next++;
        results[index] = await runFlow(plans[index]!, users[plans[index]!.user]!, client);
        done += 1;
        if (killAt.length && done >= killAt[0]! && !restarting) {
          killAt.shift();
          restarting = restart().finally(() => (restarting = undefined));
        }
        if (done % 250 === 0) say(`${done} flows done`);
      }
    }),
  );
  await restarting;
  say(`all ${flows} flows done in ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for the reconciler`);

  // The reconciler settles what the faults and kills left in flight.
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  try {
    const count = async (where: string) => Number((await admin.query(`SELECT count(*) FROM payment_orders WHERE status::text = ANY($1) ${where}`, [UNSETTLED])).rows[0].count);
    /** Until every order is settled or left for an operator; returns how many are still unsettled. */
    async function settle(): Promise<number> {
      const waitUntil = Date.now() + 180_000;
      while ((await count('AND reconcile_gave_up_at IS NULL')) > 0 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 1_000));
      return count('');
    }
    let left = await settle();
    // An order the reconciler gave up on is the operator's: read Danal's console (the sandbox's
    // record) and re-arm it with the real operator command, as the README tells an operator to.
    const forOperator = (await admin.query<{ id: string; status: string; danal_transaction_id: string; canceled_amount: number; cancel_amount: number | null }>(
      `SELECT o.id, o.status, o.danal_transaction_id, o.canceled_amount, c.amount AS cancel_amount
       FROM payment_orders o LEFT JOIN order_cancels c ON c.order_id = o.id AND c.status = 'Requested'
       WHERE o.reconcile_gave_up_at IS NOT NULL`,
    )).rows;
    for (const order of forOperator) {
      const danal = await client.call('GET', `/sandbox/danal/transactions/${order.danal_transaction_id}`);
      const answer = order.status === 'CancelUnknown' ? cancelOutcome(order, danal.body?.canceledAmount) : approvedAmount(danal.body?.approvedAmount);
      await run(process.execPath, ['--import', 'tsx', 'scripts/ops-stuck.ts', '--retry', order.id, ...answer], { env: { ...process.env, DATABASE_URL: database.url } });
      say(`operator: ${order.id} (${order.status}) re-armed after reading Danal's record (${danal.body?.status}, approved ${danal.body?.approvedAmount ?? '-'}, canceled ${danal.body?.canceledAmount ?? '-'}) ${answer.join(' ')}`);
    }
    if (forOperator.length) left = await settle();

    const statuses = (await admin.query<{ status: string; count: string }>('SELECT status, count(*) FROM payment_orders GROUP BY status ORDER BY status')).rows;
    const finalStatus = new Map(
      (await admin.query<{ id: string; status: string }>('SELECT id, status FROM payment_orders')).rows.map((r) => [r.id, r.status]),
    );
    // What a client was told must hold at the end.
    const contradictions: string[] = [];
    for (const r of results) {
      const status = r.orderId ? finalStatus.get(r.orderId) : undefined;
      if (r.toldCanceled && status !== 'Canceled') contradictions.push(`order ${r.orderId} was answered canceled but is ${status}`);
      else if (r.toldPartiallyCanceled && !['PartialCanceled', 'Canceled'].includes(status ?? '')) {
        contradictions.push(`order ${r.orderId} was answered partly canceled but is ${status}`);
      } else if (r.toldPaid && !['Paid', 'PartialCanceled', 'Canceled'].includes(status ?? '')) contradictions.push(`order ${r.orderId} was answered paid but is ${status}`);
    }
    const audit = await auditLedger(admin);

    const faults = new Map<string, number>();
    for (const r of results) for (const f of r.faults) faults.set(f, (faults.get(f) ?? 0) + 1);
    const answers = new Map<number, number>();
    for (const r of results) for (const a of r.answers) answers.set(a, (answers.get(a) ?? 0) + 1);
    const events = (await admin.query<{ type: string; count: string }>('SELECT type, count(*) FROM order_events GROUP BY type ORDER BY type')).rows;

    say(`flows: ${flows} (${results.filter((r) => r.orderId).length} orders created; ${plans.filter((p) => p.virtualAccount).length} virtual-account, ${plans.filter((p) => p.confirmCopies > 1).length} with duplicate confirms, ${plans.filter((p) => p.cancel).length} planned cancels, ${plans.filter((p) => p.cancel && p.partialShare).length} of them partial)`);
    say(`faults injected: ${[...faults].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'} (total ${[...faults.values()].reduce((a, b) => a + b, 0)})`);
    say(`operator interventions: ${forOperator.length}`);
    say(`restarts (SIGKILL): ${restarted}; client retries: ${client.networkErrors} network errors, ${client.unavailable} answers 503`);
    say(`answers to clients: ${[...answers].sort(([a], [b]) => a - b).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    say(`orders per final status: ${statuses.map((s) => `${s.status} ${s.count}`).join(', ')}`);
    say(`reconciler events: ${events.map((e) => `${e.type} ${e.count}`).join(', ') || 'none'}`);
    say(`audit: ${Object.entries(audit.checked).map(([k, v]) => `${v} ${k}`).join(', ')}`);
    for (const problem of [...audit.discrepancies, ...contradictions]) say(`DISCREPANCY ${problem}`);
    if (left > 0) say(`UNSETTLED ${left} order(s) still in ${UNSETTLED.join('/')} after 180 s`);
    const clean = audit.discrepancies.length === 0 && contradictions.length === 0 && left === 0;
    say(clean ? 'result: no discrepancies' : `result: ${audit.discrepancies.length + contradictions.length} discrepancies, ${left} unsettled`);
    exitCode = clean ? 0 : 1;
  } finally {
    await admin.end();
  }
} catch (error) {
  console.error(error);
} finally {
  await service.stop().catch(() => {});
  await database.stop();
  if (exitCode === 0) await rm(workDir, { recursive: true, force: true });
  else say(`kept ${workDir} for inspection`);
}
process.exit(exitCode);
