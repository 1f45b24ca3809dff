import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AuthService } from '../auth/auth-service.js';
import { parseBody } from './validate.js';

export const credentials = z.strictObject({
  email: z.email('must be an email address').max(254, 'must be at most 254 characters').transform((e) => e.toLowerCase()),
  password: z.string({ error: 'must be a string' }).min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters'),
});

/** `limitLogin` counts login attempts per account, on top of the per-address limit of all auth routes. */
export function authRouter(auth: AuthService, limitLogin: RequestHandler, json: RequestHandler): Router {
  const router = Router();
  router.post('/register', json, async (req, res) => {
    const { email, password } = parseBody(credentials, req);
    res.status(201).json({ success: true, data: await auth.register(email, password), message: 'Registered' });
  });
  router.post('/login', json, limitLogin, async (req, res) => {
    const { email, password } = parseBody(credentials, req);
    res.json({ success: true, data: await auth.login(email, password) });
  });
  return router;
}
