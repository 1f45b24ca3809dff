// Outgoing PAYMENT_STATUS_CHANGED events to a receiver of the test's own:
// signed the Standard Webhooks way (two secrets during a rotation), retried on
// failure with the same id and body, dead after the last attempt, re-sent by
// an operator. On a database of its own: its jobs deliver every event there.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, cancel, confirm, createOrder, newUser, ownDatabase, paidOrder, startTestServer, waitFor, type TestServer } from '../helpers.js';

const SECRETS = [`whsec_${randomBytes(32).toString('base64')}`, `whsec_${randomBytes(32).toString('base64')}`];
const ADMIN_KEY = 'webhook-admin-key-0123456789abcdef0123';

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  event: { eventType: string; createdAt: string; data: { orderID: string; status: string; balanceAmount: number } };
}

const received: Received[] = [];
/** Orders whose deliveries the receiver answers 500 to, and how many more times. */
const failing = new Map<string, number>();
let receiver: http.Server;
let t: TestServer;
let database: { url: string; drop(): Promise<void> };

/** What a receiver does: recompute the signature with its secret and compare in constant time. */
function verifies(r: Received, secret: string): boolean {
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${r.id}.${r.timestamp}.${r.body}`).digest();
  return r.signature.split(' ').some((part) => {
    const given = Buffer.from(part.replace(/^v1,/, ''), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const event = JSON.parse(body);
      received.push({ id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']), body, event });
      const left = failing.get(event.data.orderID) ?? 0;
      if (left > 0) failing.set(event.data.orderID, left - 1);
      res.writeHead(left > 0 ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  database = await ownDatabase('webhooks');
  t = await startTestServer(
    {
      JOBS_ENABLED: 'true',
      RECONCILE_INTERVAL_SECONDS: '1',
      WEBHOOK_INTERVAL_SECONDS: '1',
      WEBHOOK_URLS: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/dpot-events`,
      WEBHOOK_SECRETS: SECRETS.join(','),
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_MAX_MS: '400',
      WEBHOOK_MAX_ATTEMPTS: '3',
      ADMIN_API_KEYS: ADMIN_KEY,
    },
    database.url,
  );
});

afterAll(async () => {
  await t?.close();
  await database?.drop();
  await new Promise((r) => receiver?.close(r));
});

const eventsFor = (orderID: string) => received.filter((r) => r.event.data.orderID === orderID);

describe('outgoing webhooks', () => {
  it('sends PAYMENT_STATUS_CHANGED for Paid and Canceled, signed with both active secrets, and nothing for in-flight states', async () => {
    const user = await newUser(t);
    const paid = await paidOrder(t, user, 10_000);
    await cancel(t, user, paid.orderID).expect(200);
    const events = await waitFor(async () => eventsFor(paid.orderID), (e) => e.length >= 2);
    expect(events.map((e) => e.event.data.status)).toEqual(['Paid', 'Canceled']);
    expect(events[0]!.event).toMatchObject({ eventType: 'PAYMENT_STATUS_CHANGED', data: { orderID: paid.orderID, status: 'Paid', balanceAmount: 10_000 } });
    for (const e of events) {
      expect(verifies(e, SECRETS[0]!)).toBe(true);
      expect(verifies(e, SECRETS[1]!)).toBe(true);
      expect(verifies(e, `whsec_${randomBytes(32).toString('base64')}`)).toBe(false);
      expect(Math.abs(Number(e.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });

  it('retries a failed delivery with the same id and body, so the receiver can recognise the repeat', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 20_000);
    failing.set(order.orderID, 2);
    await confirm(t, user, order.orderID, await authorize(t, order.orderID, 20_000)).expect(200);
    const events = await waitFor(async () => eventsFor(order.orderID), (e) => e.length >= 3);
    expect(events).toHaveLength(3);
    expect(new Set(events.map((e) => e.id)).size).toBe(1);
    expect(new Set(events.map((e) => e.body)).size).toBe(1);
    const log = await t.api.get('/api/admin/webhooks?state=delivered').set('Authorization', `Basic ${ADMIN_KEY}`).expect(200);
    expect(log.body.data.deliveries.find((d: { orderID: string }) => d.orderID === order.orderID)).toMatchObject({ state: 'delivered', attempts: 3, lastStatus: 204 });
  });

  it('marks a delivery dead after the last attempt, and delivers it when an operator re-sends it', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 30_000);
    failing.set(order.orderID, 100);
    await confirm(t, user, order.orderID, await authorize(t, order.orderID, 30_000)).expect(200);
    const admin = () => t.api.get('/api/admin/webhooks?state=dead').set('Authorization', `Basic ${ADMIN_KEY}`);
    const dead = await waitFor(
      async () => (await admin().expect(200)).body.data.deliveries.find((d: { orderID: string }) => d.orderID === order.orderID),
      (d) => d !== undefined,
    );
    expect(dead).toMatchObject({ state: 'dead', attempts: 3, lastStatus: 500, orderStatus: 'Paid' });
    expect(eventsFor(order.orderID)).toHaveLength(3);

    failing.set(order.orderID, 0); // the receiver is fixed
    const resent = await t.api.post(`/api/admin/webhooks/${dead.eventId}/resend`).set('Authorization', `Basic ${ADMIN_KEY}`).expect(200);
    expect(resent.body.data).toEqual({ eventId: dead.eventId, deliveries: 1 });
    await waitFor(async () => eventsFor(order.orderID), (e) => e.length === 4);
    expect(eventsFor(order.orderID)[3]!.id).toBe(dead.eventId);
    await t.api.post('/api/admin/webhooks/00000000-0000-4000-8000-000000000000/resend').set('Authorization', `Basic ${ADMIN_KEY}`).expect(404);
  });

  it('writes the event in the same transaction as the status change, once per change', async () => {
    const user = await newUser(t);
    const order = await createOrder(t, user, 5_000);
    // A status change that is rolled back leaves no event behind.
    await t.db.$transaction(async (tx) => {
      await tx.$executeRaw`UPDATE payment_orders SET status = 'Expired' WHERE id = ${order.orderID}`;
      expect(await tx.webhookEvent.count({ where: { orderId: order.orderID } })).toBe(1);
      throw new Error('roll back');
    }).catch(() => {});
    expect(await t.db.webhookEvent.count({ where: { orderId: order.orderID } })).toBe(0);
    await confirm(t, user, order.orderID, await authorize(t, order.orderID, 5_000)).expect(200);
    const rows = await t.db.webhookEvent.findMany({ where: { orderId: order.orderID } });
    expect(rows.map((r) => r.status)).toEqual(['Paid']); // Confirming is not news
  });
});
