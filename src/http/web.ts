// Pages for people: the sandbox checkout page at / (sandbox mode only) and
// the API docs. Their CSP is helmet's without upgrade-insecure-requests, which
// would send a browser on http://localhost to https for every script.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, Router } from 'express';

export const pageCsp: RequestHandler = (_req, res, next) => {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; base-uri 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; object-src 'none'; form-action 'self'; frame-ancestors 'self'",
  );
  next();
};

/** public/, beside src/ and dist/ alike. */
const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');

export function checkoutPageRouter(): Router {
  const router = Router();
  router.use(pageCsp, express.static(PUBLIC_DIR, { index: 'index.html' }));
  return router;
}
