// HS256 access tokens with issuer, audience and expiry checked and the
// algorithm pinned, so `alg: none` or another algorithm is refused.
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../config.js';

export type JwtSettings = Config['jwt'];

// Given a string, jsonwebtoken first tries to parse it as a PEM public key on
// every call (the benchmark profile showed that as 13% of the server's CPU);
// a KeyObject made once says "HMAC secret" up front.
const secretKeys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) secretKeys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
}

export function issueAccessToken(userId: string, settings: JwtSettings): string {
  return jwt.sign({}, keyOf(settings.secret), {
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
    const claims = jwt.verify(token, keyOf(settings.secret), {
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
