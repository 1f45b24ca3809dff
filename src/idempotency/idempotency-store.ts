// Idempotency keys in PostgreSQL. The primary key (user, route, key) decides
// which of several concurrent requests with one key does the work: the one
// whose INSERT lands. The others read its row.
import { createHash } from 'node:crypto';
import type { Db } from '../db/prisma.js';
import { storable } from '../lib/storable-json.js';

export interface StoredKey {
  requestHash: string;
  responseStatus: number | null;
  responseBody: unknown;
  lockedUntil: Date;
}

/** Object keys sorted at every level, so that {"a":1,"b":2} and {"b":2,"a":1} are one request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const requestHash = (body: unknown) => createHash('sha256').update(canonical(body)).digest('hex');

/** Inserts the key as running; false when the key exists already. */
export async function claimKey(db: Db, userId: string, route: string, key: string, hash: string, lockedUntil: Date): Promise<boolean> {
  const { rowCount } = await db.pool.query(
    `INSERT INTO idempotency_keys (user_id, route, key, request_hash, locked_until) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [userId, route, key, hash, lockedUntil],
  );
  return rowCount === 1;
}

export async function readKey(db: Db, userId: string, route: string, key: string): Promise<StoredKey | undefined> {
  const { rows } = await db.pool.query<StoredKey>(
    `SELECT request_hash AS "requestHash", response_status AS "responseStatus", response_body AS "responseBody", locked_until AS "lockedUntil"
     FROM idempotency_keys WHERE user_id = $1 AND route = $2 AND key = $3`,
    [userId, route, key],
  );
  return rows[0];
}

/** A running key whose request was lost (lock expired): the caller takes it over. */
export async function takeOverKey(db: Db, userId: string, route: string, key: string, hash: string, lockedUntil: Date): Promise<boolean> {
  const { rowCount } = await db.pool.query(
    `UPDATE idempotency_keys SET locked_until = $5
     WHERE user_id = $1 AND route = $2 AND key = $3 AND request_hash = $4 AND response_status IS NULL AND locked_until < now()`,
    [userId, route, key, hash, lockedUntil],
  );
  return rowCount === 1;
}

export async function completeKey(db: Db, userId: string, route: string, key: string, status: number, body: unknown): Promise<void> {
  await db.pool.query(
    `UPDATE idempotency_keys SET response_status = $4, response_body = $5, completed_at = now()
     WHERE user_id = $1 AND route = $2 AND key = $3 AND response_status IS NULL`,
    [userId, route, key, status, JSON.stringify(storable(body ?? null))],
  );
}

/** The request ended without a lasting answer (5xx): the key is free for a retry. */
export async function releaseKey(db: Db, userId: string, route: string, key: string): Promise<void> {
  await db.pool.query('DELETE FROM idempotency_keys WHERE user_id = $1 AND route = $2 AND key = $3 AND response_status IS NULL', [userId, route, key]);
}

/** Keys older than `ttlHours` are forgotten; the job engine calls this with every sweep. */
export async function purgeExpiredKeys(db: Db, ttlHours: number): Promise<number> {
  const { rowCount } = await db.pool.query(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`, [ttlHours]);
  return rowCount ?? 0;
}
