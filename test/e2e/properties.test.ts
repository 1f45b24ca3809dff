// Property-based: generated request bodies for every endpoint. Whatever a
// client sends, the answer is never a 5xx or a stack trace, always our error
// shape, and a rejected request changes no wallet.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_SECRET_KEY } from '../../src/config.js';
import { afterAll } from 'vitest';
import { authorize, bearer, confirm, createOrder, newUser, ownDatabase, paidOrder, startTestServer, type TestServer, type User } from '../helpers.js';

// A database of its own: the check that a rejected request changes no wallet
// looks at every wallet, and other test files pay in parallel on the shared one.
let t: TestServer;
let database: { url: string; drop(): Promise<void> };
afterAll(async () => {
  await t?.close();
  await database?.drop();
});
const RUNS = 60;

let user: User;
const known = { pending: '', paid: '', paidTransaction: '', pendingTransaction: '', va: '', vaTransaction: '' };

beforeAll(async () => {
  database = await ownDatabase('properties');
  t = await startTestServer({}, database.url);
  user = await newUser(t);
  const pending = await createOrder(t, user, 10_000);
  known.pending = pending.orderID;
  known.pendingTransaction = await authorize(t, pending.orderID, 10_000);
  const paid = await paidOrder(t, user, 20_000);
  known.paid = paid.orderID;
  known.paidTransaction = paid.transactionId;
  const va = await createOrder(t, user, 30_000, 'VirtualAccount');
  known.va = va.orderID;
  known.vaTransaction = await authorize(t, va.orderID, 30_000, 'VACCOUNT');
  await confirm(t, user, va.orderID, known.vaTransaction, 'VIRTUAL_ACCOUNT').expect(200);
});

/** Every wallet's balance and the number of ledger rows: what a rejected request must leave alone. */
async function moneySnapshot() {
  const [row] = await t.db.$queryRaw<{ balances: string; held: string; rows: string }[]>`
    SELECT (SELECT COALESCE(SUM(balance), 0) FROM wallets)::text AS balances,
           (SELECT COALESCE(SUM(held_points), 0) FROM wallets)::text AS held,
           (SELECT count(*) FROM ledger_entries)::text AS rows`;
  return row;
}

type Send = (body: unknown) => Promise<{ status: number; text: string; body: unknown }>;

async function neverBreaks(send: Send, bodies: fc.Arbitrary<unknown>) {
  await fc.assert(
    fc.asyncProperty(bodies, async (body) => {
      const before = await moneySnapshot();
      const res = await send(body);
      expect(res.status, res.text).toBeLessThan(500);
      // However many problems a body has, the answer names a bounded number of them.
      expect(res.text.length, 'answer size').toBeLessThan(8_192);
      expect(res.text).not.toMatch(/\bat \S+ \(|\.ts:\d+|node_modules|TypeError|ReferenceError/);
      // No secret in an error body either: the user's token, the Danal secret key.
      for (const secret of [user.token, SANDBOX_SECRET_KEY]) expect(res.text).not.toContain(secret);
      if (res.status >= 400) {
        expect(await moneySnapshot()).toEqual(before);
      }
    }),
    { numRuns: RUNS },
  );
}

// Values of every JSON kind, and strings that often break parsers and databases.
const nasty = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.constantFrom('', '\u0000', '0', '-1', '1e309', 'NaN', "' OR 1=1 --", '<script>', '../../etc/passwd', '\uD800', 'Card', 'CARD'),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, -0, 1e21),
);
/**
 * A path segment is text: an object or array reaches the URL as its JSON. String()
 * would throw on the null-prototype objects fast-check sometimes makes (1 in ~3,000).
 */
const asPathText = (value: unknown): string => (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
/** JSON text nested up to 10,000 levels (sent as it is): past 32 it must be a 400 before anything walks it. */
const deepNesting = fc
  .tuple(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom(['[', ']'], ['{"a":', '}'], ['[{"b":', '}]']))
  .map(([depth, [open, close]]) => `${open!.repeat(depth)}${open === '[' ? '' : '1'}${close!.repeat(depth)}`);
/** Up to 2,500 unknown fields in one body (as many as fit in 16 kB): the details list stays short. */
const manyKeys = fc.integer({ min: 21, max: 2_500 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [i.toString(36), 0])));
const objectWith = (keys: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(fc.record(keys, { requiredKeys: [] }), fc.dictionary(fc.string(), nasty), fc.jsonValue(), deepNesting, manyKeys);

const post = (path: string, auth = true) =>
  (body: unknown) => {
    const req = t.api.post(path);
    if (auth) req.set(bearer(user));
    // A string goes out as it is (malformed JSON included); anything else as its JSON text.
    const text = typeof body === 'string' ? body : (JSON.stringify(body) ?? '');
    return req.set('Content-Type', 'application/json').send(text).then((r) => r);
  };

describe('generated bodies never break an endpoint', () => {
  it('POST /api/auth/register', () =>
    neverBreaks(post('/api/auth/register', false), objectWith({ email: fc.oneof(fc.emailAddress(), nasty), password: fc.oneof(fc.string(), nasty) })));

  it('POST /api/auth/login', () =>
    neverBreaks(post('/api/auth/login', false), objectWith({ email: fc.oneof(fc.constant(user.email), fc.emailAddress(), nasty), password: nasty })));

  it('POST /api/payment/order', () =>
    neverBreaks(
      post('/api/payment/order'),
      objectWith({
        amount: fc.oneof(fc.integer({ min: -1e7, max: 1e7 }), nasty),
        paymentMethod: fc.oneof(fc.constantFrom('Card', 'VirtualAccount', 'Mobile', 'card', 'CARD'), nasty),
        pointAmount: nasty,
      }),
    ));

  it('POST /api/payment/confirm', () =>
    neverBreaks(
      post('/api/payment/confirm'),
      objectWith({
        orderID: fc.oneof(fc.constantFrom(known.pending, known.paid, known.va), nasty),
        transactionID: fc.oneof(fc.constantFrom(known.paidTransaction, known.vaTransaction, 'T000000000000'), nasty),
        method: fc.oneof(fc.constantFrom('CARD', 'VIRTUAL_ACCOUNT', 'MOBILE'), nasty),
        amount: nasty,
      }),
    ));

  it('POST /api/payment/cancel', () =>
    neverBreaks(
      post('/api/payment/cancel'),
      // The paid order too: a generated amount may refund part of it (a 200 may move money; a refusal may not).
      objectWith({
        orderID: fc.oneof(fc.constantFrom(known.pending, known.va, known.paid, 'ORD_missing_000'), nasty),
        amount: fc.oneof(fc.integer({ min: -1_000, max: 30_000 }), nasty),
        reason: nasty,
      }),
    ));

  it('POST /api/payment/noti/vaccount', () =>
    neverBreaks(
      post('/api/payment/noti/vaccount', false),
      objectWith({
        code: fc.oneof(fc.constant('SUCCESS'), nasty),
        transactionID: fc.oneof(fc.constantFrom(known.vaTransaction, known.paidTransaction), nasty),
        orderID: fc.oneof(fc.constantFrom(known.va, known.paid), nasty),
        amount: fc.oneof(fc.constantFrom('30000', '29999', '300000'), nasty),
      }),
    ));

  it('GET /api/payment/orders/:orderID', () =>
    neverBreaks(
      (id) => t.api.get(`/api/payment/orders/${encodeURIComponent(id as string)}`).set(bearer(user)).then((r) => r),
      // Only what a client can put in a URL: a lone surrogate cannot be percent-encoded.
      fc.oneof(fc.string(), nasty.map(asPathText)).filter((id) => !/[\uD800-\uDFFF]/.test(id)),
    ));

  it('GET /api/wallet/ledger?cursor=', () =>
    neverBreaks(
      (cursor) => t.api.get(`/api/wallet/ledger?cursor=${encodeURIComponent(String(cursor))}`).set(bearer(user)).then((r) => r),
      fc.oneof(
        // Ledger ids around and past PostgreSQL's bigint, as the API encodes its cursors.
        fc.bigInt({ min: 0n, max: 10n ** 20n }).map((id) => Buffer.from(JSON.stringify({ id: String(id) })).toString('base64url')),
        fc.constantFrom('9223372036854775807', '9223372036854775808', '99999999999999999999', '-1', '1e3').map((id) => Buffer.from(JSON.stringify({ id })).toString('base64url')),
        nasty.map((v) => Buffer.from(JSON.stringify({ id: v }) ?? '').toString('base64url')),
        fc.string({ maxLength: 600 }),
      ),
    ));

  it('deeply nested bodies (up to the 16 kB limit) with an Idempotency-Key are refused with 400 JSON_TOO_DEEP past 32 levels', () =>
    fc.assert(
      fc.asyncProperty(fc.integer({ min: 33, max: 8_000 }), fc.constantFrom('/api/payment/order', '/api/payment/confirm', '/api/payment/cancel'), async (depth, path) => {
        const res = await t.api.post(path).set(bearer(user)).set('Idempotency-Key', `deep-${depth}-${path}`).set('Content-Type', 'application/json').send('['.repeat(depth) + ']'.repeat(depth));
        expect([res.status, res.body.error?.code]).toEqual([400, 'JSON_TOO_DEEP']);
      }),
      { numRuns: 20 },
    ));

  it('an Idempotency-Key of any printable shape', () =>
    neverBreaks(
      (key) => t.api.post('/api/payment/order').set(bearer(user)).set('Idempotency-Key', String(key)).send({ amount: 1_000, paymentMethod: 'Card' }).then((r) => r),
      fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 300 }).filter((k) => k.trim() === k && k.length > 0),
    ));
});
