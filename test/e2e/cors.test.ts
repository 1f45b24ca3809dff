// The headers a browser acts on. CORS: the configured frontend origin may call
// the API from a browser, every other origin gets no CORS headers and a refused
// preflight. Caching: no API answer may be kept by a browser or a proxy.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearer, newUser, useTestServer } from '../helpers.js';

const t = useTestServer({ CORS_ORIGINS: 'https://dpot.example,http://localhost:5173' });

describe('CORS', () => {
  it('answers the preflight of an allowed origin, with the headers the frontend sends', async () => {
    const res = await t.api
      .options('/api/payment/confirm')
      .set('Origin', 'https://dpot.example')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type, idempotency-key')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://dpot.example');
    expect(res.headers['access-control-allow-methods']).toBe('GET, POST');
    expect(res.headers['access-control-allow-headers']).toMatch(/Idempotency-Key/);
    expect(res.headers.vary).toMatch(/Origin/);
  });

  it('lets an allowed origin read the answer and its request id', async () => {
    const user = await newUser(t);
    const res = await t.api.get('/api/wallet').set(bearer(user)).set('Origin', 'http://localhost:5173').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(res.headers['access-control-expose-headers']).toMatch(/X-Request-Id/);
  });

  it('gives another origin no CORS headers, and refuses its preflight', async () => {
    const user = await newUser(t);
    const res = await t.api.get('/api/wallet').set(bearer(user)).set('Origin', 'https://evil.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.api.options('/api/payment/order').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST').expect(403);
    expect(preflight.body.error.code).toBe('CORS_ORIGIN_NOT_ALLOWED');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends helmet security headers', async () => {
    const res = await t.api.get('/healthz').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('caching of API answers', () => {
  it('forbids storing the login answer (it carries the tokens), the wallet and the order', async () => {
    const email = `cache-${randomUUID()}@example.com`;
    await t.api.post('/api/auth/register').send({ email, password: 'correct horse battery' }).expect(201);
    const login = await t.api.post('/api/auth/login').send({ email, password: 'correct horse battery' }).expect(200);
    const auth = { Authorization: `Bearer ${login.body.data.accessToken}` };
    const order = await t.api.post('/api/payment/order').set(auth).send({ amount: 10_000, paymentMethod: 'Card' }).expect(201);
    const wallet = await t.api.get('/api/wallet').set(auth).expect(200);
    for (const res of [login, order, wallet]) {
      expect(res.headers['cache-control']).toBe('no-store');
      // Nothing to revalidate either: a 304 would hand back whatever the browser kept.
      expect(res.headers.etag).toBeUndefined();
    }
  });

  it('forbids storing a refusal too', async () => {
    const res = await t.api.get('/api/wallet').set('Authorization', 'Bearer not-a-token').expect(401);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
