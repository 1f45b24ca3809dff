// Client input built to exhaust the server rather than to pay: deeply nested
// JSON, cursors past PostgreSQL's integers, bodies with thousands of unknown
// keys. Each is a clear, small 4xx, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, startTestServer, walletOf, type TestServer, type User } from '../helpers.js';

let t: TestServer;
let user: User;
beforeAll(async () => {
  t = await startTestServer();
  user = await newUser(t);
});
afterAll(() => t.close());

const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('deeply nested JSON', () => {
  it('refuses an 8,000-deep array with an Idempotency-Key with 400 JSON_TOO_DEEP', async () => {
    const res = await t.api
      .post('/api/payment/order')
      .set(bearer(user))
      .set('Idempotency-Key', 'deep-nesting-1')
      .set('Content-Type', 'application/json')
      .send(nested(8_000));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('JSON_TOO_DEEP');
    expect(res.body.error.message).toMatch(/32/);
    // Refused before the key was claimed: nothing stored under it.
    expect(await t.db.idempotencyKey.count({ where: { userId: user.userId, key: 'deep-nesting-1' } })).toBe(0);
  });

  it('refuses nesting one level past 32, in objects too, and accepts 32', async () => {
    const deep = await t.api.post('/api/payment/confirm').set(bearer(user)).set('Content-Type', 'application/json').send(nestedObject(33));
    expect([deep.status, deep.body.error.code]).toEqual([400, 'JSON_TOO_DEEP']);
    // 32 levels are read, and refused for what they say, not for their depth.
    const ok = await t.api.post('/api/payment/confirm').set(bearer(user)).set('Content-Type', 'application/json').send(nestedObject(32));
    expect([ok.status, ok.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    // Brackets inside strings are text, not nesting.
    const inString = await t.api.post('/api/auth/login').set('Content-Type', 'application/json').send(JSON.stringify({ email: 'x@example.com', password: '['.repeat(200) }));
    expect(inString.status).toBe(400);
    expect(inString.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a 4,000-deep notification with FAIL and stores a bounded trace, not the structure', async () => {
    const marker = `ORDDEEP${Date.now()}`;
    const body = `{"orderID":"${marker}","x":${nested(4_000)}}`;
    const res = await t.api.post('/api/payment/noti/vaccount').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FAIL');
    const stored = await t.db.depositNotification.findMany({ where: { outcome: 'REJECTED' }, orderBy: { id: 'desc' }, take: 5 });
    const record = stored.find((n) => JSON.stringify(n.body).includes(marker));
    expect(record).toBeDefined();
    expect(JSON.stringify(record!.body).length).toBeLessThan(4_200);
  });
});

describe('ledger cursor', () => {
  it.each(['9223372036854775808', '9999999999999999999'])('refuses a cursor id of %s (past bigint) with 400 INVALID_CURSOR', async (id) => {
    const cursor = Buffer.from(JSON.stringify({ id })).toString('base64url');
    const res = await t.api.get(`/api/wallet/ledger?cursor=${cursor}`).set(bearer(user));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_CURSOR');
  });

  it('still pages with the largest bigint', async () => {
    const cursor = Buffer.from(JSON.stringify({ id: '9223372036854775807' })).toString('base64url');
    await t.api.get(`/api/wallet/ledger?cursor=${cursor}`).set(bearer(user)).expect(200);
  });
});

describe('validation details', () => {
  it('lists the first 20 problems and counts the rest, with an Idempotency-Key too', async () => {
    // Two-character names, so that 2,167 of them fit in the 16 kB body limit.
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const body: Record<string, unknown> = { amount: 'x' };
    for (let i = 0; body && Object.keys(body).length <= 2_167; i++) body[alphabet[Math.floor(i / 62)]! + alphabet[i % 62]!] = 0;
    const text = JSON.stringify(body);
    expect(text.length).toBeLessThan(16 * 1024);
    const res = await t.api.post('/api/payment/order').set(bearer(user)).set('Idempotency-Key', `many-keys-${Date.now()}`).set('Content-Type', 'application/json').send(text);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const details = res.body.error.details as { field: string; message: string }[];
    expect(details).toHaveLength(21);
    expect(details.at(-1)!.message).toMatch(/2\s?149 more/);
    expect(res.text.length).toBeLessThan(4_000);
    expect((await walletOf(t, user)).balance).toBe(0);
  });
});

