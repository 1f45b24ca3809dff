// Delivers the outbox (webhook_events, written by a trigger in the same
// transaction as each status change) to the configured URLs: one delivery
// row per event and URL, signed the Standard Webhooks way, retried with
// exponential backoff and jitter on a non-2xx answer or a timeout, dead after
// the last attempt, and re-sent when an operator asks. At least once: a
// receiver recognises a repeat by its webhook-id.
import type { Db } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import { orderFromJson } from '../payments/order-repository.js';
import { orderView } from '../payments/order-view.js';
import { cancelFromJson } from '../payments/cancel-repository.js';
import { sign } from './signature.js';

export interface WebhookSettings {
  urls: string[];
  /** Key bytes of the active secrets (two during a rotation). */
  keys: Buffer[];
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

interface DueDelivery {
  id: string;
  event_id: string;
  url: string;
  attempts: number;
  event_type: string;
  created_at: Date;
  snapshot: Record<string, unknown>;
}

/** The payment object as it was at the event: the order row and its completed cancels, as the outbox trigger saved them. */
function snapshotView(snapshot: Record<string, unknown>) {
  const cancels = Array.isArray(snapshot.cancels) ? (snapshot.cancels as Record<string, unknown>[]).map(cancelFromJson) : [];
  return orderView(orderFromJson(snapshot), cancels);
}

/** The body of an event: the same bytes on every attempt. */
export function eventBody(event: { event_type: string; created_at: Date; snapshot: Record<string, unknown> }): string {
  return JSON.stringify({ eventType: event.event_type, createdAt: event.created_at.toISOString(), data: snapshotView(event.snapshot) });
}

export function createWebhookDispatcher(deps: { db: Db; log: Logger; settings: WebhookSettings }) {
  const { db, log, settings } = deps;

  /** New events become one pending delivery per configured URL. */
  async function expand(): Promise<void> {
    await db.pool.query(
      `WITH events AS (
         UPDATE webhook_events SET expanded_at = now()
         WHERE id IN (SELECT id FROM webhook_events WHERE expanded_at IS NULL ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED)
         RETURNING id
       )
       INSERT INTO webhook_deliveries (event_id, url) SELECT events.id, u.url FROM events CROSS JOIN unnest($1::text[]) AS u(url)
       ON CONFLICT DO NOTHING`,
      [settings.urls],
    );
  }

  function backoffMs(attempt: number): number {
    const exponential = Math.min(settings.retryBaseMs * 2 ** (attempt - 1), settings.retryMaxMs);
    return Math.round(exponential * (0.5 + Math.random())); // full jitter around the step
  }

  async function attempt(delivery: DueDelivery): Promise<void> {
    const body = eventBody(delivery);
    const timestamp = Math.floor(Date.now() / 1000);
    let status = 0;
    let error: string | null = null;
    try {
      const res = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'webhook-id': delivery.event_id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sign(settings.keys, delivery.event_id, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (e) {
      error = (e as Error).name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : (e as Error).message;
    }
    if (status >= 200 && status < 300) {
      await db.pool.query(`UPDATE webhook_deliveries SET state = 'delivered', delivered_at = now(), last_status = $2, last_error = NULL WHERE id = $1`, [delivery.id, status]);
      return;
    }
    const dead = delivery.attempts >= settings.maxAttempts;
    await db.pool.query(
      `UPDATE webhook_deliveries SET state = $2, next_attempt_at = now() + make_interval(secs => $3::float8 / 1000), last_status = $4, last_error = $5 WHERE id = $1`,
      [delivery.id, dead ? 'dead' : 'pending', backoffMs(delivery.attempts), status || null, error ?? `HTTP ${status}`],
    );
    const fields = { event: dead ? 'webhook.dead' : 'webhook.retry', eventId: delivery.event_id, url: delivery.url, attempt: delivery.attempts, status, reason: error };
    if (dead) log.error(fields, 'webhook delivery gave up; an operator can re-send it');
    else log.warn(fields, 'webhook delivery failed; will retry');
  }

  /** One pass: expand new events, then try every delivery that is due (each leased while it runs). */
  async function dispatch(): Promise<void> {
    await expand();
    for (;;) {
      const { rows } = await db.pool.query<DueDelivery>(
        `UPDATE webhook_deliveries d SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $1::float8 / 1000)
         FROM webhook_events e
         WHERE e.id = d.event_id AND d.id IN (
           SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 50 FOR UPDATE SKIP LOCKED)
         RETURNING d.id, d.event_id, d.url, d.attempts, e.event_type, e.created_at, e.snapshot`,
        [settings.timeoutMs + 5_000],
      );
      if (rows.length === 0) return;
      await Promise.all(rows.map(attempt));
    }
  }

  return { dispatch };
}

/** An operator's re-send: every delivery of the event is tried again from the first attempt. */
export async function resendEvent(db: Db, eventId: string, urls: string[]): Promise<number> {
  const { rowCount } = await db.pool.query(
    `WITH known AS (SELECT id FROM webhook_events WHERE id = $1::uuid),
     added AS (INSERT INTO webhook_deliveries (event_id, url) SELECT known.id, u.url FROM known CROSS JOIN unnest($2::text[]) AS u(url) ON CONFLICT DO NOTHING)
     UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now() WHERE event_id IN (SELECT id FROM known)`,
    [eventId, urls],
  );
  return rowCount ?? 0;
}
