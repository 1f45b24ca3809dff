// CORS for the configured browser origins only (CORS_ORIGINS). A request
// from another origin gets no CORS headers, so the browser keeps the answer
// from the page; its preflight is refused outright so the reason is visible.
import type { RequestHandler } from 'express';
import { errorBody } from './error-handler.js';

const ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key, X-Request-Id';
const EXPOSED_HEADERS = 'X-Request-Id, Idempotent-Replayed, Retry-After';

export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) return next();
    res.vary('Origin');
    const preflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    if (!allowed.has(origin)) {
      if (preflight) return void res.status(403).json(errorBody('CORS_ORIGIN_NOT_ALLOWED', `Origin ${origin.slice(0, 200)} may not call this API`));
      return next();
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (!preflight) return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
