// The gate in front of Danal's deposit notifications: who may send one. A
// sender NOTI_ALLOWED_IPS allows goes on to the notification's handling and
// its full record. Anyone else is answered FAIL with a bounded trace of the
// request (src/payments/refused-notifications.ts), and past a few a minute
// from one address with a 429 and nothing stored at all. The body of a
// refused request is never parsed, and read only up to the body limit.
import type { Request, RequestHandler, Response } from 'express';
import type { Db } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import { AddressList, normalizeIp } from '../lib/address-list.js';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.js';
import { recordRefusal } from '../payments/refused-notifications.js';

/** The largest notification body read, from anyone (Danal's are well under 1 kB). */
export const NOTIFICATION_BODY_LIMIT_BYTES = 8 * 1024;
const PREFIX_BYTES = 200;
/** Traces stored per window from all refused addresses together, should many take turns. */
const TRACES_PER_WINDOW = 100;

export interface NotificationGateOptions {
  db: Db;
  log: Logger;
  allowedIps: readonly string[];
  rateLimitStore: RateLimitStore;
  /** Refused requests answered (and traced) per address and window; past it, 429. */
  refusedPerAddress: number;
  windowMs: number;
}

/** Reads at most `limit` bytes of the body, keeping the first PREFIX_BYTES; the rest is left unread. */
function readBounded(req: Request, limit: number): Promise<{ size: number; prefix: Buffer; complete: boolean }> {
  return new Promise((resolve) => {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let size = 0;
    const finish = (complete: boolean) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      resolve({ size, prefix: Buffer.concat(kept).subarray(0, PREFIX_BYTES), complete });
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (keptBytes < PREFIX_BYTES) {
        kept.push(chunk.subarray(0, PREFIX_BYTES - keptBytes));
        keptBytes += Math.min(chunk.length, PREFIX_BYTES - keptBytes);
      }
      if (size > limit) {
        req.pause();
        finish(false);
      }
    };
    const onEnd = () => finish(true);
    const onError = () => finish(false);
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

const fail = (res: Response, status: number, message: string) => res.status(status).json({ code: 'FAIL', message });

export function notificationGate(options: NotificationGateOptions): RequestHandler {
  const { db, log, rateLimitStore: store, windowMs } = options;
  const allowed = new AddressList(options.allowedIps);

  return async (req, res, next) => {
    const sourceIp = normalizeIp(req.ip ?? req.socket.remoteAddress ?? '');
    if (allowed.has(sourceIp)) return next();

    const { count, resetMs } = await store.hit(`noti:refused:${sourceIp}`, windowMs);
    if (count > options.refusedPerAddress) {
      // Neither read nor stored; the connection is not kept for the unread body.
      if (count === options.refusedPerAddress + 1) log.warn({ event: 'notification.refused_rate_limited', sourceIp }, 'refused deposit notifications rate-limited');
      const seconds = Math.max(1, Math.ceil(resetMs / 1000));
      res.setHeader('Retry-After', String(seconds));
      res.setHeader('Connection', 'close');
      return void fail(res, 429, `too many refused notifications from ${sourceIp}; try again in ${seconds} s`);
    }
    const body = await readBounded(req, NOTIFICATION_BODY_LIMIT_BYTES);
    const reason = `source address ${sourceIp} is not allowed`;
    const traced = (await store.hit('noti:refused:traces', windowMs)).count <= TRACES_PER_WINDOW;
    if (traced) await recordRefusal(db, { sourceIp, size: body.size, prefix: body.prefix, reason: body.complete ? reason : `${reason}; body over ${NOTIFICATION_BODY_LIMIT_BYTES} bytes` });
    log.warn({ event: 'notification.refused', sourceIp, size: body.size, traced }, 'deposit notification refused');
    if (!body.complete) {
      res.setHeader('Connection', 'close');
      return void fail(res, 413, `${reason}, and the body is over ${NOTIFICATION_BODY_LIMIT_BYTES} bytes`);
    }
    fail(res, 403, reason);
  };
}
