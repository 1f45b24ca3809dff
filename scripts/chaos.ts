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
import { idempotencyId } from '../src/idempotency/idempotency-store.js';

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
    const registered = await client.call('POST', '/api/auth/register', { body: { email, password: 'chaos-password' } });
    const token = (await client.call('POST', '/api/auth/login', { body: { email, password: 'chaos-password' } })).body.data.accessToken;
    users.push({ token, userId: registered.body.data.userId });
  }

  // The flows, and the monkey: a SIGKILL and a restart each time another share of the flows is done.
  const plans = planFlows(flows, seed, userCount);
  // The flows' own window on the database: our clock moved past a virtual account's deadline.
  const flowDb = new pg.Pool({ connectionString: database.url, max: 2 });
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
        results[index] = await runFlow(plans[index]!, users[plans[index]!.user]!, client, flowDb);
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
  await flowDb.end();
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

    // Deposits held for an operator: credited when the order can take them, else returned (the sandbox
    // plays Danal's console, where the operator would send the money back).
    const held = (await admin.query<{ id: string; order_id: string; amount: string; status: string; order_amount: number }>(
      `SELECT d.id::text, d.order_id, d.amount::text, o.status::text, o.amount AS order_amount FROM unsettled_deposits d JOIN payment_orders o ON o.id = d.order_id WHERE d.status = 'Open'`,
    )).rows;
    for (const d of held) {
      const credit = Number(d.amount) === d.order_amount && ['WaitingForDeposit', 'Expired'].includes(d.status);
      await run(process.execPath, ['--import', 'tsx', 'scripts/ops-stuck.ts', '--settle-deposit', d.id, credit ? '--credit' : '--returned', '--note', 'chaos operator'], {
        env: { ...process.env, DATABASE_URL: database.url },
      }).catch((error: { stdout?: string; stderr?: string }) => say(`operator could not settle deposit ${d.id}: ${error.stdout ?? ''}${error.stderr ?? ''}`));
      say(`operator: held deposit ${d.id} of order ${d.order_id} (${d.status}, ${d.amount} KRW) ${credit ? 'credited' : 'returned'}`);
    }

    // One key, one operation: every keyed cancel, asked again now that all is settled, answers with its
    // outcome (the cancel its key asked for), never a new one.
    const keyMismatches: string[] = [];
    let keyedAsked = 0;
    for (const [i, r] of results.entries()) {
      const user = users[plans[i]!.user]!;
      for (const k of r.keyedCancels) {
        const row = (await admin.query<{ status: string; amount: number; failure_code: string | null }>(
          'SELECT status, amount, failure_code FROM order_cancels WHERE idempotency_id = $1',
          [idempotencyId(user.userId, 'POST /api/payment/cancel', k.key)],
        )).rows[0];
        if (!row) continue; // refused before any work: the key asked for nothing
        keyedAsked += 1;
        const again = await client.call('POST', '/api/payment/cancel', { token: user.token, key: k.key, body: k.body });
        const agrees = row.status === 'Done'
          ? again.status === 200 && again.body.data.canceledAmount === row.amount
          : row.status === 'Refused' && again.status === 409 && again.body.error.code === 'CANCEL_DECLINED';
        if (!agrees) keyMismatches.push(`keyed cancel of order ${k.orderId} is ${row.status} (${row.amount} KRW) but its key was answered ${again.status} ${JSON.stringify(again.body?.data ?? again.body?.error)}`);
      }
    }
    const keyedCancelRows = Number((await admin.query('SELECT count(*) FROM order_cancels WHERE idempotency_id IS NOT NULL')).rows[0].count);

    const statuses = (await admin.query<{ status: string; count: string }>('SELECT status, count(*) FROM payment_orders GROUP BY status ORDER BY status')).rows;
    const finalStatus = new Map(
      (await admin.query<{ id: string; status: string }>('SELECT id, status FROM payment_orders')).rows.map((r) => [r.id, r.status]),
    );
    // What a client was told must hold at the end.
    const contradictions: string[] = [];
    contradictions.push(...keyMismatches);
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
    say(`operator interventions: ${forOperator.length} unsettled orders, ${held.length} held deposits`);
    say(`restarts (SIGKILL): ${restarted}; client retries: ${client.networkErrors} network errors, ${client.unavailable} answers 503, ${client.lostAnswers} answers lost`);
    say(`keyed cancels: ${results.reduce((n, r) => n + r.keyedCancels.length, 0)} asked (${keyedCancelRows} started a cancel), ${results.reduce((n, r) => n + r.cancelRetries, 0)} retries with their key; asked again at the end: ${keyedAsked}, ${keyMismatches.length} answered otherwise than their cancel`);
    say(`answers to clients: ${[...answers].sort(([a], [b]) => a - b).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    say(`orders per final status: ${statuses.map((s) => `${s.status} ${s.count}`).join(', ')}`);
    say(`reconciler events: ${events.map((e) => `${e.type} ${e.count}`).join(', ') || 'none'}`);
    say(`audit: ${Object.entries(audit.checked).map(([k, v]) => `${v} ${k}`).join(', ')}`);
    for (const problem of [...audit.discrepancies, ...contradictions]) say(`DISCREPANCY ${problem}`);
    for (const open of audit.unsettled) say(`UNSETTLED ${open}`);
    if (left > 0) say(`UNSETTLED ${left} order(s) still in ${UNSETTLED.join('/')} after 180 s`);
    const unsettled = left + audit.unsettled.length;
    const clean = audit.discrepancies.length === 0 && contradictions.length === 0 && unsettled === 0;
    say(clean ? 'result: no discrepancies' : `result: ${audit.discrepancies.length + contradictions.length} discrepancies, ${unsettled} unsettled`);
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
