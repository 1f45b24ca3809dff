import type { Db } from '../db/prisma.js';
import { isUniqueViolation } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import { AppError, conflict } from '../lib/errors.js';
import { DUMMY_CREDENTIALS, hashPassword, verifyPassword } from './passwords.js';
import { issueAccessToken, type JwtSettings } from './tokens.js';

export function createAuthService(deps: { db: Db; jwt: JwtSettings; log: Logger }) {
  const { db, log } = deps;

  /** A user and their empty wallet, together. */
  async function register(email: string, password: string) {
    const { hash, salt } = await hashPassword(password);
    try {
      const user = await db.user.create({
        data: { email, passwordHash: hash, passwordSalt: salt, wallet: { create: {} } },
      });
      log.info({ event: 'user.registered', userId: user.id }, 'user registered');
      return { userId: user.id, email: user.email };
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('EMAIL_TAKEN', 'An account with this email already exists');
      throw error;
    }
  }

  async function login(email: string, password: string) {
    const user = await db.user.findUnique({ where: { email } });
    const stored = user ? { hash: user.passwordHash, salt: user.passwordSalt } : DUMMY_CREDENTIALS;
    const valid = await verifyPassword(password, stored);
    if (!user || !valid) throw new AppError(401, 'INVALID_CREDENTIALS', 'Email or password is wrong');
    return { accessToken: issueAccessToken(user.id, deps.jwt), tokenType: 'Bearer' as const, expiresIn: deps.jwt.ttlSeconds };
  }

  return { register, login };
}

export type AuthService = ReturnType<typeof createAuthService>;
