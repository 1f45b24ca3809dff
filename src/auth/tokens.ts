// HS256 access tokens with issuer, audience and expiry checked and the
// algorithm pinned, so `alg: none` or another algorithm is refused.
import jwt from 'jsonwebtoken';
import type { Config } from '../config.js';

export type JwtSettings = Config['jwt'];

export function issueAccessToken(userId: string, settings: JwtSettings): string {
  return jwt.sign({}, settings.secret, {
    algorithm: 'HS256',
    subject: userId,
    issuer: settings.issuer,
    audience: settings.audience,
    expiresIn: settings.ttlSeconds,
  });
}

export type TokenCheck = { ok: true; userId: string } | { ok: false; code: 'TOKEN_EXPIRED' | 'INVALID_TOKEN' };

export function verifyAccessToken(token: string, settings: JwtSettings): TokenCheck {
  try {
    const claims = jwt.verify(token, settings.secret, {
      algorithms: ['HS256'],
      issuer: settings.issuer,
      audience: settings.audience,
    });
    if (typeof claims === 'string' || typeof claims.sub !== 'string' || !/^[0-9a-f-]{36}$/.test(claims.sub)) {
      return { ok: false, code: 'INVALID_TOKEN' };
    }
    return { ok: true, userId: claims.sub };
  } catch (error) {
    return { ok: false, code: error instanceof jwt.TokenExpiredError ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN' };
  }
}
