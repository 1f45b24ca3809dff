// Rate limits on auth and money endpoints: per address, per account being
// logged in to, per user; 429 with Retry-After; shared through Redis by every
// process when REDIS_URL is set (the machines run Redis on 127.0.0.1:6379).
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, startTestServer, type TestServer } from '../helpers.js';

const LIMITS = {
  RATE_LIMIT_AUTH_PER_ADDRESS: '8',
  RATE_LIMIT_LOGIN_PER_EMAIL_AND_ADDRESS: '3',
  RATE_LIMIT_LOGIN_PER_EMAIL: '10',
  RATE_LIMIT_PAYMENT_PER_USER: '4',
  RATE_LIMIT_PAYMENT_PER_ADDRESS: '1000',
};

describe('rate limits, in memory', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(LIMITS);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a fourth wrong password for one account within the window, with Retry-After', async () => {
    const email = `victim-${randomUUID()}@example.com`;
    await t.api.post('/api/auth/register').send({ email, password: 'right-password' }).expect(201);
    for (let i = 0; i < 3; i++) await t.api.post('/api/auth/login').send({ email, password: 'wrong-password' }).expect(401);
    const limited = await t.api.post('/api/auth/login').send({ email: email.toUpperCase(), password: 'right-password' }).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('limits each user on the money endpoints, and not the next user', async () => {
    // A server of its own: the address limit of auth must not be what stops this test.
    const s = await startTestServer({ ...LIMITS, RATE_LIMIT_AUTH_PER_ADDRESS: '100' });
    try {
      const [alice, bob] = [await newUser(s), await newUser(s)];
      const order = () => ({ amount: 10_000, paymentMethod: 'Card' });
      for (let i = 0; i < 4; i++) await s.api.post('/api/payment/order').set(bearer(alice)).send(order()).expect(201);
      const limited = await s.api.post('/api/payment/order').set(bearer(alice)).send(order()).expect(429);
      expect(limited.headers['retry-after']).toBeDefined();
      await s.api.post('/api/payment/order').set(bearer(bob)).send(order()).expect(201);
      // Rejected requests changed nothing: four orders for alice.
      expect(await s.db.paymentOrder.count({ where: { userId: alice.userId } })).toBe(4);
    } finally {
      await s.close();
    }
  });

  it('limits one address on the auth endpoints', async () => {
    const s = await startTestServer(LIMITS);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        statuses.push((await s.api.post('/api/auth/register').send({ email: `a-${randomUUID()}@example.com`, password: 'password123' })).status);
      }
      expect(statuses).toEqual([201, 201, 201, 201, 201, 201, 201, 201, 429, 429]);
    } finally {
      await s.close();
    }
  });
});

/** A login sent from `address` (any of 127.0.0.0/8 reaches a server on 127.0.0.1). */
function loginFrom(t: TestServer, address: string, email: string, password: string): Promise<number> {
  const body = JSON.stringify({ email, password });
  return new Promise((resolve, reject) => {
    const req = http.request(`${t.url}/api/auth/login`, { method: 'POST', localAddress: address, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('login limits per account and address', () => {
  let t: TestServer;
  beforeAll(async () => {
    // The per-address limit of all auth routes out of the way: these tests are about the account's limits.
    t = await startTestServer({ ...LIMITS, RATE_LIMIT_AUTH_PER_ADDRESS: '1000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a stranger guessing from one address cannot lock out the user logging in from another', async () => {
    const email = `target-${randomUUID()}@example.com`;
    await t.api.post('/api/auth/register').send({ email, password: 'right-password' }).expect(201);
    const stranger: number[] = [];
    for (let i = 0; i < 30; i++) stranger.push(await loginFrom(t, '127.0.0.2', email, `wrong-guess-${i}`));
    // Three guesses, then that address is refused for this account.
    expect(stranger.slice(0, 3)).toEqual([401, 401, 401]);
    expect(new Set(stranger.slice(3))).toEqual(new Set([429]));
    expect(await loginFrom(t, '127.0.0.2', email, 'right-password')).toBe(429);
    // The user, from their own address, is not locked out.
    expect(await loginFrom(t, '127.0.0.1', email, 'right-password')).toBe(200);
    expect(await loginFrom(t, '127.0.0.3', email, 'right-password')).toBe(200);
  });

  it('still slows guessing spread over many addresses: the account as a whole has a looser limit', async () => {
    const email = `spread-${randomUUID()}@example.com`;
    await t.api.post('/api/auth/register').send({ email, password: 'right-password' }).expect(201);
    const statuses: number[] = [];
    // Three guesses from each of four addresses: twelve, past the account's limit of ten.
    for (const address of ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4']) {
      for (let i = 0; i < 3; i++) statuses.push(await loginFrom(t, address, email, `wrong-guess-${address}-${i}`));
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect(await loginFrom(t, '127.0.1.5', email, 'right-password')).toBe(429);
  });
});

describe('rate limits shared through Redis', () => {
  it('counts the requests of two server processes together', async () => {
    const env = { ...LIMITS, RATE_LIMIT_LOGIN_PER_EMAIL: '3', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `dpot-test-${randomBytes(4).toString('hex')}:` };
    const [a, b] = [await startTestServer(env), await startTestServer(env)];
    try {
      const email = `shared-${randomUUID()}@example.com`;
      await a.api.post('/api/auth/register').send({ email, password: 'right-password' }).expect(201);
      await a.api.post('/api/auth/login').send({ email, password: 'wrong-password' }).expect(401);
      await b.api.post('/api/auth/login').send({ email, password: 'wrong-password' }).expect(401);
      await a.api.post('/api/auth/login').send({ email, password: 'wrong-password' }).expect(401);
      // The fourth attempt, at the other process, is over the shared limit of 3.
      expect((await b.api.post('/api/auth/login').send({ email, password: 'right-password' }).expect(429)).body.error.code).toBe('RATE_LIMITED');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps serving, counting in memory, when Redis cannot be reached', async () => {
    const s = await startTestServer({ ...LIMITS, RATE_LIMIT_LOGIN_PER_EMAIL: '3', REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const email = `no-redis-${randomUUID()}@example.com`;
      await s.api.post('/api/auth/register').send({ email, password: 'right-password' }).expect(201);
      for (let i = 0; i < 3; i++) await s.api.post('/api/auth/login').send({ email, password: 'wrong-password' }).expect(401);
      await s.api.post('/api/auth/login').send({ email, password: 'right-password' }).expect(429);
      expect(s.logs.some((l) => l.includes('rate_limit.redis_unavailable'))).toBe(true);
    } finally {
      await s.close();
    }
  });
});
