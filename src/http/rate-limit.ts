// Rate limits on the auth and money endpoints: each rule counts requests per
// key (the client's address, the user, the email being logged in to) in a
// fixed window and answers 429 with Retry-After once the limit is passed.
import type { Request, RequestHandler } from 'express';
import { AppError } from '../lib/errors.js';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.js';

export interface RateLimitRule {
  /** Names the counter, e.g. "auth:address". */
  name: string;
  limit: number;
  windowMs: number;
  /** What is counted; undefined skips the rule for this request. */
  keyOf: (req: Request) => string | undefined;
}

/**
 * Rules are applied in order, and a request refused by one is not counted by
 * the ones after it: a stranger refused by a tight per-(account, address) rule
 * adds nothing to the account's looser total, so cannot exhaust it alone.
 */
export function rateLimit(store: RateLimitStore, ...rules: RateLimitRule[]): RequestHandler {
  return async (req, res, next) => {
    for (const rule of rules) {
      const key = rule.keyOf(req);
      if (key === undefined) continue;
      const { count, resetMs } = await store.hit(`${rule.name}:${key}`, rule.windowMs);
      if (count > rule.limit) {
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(resetMs / 1000))));
        throw new AppError(429, 'RATE_LIMITED', `Too many requests; try again in ${Math.max(1, Math.ceil(resetMs / 1000))} s`);
      }
    }
    next();
  };
}

export const byAddress = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';
export const byUser = (req: Request) => req.userId;
/** Login attempts per account, whatever address they come from (case as the account is stored). */
export const byLoginEmail = (req: Request) => {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase().slice(0, 320) : undefined;
};
/** Login attempts per account from one address. */
export const byLoginEmailAndAddress = (req: Request) => {
  const email = byLoginEmail(req);
  return email === undefined ? undefined : `${email}|${byAddress(req)}`;
};
