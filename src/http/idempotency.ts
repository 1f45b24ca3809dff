// The Idempotency-Key header on POST /api/payment/order, /confirm and /cancel.
// A repeat of a finished request gets the stored answer without the work
// being done again; the same key with another body is refused (422); a repeat
// while the first is still running gets 409. A 5xx answer is not stored: it
// says nothing lasting (Danal unreachable, outcome unknown), so the key is
// freed and a retry runs the request again, which the order's state machine
// makes safe. Without the header a request behaves as it always did.
import type { RequestHandler, Response } from 'express';
import type { Db } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import { AppError, conflict } from '../lib/errors.js';
import * as store from '../idempotency/idempotency-store.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

export interface IdempotencyOptions {
  db: Db;
  log: Logger;
  /** How long a running request keeps its key before a repeat may take over (its process may have died). */
  lockMs: number;
}

export function idempotencyFor(options: IdempotencyOptions) {
  const { db, log, lockMs } = options;

  /** Sends the answer only after it is stored, so that a repeat never runs the work a second time. */
  function storeAnswerBeforeSending(res: Response, userId: string, route: string, key: string) {
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const status = res.statusCode;
      const saved = status >= 500 ? store.releaseKey(db, userId, route, key) : store.completeKey(db, userId, route, key, status, body);
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

      // Twice at most: a key freed by a 5xx between our INSERT and our SELECT is claimed again.
      for (let round = 0; round < 2; round++) {
        if (await store.claimKey(db, userId, route, key, hash, lockedUntil())) {
          storeAnswerBeforeSending(res, userId, route, key);
          return next();
        }
        const stored = await store.readKey(db, userId, route, key);
        if (!stored) continue;
        if (stored.requestHash !== hash) {
          throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', `This ${IDEMPOTENCY_HEADER} was used with a different request body; use a new key for a new request`);
        }
        if (stored.responseStatus !== null) {
          res.setHeader('Idempotent-Replayed', 'true');
          return void res.status(stored.responseStatus).json(stored.responseBody);
        }
        if (stored.lockedUntil < new Date() && (await store.takeOverKey(db, userId, route, key, hash, lockedUntil()))) {
          storeAnswerBeforeSending(res, userId, route, key);
          return next();
        }
        throw conflict('IDEMPOTENCY_REQUEST_IN_PROGRESS', `A request with this ${IDEMPOTENCY_HEADER} is still running; ask again in a moment`);
      }
      throw conflict('IDEMPOTENCY_REQUEST_IN_PROGRESS', `A request with this ${IDEMPOTENCY_HEADER} is still running; ask again in a moment`);
    };
}
