// Operators authenticate with an API key (ADMIN_API_KEYS), sent as HTTP
// Basic like the point3 seed: `Authorization: Basic <key>`, or the standard
// `Basic base64(<key>:)`. A user's JWT never opens the admin API.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../lib/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The keys a Basic credential may carry: the raw token, and the user part of base64(user:). */
function candidates(token: string): string[] {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : undefined;
  return user ? [token, user] : [token];
}

export function requireAdmin(keys: readonly string[]): RequestHandler {
  const known = keys.map(digest);
  return (req, _res, next) => {
    if (known.length === 0) throw new AppError(401, 'ADMIN_DISABLED', 'The admin API is not configured (set ADMIN_API_KEYS)');
    const match = /^Basic ([\x21-\x7e]{1,512})$/.exec(req.get('authorization') ?? '');
    if (!match) throw new AppError(401, 'ADMIN_UNAUTHORIZED', 'Send the admin API key as Authorization: Basic <key>');
    // Compared by digest: equal length for timingSafeEqual, and no early exit on the first differing byte.
    const given = candidates(match[1]!).map(digest);
    if (!given.some((g) => known.some((k) => timingSafeEqual(g, k)))) throw new AppError(401, 'ADMIN_UNAUTHORIZED', 'The admin API key is not valid');
    next();
  };
}
