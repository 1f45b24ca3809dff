import type { RequestHandler } from 'express';
import { AppError } from '../lib/errors.js';
import { verifyAccessToken, type JwtSettings } from '../auth/tokens.js';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/;

export function requireAuth(jwt: JwtSettings): RequestHandler {
  return (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) return next(new AppError(401, 'UNAUTHORIZED', 'Send Authorization: Bearer <accessToken>'));
    const match = BEARER.exec(header);
    if (!match) return next(new AppError(401, 'INVALID_TOKEN', 'The Authorization header must be "Bearer <accessToken>"'));
    const check = verifyAccessToken(match[1]!, jwt);
    if (!check.ok) {
      const message = check.code === 'TOKEN_EXPIRED' ? 'The access token has expired; log in again' : 'The access token is not valid';
      return next(new AppError(401, check.code, message));
    }
    req.userId = check.userId;
    next();
  };
}
