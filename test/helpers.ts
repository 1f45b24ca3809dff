// Starting a real server on a real PostgreSQL, and the steps of the flow as a
// client (or Danal's buyer window) would take them.
import http from 'node:http';
import { Writable } from 'node:stream';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import request from 'supertest';
import { loadConfig, SANDBOX_SECRET_KEY } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { createPrisma, type Db } from '../src/db/prisma.js';
import { startServer, type RunningServer } from '../src/server.js';
import { auditLedger } from '../src/audit/ledger-audit.js';
import { applyMigrations } from '../src/db/schema-engine.js';
import { checkedAgent } from './openapi-conformance.js';

/** Tests register and pay far faster than any user; only the rate-limit tests set real limits. */
export const UNLIMITED = {
  RATE_LIMIT_AUTH_PER_ADDRESS: '1000000',
  RATE_LIMIT_LOGIN_PER_EMAIL_AND_ADDRESS: '1000000',
  RATE_LIMIT_LOGIN_PER_EMAIL: '1000000',
  RATE_LIMIT_PAYMENT_PER_USER: '1000000',
  RATE_LIMIT_PAYMENT_PER_ADDRESS: '1000000',
  RATE_LIMIT_NOTI_REFUSED_PER_ADDRESS: '1000000',
};

// What must never appear in a log line: fixed secrets, and every password and
// token the tests create. Every test server's log is scanned when it closes.
const SECRETS = new Set<string>([
  SANDBOX_SECRET_KEY,
  Buffer.from(`${SANDBOX_SECRET_KEY}:`).toString('base64'),
  'dev-only-insecure-jwt-secret-do-not-use-in-production',
  'admin-test-key-0123456789abcdef0123456789', // test/e2e/admin.test.ts
  'webhook-admin-key-0123456789abcdef0123', // test/e2e/webhooks.test.ts
]);
const SECRET_SHAPES: [string, RegExp][] = [
  ['a JWT', /eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/],
  ["a sandbox virtual account number", /\b5620\d{9}\b/],
];

/** Fails naming the first secret found in the log lines. */
export function expectNoSecretsIn(lines: string[]) {
  const everything = lines.join('\n');
  for (const secret of SECRETS) {
    if (everything.includes(secret)) expect.fail(`a secret (${secret.slice(0, 4)}…) appears in the log`);
  }
  for (const [what, shape] of SECRET_SHAPES) {
    const found = shape.exec(everything);
    if (found) expect.fail(`${what} appears in the log: ${everything.slice(Math.max(0, found.index - 120), found.index)}…`);
  }
}

export interface TestServer {
  url: string;
  api: ReturnType<typeof request>;
  db: Db;
  logs: string[];
  /** One reconciler sweep in the server's process. */
  sweep: RunningServer['sweep'];
  dispatchWebhooks: RunningServer['dispatchWebhooks'];
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, databaseUrl = inject('databaseUrl')): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'info',
    DANAL_TIMEOUT_MS: '1000',
    // Test files share one database; only the reconciler's own tests run the jobs (on a database of their own).
    JOBS_ENABLED: 'false',
    ...UNLIMITED,
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const server = await startServer(config, databaseUrl, createLogger(config.logLevel, sink));
  const db = createPrisma(databaseUrl, 4);
  const nonConforming: string[] = [];
  return {
    url: server.url,
    api: checkedAgent(request(server.url), nonConforming),
    db,
    logs,
    sweep: server.sweep,
    dispatchWebhooks: server.dispatchWebhooks,
    async close() {
      await server.close();
      await db.close();
      expectNoSecretsIn(logs);
      // Every answer this server gave the tests matched /openapi.json.
      expect(nonConforming).toEqual([]);
    },
  };
}

/**
 * The server of one test file: started before its tests, closed after them,
 * and after each test every wallet must still equal the sum of its ledger.
 */
export function useTestServer(env: Record<string, string> = {}): TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(env);
  });
  afterEach(async () => {
    if (server) await expectLedgerConsistent(server.db);
  });
  afterAll(async () => {
    await server?.close();
  });
  // Tests read it after beforeAll has run.
  return new Proxy({} as TestServer, { get: (_target, key) => Reflect.get(server!, key) });
}

export interface User {
  email: string;
  password: string;
  token: string;
  userId: string;
}

export async function newUser(t: TestServer): Promise<User> {
  const email = `user-${randomUUID()}@example.com`;
  const password = `pw-${randomUUID()}`;
  SECRETS.add(password);
  const registered = await t.api.post('/api/auth/register').send({ email, password }).expect(201);
  const login = await t.api.post('/api/auth/login').send({ email, password }).expect(200);
  SECRETS.add(login.body.data.accessToken);
  return { email, password, token: login.body.data.accessToken, userId: registered.body.data.userId };
}

export const bearer = (user: User) => ({ Authorization: `Bearer ${user.token}` });

export async function createOrder(t: TestServer, user: User, amount = 10_000, paymentMethod = 'Card') {
  const res = await t.api.post('/api/payment/order').set(bearer(user)).send({ amount, paymentMethod }).expect(201);
  return res.body.data as { orderID: string; amount: number; pointAmount: number; checkout: Record<string, string> };
}

/**
 * What the buyer does in Danal's window; `amount` may differ from the order to play a tampered checkout.
 * `notiUrl` is the order's checkout.notiUrl, where Danal then posts the deposit (without it, the plain path).
 */
export async function authorize(t: TestServer, orderId: string, amount: number, method = 'CARD', notiUrl?: string): Promise<string> {
  const res = await t.api.post('/sandbox/danal/authorize').send({ orderId, amount, method, ...(notiUrl && { notiUrl }) }).expect(201);
  return res.body.transactionId;
}

export const confirm = (t: TestServer, user: User, orderID: string, transactionID: string, method = 'CARD') =>
  t.api.post('/api/payment/confirm').set(bearer(user)).send({ orderID, transactionID, method });

/** `body` adds to the orderID: an amount for a partial cancel, a reason. */
export const cancel = (t: TestServer, user: User, orderID: string, body: Record<string, unknown> = {}) =>
  t.api.post('/api/payment/cancel').set(bearer(user)).send({ orderID, ...body });

/** Order created, authorized at the sandbox, confirmed: a Paid order. */
export async function paidOrder(t: TestServer, user: User, amount = 10_000) {
  const order = await createOrder(t, user, amount);
  const transactionId = await authorize(t, order.orderID, amount);
  await confirm(t, user, order.orderID, transactionId).expect(200);
  return { ...order, transactionId };
}

export const injectFault = (t: TestServer, fault: Record<string, unknown>) => t.api.post('/sandbox/danal/faults').send(fault).expect(201);

export async function sandboxTransaction(t: TestServer, transactionId: string) {
  return (await t.api.get(`/sandbox/danal/transactions/${transactionId}`).expect(200)).body;
}

export async function walletOf(t: TestServer, user: User) {
  return (await t.api.get('/api/wallet').set(bearer(user)).expect(200)).body.data as { balance: number; heldPoints: number; availableBalance: number; entries: { type: string; amount: number; orderID: string }[] };
}

/**
 * The invariant audit of `npm run audit:ledger` over the whole test database:
 * every wallet equals its ledger, every order's ledger rows and held points
 * match its status. The comparison with the sandbox's records is left to
 * test/e2e/audit.test.ts: some tests play Danal by hand, posting notifications
 * the sandbox never sent.
 */
export async function expectLedgerConsistent(db: Db) {
  const client = await db.pool.connect();
  try {
    expect((await auditLedger(client, { compareWithSandbox: false })).discrepancies).toEqual([]);
  } finally {
    client.release();
  }
}

/** The full audit of the database behind `db`, sandbox comparison included unless told otherwise. */
export async function audit(db: Db, options: { compareWithSandbox?: boolean } = {}) {
  const client = await db.pool.connect();
  try {
    return await auditLedger(client, options);
  } finally {
    client.release();
  }
}

export async function ledgerRows(db: Db, orderId: string) {
  return db.ledgerEntry.findMany({ where: { orderId }, orderBy: { id: 'asc' } });
}

/** Runs `fn` with a client of the shared test server's maintenance connection (or of `url`). */
export async function withClient<T>(fn: (client: pg.Client) => Promise<T>, url = inject('databaseUrl')): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A migrated database of the test file's own, on the same PostgreSQL, for
 * tests whose background jobs or damage must not reach other files' orders.
 */
export async function ownDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await withClient((c) => c.query(`CREATE DATABASE ${name}`));
  const url = inject('databaseUrl').replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  await applyMigrations(url);
  return { url, drop: () => withClient((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}) };
}

/** Polls `read` until `done` holds for its value; fails with the last value after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function orderOf(t: TestServer, user: User, orderID: string) {
  return (await t.api.get(`/api/payment/orders/${orderID}`).set(bearer(user)).expect(200)).body.data as {
    status: string;
    failure: { code: string; message: string } | null;
    canceledAt: string | null;
    balanceAmount: number;
    canceledAmount: number;
    isPartialCancelable: boolean;
    cancels: { cancelAmount: number; cancelPoints: number; cancelReason: string; refundableAmount: number; transactionKey: string | null }[];
  };
}

export async function eventsOf(t: TestServer, orderId: string): Promise<string[]> {
  const rows = await t.db.orderEvent.findMany({ where: { orderId }, orderBy: { id: 'asc' } });
  return rows.map((r) => r.type);
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The answer as JSON, or undefined when it is not. */
  body: any;
}

/**
 * A POST of `body` (JSON unless a string) sent from the local address `from`:
 * all of 127.0.0.0/8 is loopback, so a test can play a client at another
 * address (127.0.0.2…) without a second machine.
 */
export function postFrom(url: string, from: string, body: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers } },
      (res) => {
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (answer += chunk));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(answer);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text: answer, body: json });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}
