import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { newUser, startTestServer, type TestServer, type User } from '../helpers.js';

const DEV_SECRET = 'dev-only-insecure-jwt-secret-do-not-use-in-production';
let t: TestServer;
let user: User;
beforeAll(async () => {
  t = await startTestServer();
  user = await newUser(t);
});
afterAll(() => t.close());

const token = (claims: object, secret = DEV_SECRET, options: jwt.SignOptions = {}) =>
  jwt.sign(claims, secret, { algorithm: 'HS256', issuer: 'dpot-pay', audience: 'dpot', expiresIn: 600, subject: user.userId, ...options });

const walletWith = (authorization?: string) => {
  const req = t.api.get('/api/wallet');
  return authorization === undefined ? req : req.set('Authorization', authorization);
};

describe('register and login', () => {
  it('registers, refuses the same email twice (in any case), and logs in', async () => {
    const email = `Case-${Date.now()}@Example.com`;
    const created = await t.api.post('/api/auth/register').send({ email, password: 'correct horse' }).expect(201);
    expect(created.body.data.email).toBe(email.toLowerCase());
    expect(JSON.stringify(created.body)).not.toContain('correct horse');
    const dup = await t.api.post('/api/auth/register').send({ email: email.toUpperCase(), password: 'another one' }).expect(409);
    expect(dup.body.error.code).toBe('EMAIL_TAKEN');
    const login = await t.api.post('/api/auth/login').send({ email, password: 'correct horse' }).expect(200);
    expect(login.body.data).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });
    await walletWith(`Bearer ${login.body.data.accessToken}`).expect(200);
  });

  it('stores a salted scrypt hash, never the password', async () => {
    const stored = await t.db.user.findUniqueOrThrow({ where: { id: user.userId } });
    expect(stored.passwordHash).not.toContain(user.password);
    expect(Buffer.from(stored.passwordHash, 'base64')).toHaveLength(64);
    expect(Buffer.from(stored.passwordSalt, 'base64')).toHaveLength(16);
  });

  it('refuses a wrong password and an unknown email alike', async () => {
    const wrong = await t.api.post('/api/auth/login').send({ email: user.email, password: 'not-the-password' }).expect(401);
    const unknown = await t.api.post('/api/auth/login').send({ email: 'nobody@example.com', password: 'whatever1' }).expect(401);
    expect(wrong.body.error).toEqual(unknown.body.error);
  });

  it('refuses a short password and a malformed email', async () => {
    const short = await t.api.post('/api/auth/register').send({ email: 'short@example.com', password: 'abc' }).expect(400);
    expect(short.body.error.message).toContain('password');
    const bad = await t.api.post('/api/auth/register').send({ email: 'not-an-email', password: 'long enough' }).expect(400);
    expect(bad.body.error.message).toContain('email');
  });
});

describe('bearer tokens', () => {
  it('accepts a valid token', async () => {
    await walletWith(`Bearer ${token({})}`).expect(200);
  });

  it.each([
    ['a missing header', undefined, 'UNAUTHORIZED'],
    ['a header without Bearer', 'Token abc.def.ghi', 'INVALID_TOKEN'],
    ['garbage', 'Bearer not-a-jwt', 'INVALID_TOKEN'],
  ])('refuses %s with 401', async (_what, header, code) => {
    const res = await walletWith(header).expect(401);
    expect(res.body.error.code).toBe(code);
  });

  it('refuses an expired token', async () => {
    const expired = token({ iat: Math.floor(Date.now() / 1000) - 7200 }, DEV_SECRET, { expiresIn: 60 });
    const res = await walletWith(`Bearer ${expired}`).expect(401);
    expect(res.body.error.code).toBe('TOKEN_EXPIRED');
  });

  it('refuses a token signed with another secret', async () => {
    await walletWith(`Bearer ${token({}, 'someone-elses-secret-that-is-long-enough')}`).expect(401);
  });

  it('refuses alg none', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: user.userId, iss: 'dpot-pay', aud: 'dpot', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
    await walletWith(`Bearer ${header}.${payload}.`).expect(401);
  });

  it('refuses another algorithm (HS512) even with the right secret', async () => {
    await walletWith(`Bearer ${token({}, DEV_SECRET, { algorithm: 'HS512' })}`).expect(401);
  });

  it('refuses a wrong issuer or audience', async () => {
    await walletWith(`Bearer ${token({}, DEV_SECRET, { issuer: 'someone-else' })}`).expect(401);
    await walletWith(`Bearer ${token({}, DEV_SECRET, { audience: 'other-app' })}`).expect(401);
  });

  it('guards every payment and wallet route except the deposit notification', async () => {
    for (const [method, path] of [
      ['post', '/api/payment/order'],
      ['post', '/api/payment/confirm'],
      ['post', '/api/payment/cancel'],
      ['get', '/api/payment/config'],
      ['get', '/api/payment/orders/ORD123456'],
      ['get', '/api/wallet'],
    ] as const) {
      const res = await t.api[method](path).send({});
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    const noti = await t.api.post('/api/payment/noti/vaccount').send({});
    expect(noti.status).not.toBe(401);
  });
});
