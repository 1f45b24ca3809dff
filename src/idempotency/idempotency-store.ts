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

/**
 * What the operation a key started carries in the database (an order, a
 * cancel): `id` names (user, route, key) in one value; `requestHash` is the
 * body the key was sent with.
 */
export interface IdempotencyRef {
  id: string;
  requestHash: string;
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

/** One value for (user, route, key), stored on the rows of the operation the key started. */
export const idempotencyId = (userId: string, route: string, key: string) =>
  createHash('sha256').update(`${userId}\n${route}\n${key}`).digest('hex');

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

/**
 * A key with the same body, no answer and no running request (its lock ran
 * out: its process died, or it was unlocked): the caller takes it over. The
 * database's clock decides, so that processes with skewed clocks agree.
 */
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

/** Refused before any work: the key is free again, for any body. */
export async function releaseKey(db: Db, userId: string, route: string, key: string): Promise<void> {
  await db.pool.query('DELETE FROM idempotency_keys WHERE user_id = $1 AND route = $2 AND key = $3 AND response_status IS NULL', [userId, route, key]);
}

/**
 * Work may have run and its outcome is not known yet: the key stays bound to
 * its body with no answer and no lock, so that a retry with the same body runs
 * at once (and finds the operation it started) and another body is refused.
 */
export async function unlockKey(db: Db, userId: string, route: string, key: string): Promise<void> {
  await db.pool.query(
    `UPDATE idempotency_keys SET locked_until = now() - interval '1 second'
     WHERE user_id = $1 AND route = $2 AND key = $3 AND response_status IS NULL`,
    [userId, route, key],
  );
}

/** Keys older than `ttlHours` are forgotten; the job engine calls this with every sweep. */
export async function purgeExpiredKeys(db: Db, ttlHours: number): Promise<number> {
  const { rowCount } = await db.pool.query(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`, [ttlHours]);
  return rowCount ?? 0;
}
