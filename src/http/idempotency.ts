// The Idempotency-Key header on POST /api/payment/order, /confirm and /cancel.
// One key is one operation, whatever happens between its tries: the operation
// a key starts carries the key in the database (the order it created, the
// cancel it asked for; see src/payments/), so a retry finds it and answers
// with its outcome, also after a crash, a lock takeover or an operator's
// settlement. This middleware keeps the answers (idempotency_keys) and lets
// one request at a time work under a key. What happens to a key once its
// request is answered is decided in one place, `keyFate` below.
import type { RequestHandler, Response } from 'express';
import type { Db } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import { AppError, conflict } from '../lib/errors.js';
import * as store from '../idempotency/idempotency-store.js';
import type { IdempotencyRef } from '../idempotency/idempotency-store.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set when the request came with an Idempotency-Key and holds it. */
    idempotency?: IdempotencyRef;
  }
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Refusals that are Danal's answer to work that ran: as final as a success,
 * so they are stored and replayed like one.
 */
const OUTCOME_REFUSALS = new Set(['PAYMENT_DECLINED', 'AMOUNT_MISMATCH', 'CANCEL_DECLINED']);

/**
 * - `store`: the outcome of work that ran (2xx, or Danal's refusal of it): kept
 *   and replayed, status and body, for IDEMPOTENCY_TTL_HOURS.
 * - `free`: any other 4xx, a refusal made before any work (validation, a state
 *   that says "ask again", not found): the key is forgotten, and a retry with
 *   it, corrected or not, is a new request.
 * - `hold`: 5xx, work may have run and its outcome is not known yet: nothing is
 *   stored and the key stays bound to its body, so a retry with the same body
 *   runs at once and meets the operation it started; another body is refused.
 */
export function keyFate(status: number, body: unknown): 'store' | 'free' | 'hold' {
  if (status >= 500) return 'hold';
  if (status < 300) return 'store';
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' && OUTCOME_REFUSALS.has(code) ? 'store' : 'free';
}

export interface IdempotencyOptions {
  db: Db;
  log: Logger;
  /** How long a running request keeps its key before a repeat may take over (its process may have died). */
  lockMs: number;
}

export function idempotencyFor(options: IdempotencyOptions) {
  const { db, log, lockMs } = options;

  /** Sends the answer only after the key's fate is recorded, so that a repeat never runs the work a second time. */
  function settleKeyBeforeSending(res: Response, userId: string, route: string, key: string) {
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const fate = keyFate(res.statusCode, body);
      const saved =
        fate === 'store'
          ? store.completeKey(db, userId, route, key, res.statusCode, body)
          : fate === 'free'
            ? store.releaseKey(db, userId, route, key)
            : store.unlockKey(db, userId, route, key);
      saved
        .catch((error: unknown) => log.error({ event: 'idempotency.store_failed', err: error, route }, 'idempotency key not stored'))
        .finally(() => send(body));
      return res;
    };
  }

  return (route: string): RequestHandler =>
    async (req, res, next) => {
      const key = req.get(IDEMPOTENCY_HEADER);
      if (key === undefined) return next();
      if (!VALID_KEY.test(key)) {
        throw new AppError(400, 'INVALID_IDEMPOTENCY_KEY', `${IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters`);
      }
      const userId = req.userId!;
      const hash = store.requestHash(req.body);
      const lockedUntil = () => new Date(Date.now() + lockMs);
      const work = () => {
        req.idempotency = { id: store.idempotencyId(userId, route, key), requestHash: hash };
        settleKeyBeforeSending(res, userId, route, key);
        next();
      };

      // Twice at most: a key freed between our INSERT and our SELECT is claimed again.
      for (let round = 0; round < 2; round++) {
        if (await store.claimKey(db, userId, route, key, hash, lockedUntil())) return work();
        const stored = await store.readKey(db, userId, route, key);
        if (!stored) continue;
        if (stored.requestHash !== hash) {
          throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', `This ${IDEMPOTENCY_HEADER} was used with a different request body; use a new key for a new request`);
        }
        if (stored.responseStatus !== null) {
          res.setHeader('Idempotent-Replayed', 'true');
          return void res.status(stored.responseStatus).json(stored.responseBody);
        }
        if (await store.takeOverKey(db, userId, route, key, hash, lockedUntil())) return work();
        throw conflict('IDEMPOTENCY_REQUEST_IN_PROGRESS', `A request with this ${IDEMPOTENCY_HEADER} is still running; ask again in a moment`);
      }
      throw conflict('IDEMPOTENCY_REQUEST_IN_PROGRESS', `A request with this ${IDEMPOTENCY_HEADER} is still running; ask again in a moment`);
    };
}
