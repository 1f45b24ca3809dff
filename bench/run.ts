// npm run bench [-- --duration S] [--rows N] [--reference] [--concurrency 1,16,64] [--smoke] [--profile DIR]
//
// Builds the service, starts it as in production on a fresh PostgreSQL of its
// own, captures the SQL of one charge flow from PostgreSQL's statement log,
// then at each concurrency drives the flow over HTTP and the same SQL with
// pgbench, and reports the ratio. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import https from 'node:https';
import { startBenchDatabase, startReferenceServer, startSandbox, startService, type BenchDatabase, type BenchSandbox, type BenchService } from './service.js';
import { findFreePort } from '../src/db/embedded-postgres.js';
import { runFlows, type BenchUser } from './load.js';
import { flowTarget, measure, measureAlternating, type Cluster, type Stack } from './measure.js';
import { parseStatementLog, pgbenchScript, inlineStatement, type CapturedStatement, type Variable } from './sql-capture.js';
import { createPgbenchUsers, uniqueExpression, PGBENCH_USER_EXPRESSION } from './pgbench.js';
import { fillExistingOrders } from './fill.js';
import { printReport, type BenchRun } from './report.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    rows: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '1,16,64' },
    smoke: { type: 'boolean', default: false },
    reference: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const smoke = args.smoke;
const seconds = smoke ? 1 : Number(args.duration);
const rowsToFill = Number(args.rows);
const concurrencies = args.concurrency.split(',').map(Number);
if (!(seconds > 0) || !Number.isInteger(rowsToFill) || rowsToFill < 0 || concurrencies.some((c) => !Number.isInteger(c) || c < 1 || c > 256)) {
  console.error('usage: npm run bench -- [--duration SECONDS] [--rows N] [--reference] [--concurrency 1,16,64] [--smoke] [--profile DIR]');
  process.exit(2);
}
const GROWTH_CONCURRENCY = 16;
const REFERENCE_CONCURRENCY = 16;
/** Runs in turns are cut into this many stretches per side (stretches of at least 3 s). */
const ALTERNATING_ROUNDS = smoke ? 1 : Math.max(1, Math.min(4, Math.floor(seconds / 3)));
const PG = { user: 'postgres', password: 'dpot-embedded', database: 'dpot' };
/** `--rows N` fills this second database of the cluster, so that both can be measured in turns. */
const GROWN_DATABASE = 'dpot_grown';

const say = (text: string) => console.log(`[bench] ${text}`);

async function api<T>(base: string, method: string, route: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${JSON.stringify(json)}`);
  return json as T;
}

async function newUser(base: string, n: number): Promise<BenchUser> {
  const email = `bench-${n}-${Date.now()}@bench.invalid`;
  const password = `bench-password-${n}`;
  const registered = await api<{ data: { userId: string } }>(base, 'POST', '/api/auth/register', { email, password });
  const login = await api<{ data: { accessToken: string } }>(base, 'POST', '/api/auth/login', { email, password });
  return { userId: registered.data.userId, token: login.data.accessToken };
}

async function oneFlow(base: string, danal: BenchSandbox, user: BenchUser) {
  const order = await api<{ data: { orderID: string } }>(base, 'POST', '/api/payment/order', { amount: 10_000, paymentMethod: 'Card' }, user.token);
  // The buyer authorizes at Danal's window: the sandbox process, not the service.
  const auth = await new Promise<{ transactionId: string }>((resolve, reject) => {
    const body = JSON.stringify({ orderId: order.data.orderID, amount: 10_000, method: 'CARD' });
    const req = https.request(`${danal.apiBase}/authorize`, { method: 'POST', ca: danal.ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text)) : reject(new Error(`authorize answered ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
  await api(base, 'POST', '/api/payment/confirm', { orderID: order.data.orderID, transactionID: auth.transactionId, method: 'CARD' }, user.token);
  return { orderId: order.data.orderID, transactionId: auth.transactionId };
}

/** One flow with log_statement=all on the service's connections: the SQL it really sends. */
async function captureFlowSql(db: BenchDatabase, admin: pg.Client, workDir: string) {
  await admin.query(`ALTER DATABASE ${PG.database} SET log_statement = 'all'`);
  // Both started after the ALTER, so that their sessions log. Without the job engine:
  // its polling is not part of a charge flow and would land in the capture.
  const servicePort = await findFreePort();
  const danal = await startSandbox(db.url, path.join(workDir, 'danal-capture.log'), path.join(workDir, 'tls'), [servicePort]);
  const service = await startService(db.url, path.join(workDir, 'service-capture.log'), danal, { jobs: false, port: servicePort });
  try {
    const user = await newUser(service.url, 0);
    await oneFlow(service.url, danal, user); // warm-up: first-use statements are not part of every flow
    db.markLog();
    const ids = await oneFlow(service.url, danal, user);
    await new Promise((r) => setTimeout(r, 300)); // the log reaches us through a pipe
    const statements = parseStatementLog(db.logSinceMark());
    const variables: Variable[] = [
      { value: ids.orderId, expression: uniqueExpression('ORDPGB') },
      { value: ids.transactionId, expression: uniqueExpression('TXPGB') },
      { value: user.userId, expression: PGBENCH_USER_EXPRESSION },
    ];
    return { statements, variables, ids };
  } finally {
    await service.stop();
    await danal.stop();
    await admin.query(`ALTER DATABASE ${PG.database} RESET log_statement`);
  }
}

/** Plans of the flow's statements as they run now, each inside a rolled-back transaction. */
async function explainFlow(admin: pg.Client, statements: CapturedStatement[], ids: { orderId: string; transactionId: string }) {
  const fresh: Variable[] = [
    { value: ids.orderId, expression: `'ORDEXPLAIN${Date.now()}'` },
    { value: ids.transactionId, expression: `'TXEXPLAIN${Date.now()}'` },
  ];
  const plans: { statement: string; plan: string[] }[] = [];
  const seen = new Set<string>();
  for (const statement of statements) {
    if (/^(BEGIN|COMMIT|ROLLBACK)/i.test(statement.sql) || seen.has(statement.sql)) continue;
    seen.add(statement.sql);
    const sql = inlineStatement(statement, fresh).replace(/;$/, '');
    await admin.query('BEGIN');
    try {
      const { rows } = await admin.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON) ${sql}`);
      plans.push({ statement: statement.sql.replace(/\s+/g, ' '), plan: rows.map((r) => r['QUERY PLAN'] as string) });
    } catch (error) {
      plans.push({ statement: statement.sql.replace(/\s+/g, ' '), plan: [`(not explained: ${(error as Error).message})`] });
    } finally {
      await admin.query('ROLLBACK');
    }
  }
  return plans;
}

function machine() {
  const version = (cmd: string, cmdArgs: string[]) => {
    try {
      return execFileSync(cmd, cmdArgs, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    pgbench: version('pgbench', ['--version']),
    commit: version('git', ['rev-parse', '--short', 'HEAD']),
  };
}

async function main() {
  say(smoke ? 'smoke run: 1 s per measurement, to prove the benchmark works (figures mean nothing)' : `full run: ${seconds} s per measurement`);
  say('building the service (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });

  // In the system's temp dir, readable by the "postgres" user the database runs as under root.
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'dpot-bench-'));
  chmodSync(workDir, 0o755);
  const db = await startBenchDatabase(path.join(workDir, 'pg'));
  const admin = new pg.Client({ connectionString: db.url });
  const started: BenchService[] = [];
  const clients: pg.Client[] = [admin];
  let failed = true; // until the end is reached: a failed run keeps its logs
  try {
    await admin.connect();
    const postgres = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    say(`PostgreSQL ${postgres} on port ${db.port}, data in ${workDir}`);

    const capture = await captureFlowSql(db, admin, workDir);
    const scriptFile = path.join(workDir, 'flow.pgbench.sql');
    writeFileSync(scriptFile, pgbenchScript(capture.statements, capture.variables));
    say(`captured ${capture.statements.length} statements of one charge flow → ${scriptFile}`);
    const cluster: Cluster = { db, credentials: { user: PG.user, password: PG.password }, scriptFile, say };

    /** A service and its Danal on one database of the cluster, with users signed up and warmed up. */
    async function startStack(database: string, logName: string, client: pg.Client, warmSeconds: number, options: { profileDir?: string } = {}): Promise<Stack> {
      const url = db.url.replace(/\/[^/]+$/, `/${database}`);
      // Danal is another server: its sandbox runs in a process of its own, on the same
      // database (its tables are in the schema danal_sandbox), and the service calls it over HTTP.
      const servicePort = await findFreePort();
      const danal = await startSandbox(url, path.join(workDir, `danal${logName}.log`), path.join(workDir, 'tls'), [servicePort]);
      started.push(danal);
      const service = await startService(url, path.join(workDir, `service${logName}.log`), danal, { ...options, port: servicePort });
      started.push(service);
      const users: BenchUser[] = [];
      for (let i = 1; i <= maxConcurrency; i++) users.push(await newUser(service.url, i)); // as users sign up: not all at once
      await createPgbenchUsers(client, maxConcurrency);
      if (!smoke) {
        say(`warming up ${database} (${warmSeconds} s at concurrency 16)`);
        await runFlows(flowTarget({ service, danal }), users, 16, warmSeconds);
      }
      return { service, danal, users, admin: client, database };
    }
    const maxConcurrency = Math.max(...concurrencies, GROWTH_CONCURRENCY);
    const base = await startStack(PG.database, '', admin, 3, { profileDir: args.profile && path.resolve(args.profile) });

    const runs: BenchRun[] = [];
    for (const concurrency of concurrencies) runs.push(await measure(cluster, base, concurrency, seconds, 'base'));
    let reference: { service: BenchRun; express: BenchRun; bare: BenchRun } | undefined;
    // The smoke run starts them too, so that CI proves they still work.
    if (args.reference || smoke) {
      // The same statements served by Express alone and by bare node:http, with the same Danal
      // stand-in, in turns with the service: what our own code costs, read at the same moment.
      const referenceStack = async (kind: 'bare' | 'express'): Promise<Stack> => {
        // --profile: each reference's profile in a folder of its own, to set beside the service's.
        const profileDir = args.profile && path.resolve(args.profile, `reference-${kind}`);
        const server = await startReferenceServer(kind, db.url, path.join(workDir, `reference-${kind}.log`), base.danal, { profileDir });
        started.push(server);
        if (!smoke) await runFlows(flowTarget({ service: server, danal: base.danal }), base.users, REFERENCE_CONCURRENCY, seconds); // warmed like the service
        return { ...base, service: server };
      };
      const stacks = [base, await referenceStack('express'), await referenceStack('bare')];
      const labels = ['service, in turns', 'reference: Express + axios', 'reference: bare node:http'];
      const [service, express, bare] = await measureAlternating(cluster, stacks, labels, REFERENCE_CONCURRENCY, seconds, ALTERNATING_ROUNDS);
      reference = { service: service!, express: express!, bare: bare! };
    }
    let growth: { fill: Awaited<ReturnType<typeof fillExistingOrders>>; run: BenchRun; baseline: BenchRun } | undefined;
    let explainOn = admin;
    if (rowsToFill > 0) {
      // The filled database is a second one on the same cluster, with its own service and Danal,
      // so that the two can be driven in alternating stretches: the machine drifts by more than
      // the 20 % band within minutes, and alternating shares that drift between both sides.
      await admin.query(`CREATE DATABASE ${GROWN_DATABASE}`);
      const grownAdmin = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, `/${GROWN_DATABASE}`) });
      clients.push(grownAdmin);
      await grownAdmin.connect();
      // Warmed for a full measurement: the base processes have served minutes of load by now,
      // and a process that has not (its JIT, its pools) costs more per flow whatever its database.
      const grown = await startStack(GROWN_DATABASE, '-grown', grownAdmin, seconds);
      say(`filling ${rowsToFill} existing orders and ledger rows into ${GROWN_DATABASE}`);
      const fill = await fillExistingOrders(grownAdmin, rowsToFill);
      say(`filled ${fill.orders} orders for ${fill.users} users in ${fill.seconds} s`);
      const [baseline, run] = await measureAlternating(cluster, [base, grown], ['base, alternating', `+${rowsToFill} rows, alternating`], GROWTH_CONCURRENCY, seconds, ALTERNATING_ROUNDS);
      growth = { fill, baseline: baseline!, run: run! };
      explainOn = grownAdmin;
    }
    const explain = await explainFlow(explainOn, capture.statements, capture.ids);

    const results = {
      date: new Date().toISOString(),
      smoke,
      secondsPerMeasurement: seconds,
      machine: { ...machine(), postgres },
      flowStatements: capture.statements.map((s) => s.sql.replace(/\s+/g, ' ')),
      runs,
      reference: reference && {
        ...reference,
        // Flows per second of the service as a share of each reference's, measured in turns.
        shareOfExpress: Math.round((reference.service.flowsPerSec / reference.express.flowsPerSec) * 1000) / 1000,
        shareOfBare: Math.round((reference.service.flowsPerSec / reference.bare.flowsPerSec) * 1000) / 1000,
      },
      growth: growth && {
        rowsFilled: growth.fill.orders,
        usersFilled: growth.fill.users,
        fillSeconds: growth.fill.seconds,
        baseline: growth.baseline,
        run: growth.run,
        throughputChange: Math.round((growth.run.flowsPerSec / growth.baseline.flowsPerSec - 1) * 1000) / 1000,
        confirmP99Change: Math.round((growth.run.confirmP99Ms / growth.baseline.confirmP99Ms - 1) * 1000) / 1000,
        ratioChange: Math.round((growth.run.ratio / growth.baseline.ratio - 1) * 1000) / 1000,
      },
      explain,
    };
    const outFile = smoke ? 'bench/results-smoke.json' : 'bench/results.json';
    writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
    printReport(results);
    say(`results written to ${outFile}`);
    const errors = [...runs, ...(reference ? Object.values(reference) : []), ...(growth ? [growth.baseline, growth.run] : [])].reduce((sum, r) => sum + r.errors, 0);
    failed = errors > 0;
    if (failed) say(`FAILED: ${errors} errors during the runs`);
  } finally {
    for (const child of started.reverse()) await child.stop();
    for (const client of clients) await client.end().catch(() => {});
    await db.stop();
    if (failed) say(`logs kept in ${workDir} (service*.log, danal*.log)`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  if (failed) process.exit(1);
}

await main();
