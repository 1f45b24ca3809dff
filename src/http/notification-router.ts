// Danal's servers post virtual-account deposits here: no JWT; the source
// address is checked instead, by the gate, before the body is read
// (src/http/notification-gate.ts). From an allowed address the body is read
// as raw text so that every notification, even one we cannot parse, is
// stored as it arrived.
import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { DepositNotificationService } from '../payments/deposit-notification-service.js';
import { exceedsJsonDepth } from './json-body.js';
import { NOTIFICATION_BODY_LIMIT_BYTES } from './notification-gate.js';

/** JSON as in the seed collection, or a form post: Danal does not publish which it sends. */
function decode(raw: string, contentType: string | undefined): unknown {
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  // Too deep to walk safely (storing it as jsonb recurses per level): kept as text, like unreadable JSON.
  if (exceedsJsonDepth(raw)) return { unparsed: raw.slice(0, 4096) };
  try {
    return JSON.parse(raw);
  } catch {
    return { unparsed: raw.slice(0, 4096) };
  }
}

export function notificationRouter(notifications: DepositNotificationService, gate: RequestHandler): Router {
  const router = Router();
  // The seed's plain path, and the order's own notiUrl: the same path with the order's token after it.
  router.post(['/vaccount', '/vaccount/:token'], gate, express.text({ type: () => true, limit: NOTIFICATION_BODY_LIMIT_BYTES }), async (req, res) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const token = (req.params as { token?: string }).token;
    const reply = await notifications.handle(req.ip ?? '', decode(raw, req.get('content-type')), token);
    res.status(reply.httpStatus).json(reply.body);
  });
  // Danal is answered in its own shape, also when the body cannot be read (over the limit, cut off).
  router.use(((error, _req, res, next) => {
    const status = Number((error as { status?: unknown })?.status);
    if (!(status >= 400 && status < 500)) return next(error);
    const message = status === 413 ? `the body is over ${NOTIFICATION_BODY_LIMIT_BYTES} bytes` : 'the body could not be read';
    res.status(status).json({ code: 'FAIL', message });
  }) as ErrorRequestHandler);
  return router;
}
