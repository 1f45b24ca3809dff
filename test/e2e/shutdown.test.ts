// npm start's process, with its job engine running, stopped with SIGTERM while
// a payment is in flight: the confirm finishes and is credited, the job engine
// stops, then the process exits cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createPrisma } from '../../src/db/prisma.js';
import { spawnServer } from '../server-process.js';
import { ownDatabase } from '../helpers.js';

let database: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  database = await ownDatabase('shutdown'); // its jobs must not touch other files' orders
});
afterAll(async () => {
  await database?.drop();
});

describe('graceful shutdown', () => {
  it('finishes an in-flight confirm after SIGTERM, then exits 0', async () => {
    const server = await spawnServer({ DATABASE_URL: database.url, DANAL_TIMEOUT_MS: '5000', JOBS_ENABLED: 'true', RECONCILE_INTERVAL_SECONDS: '1' });
    const { url, child, lines, exited } = server;
    try {
      const api = request(url);
      const email = `shutdown-${Date.now()}@example.com`;
      await api.post('/api/auth/register').send({ email, password: 'password123' }).expect(201);
      const token = (await api.post('/api/auth/login').send({ email, password: 'password123' })).body.data.accessToken;
      const order = (await api.post('/api/payment/order').set('Authorization', `Bearer ${token}`).send({ amount: 10_000, paymentMethod: 'Card' })).body.data;
      const tx = (await api.post('/sandbox/danal/authorize').send({ orderId: order.orderID, amount: 10_000, method: 'CARD' })).body.transactionId;
      // Danal answers after 1.5 s: the confirm is still running when SIGTERM arrives.
      await api.post('/sandbox/danal/faults').send({ operation: 'confirm', kind: 'timeout', orderId: order.orderID, delayMs: 1_500 }).expect(201);

      const inFlight = api.post('/api/payment/confirm').set('Authorization', `Bearer ${token}`).send({ orderID: order.orderID, transactionID: tx, method: 'CARD' }).then((r) => r);
      await new Promise((r) => setTimeout(r, 400));
      child.kill('SIGTERM');

      const confirmed = await inFlight;
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.data).toMatchObject({ status: 'Paid', balance: 10_000 });
      const [code] = await exited;
      expect(code).toBe(0);
      const messages = lines.map((l) => JSON.parse(l).msg);
      expect(messages).toContain('job engine started');
      expect(messages).toContain('shutting down: draining requests');
      expect(messages.at(-1)).toBe('stopped');
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();

      const db = createPrisma(database.url, 1);
      try {
        expect((await db.paymentOrder.findUniqueOrThrow({ where: { id: order.orderID } })).status).toBe('Paid');
      } finally {
        await db.close();
      }
    } finally {
      server.kill();
    }
  });
});
