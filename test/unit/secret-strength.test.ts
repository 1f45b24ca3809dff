import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { weakSecretReason } from '../../src/lib/secret-strength.js';

/** Every value the documents show for a secret: anyone can read them, so live mode must refuse them. */
function documentedSecrets(): string[] {
  const text = ['README.md', '.env.example'].map((f) => readFileSync(f, 'utf8')).join('\n');
  const values = [...text.matchAll(/\b(?:JWT_SECRET|ADMIN_API_KEYS)=([^\s`'"]+)/g), ...text.matchAll(/Authorization: Basic ([^\s`'"]+)/g)].map((m) => m[1]!);
  // Commands that make a value (`$(openssl rand …)`) and shell variables are not values.
  return values.filter((v) => !v.startsWith('$') && !v.startsWith('<'));
}

describe('secret strength', () => {
  it('refuses every secret the README and .env.example show', () => {
    const shown = documentedSecrets();
    expect(shown.length).toBeGreaterThan(0);
    for (const value of shown) {
      for (const key of value.split(',')) expect(weakSecretReason(key), key).toBeDefined();
    }
  });

  it('accepts what `openssl rand -base64 48` and `-hex 32` make', () => {
    for (let i = 0; i < 200; i++) {
      expect(weakSecretReason(randomBytes(48).toString('base64'))).toBeUndefined();
      expect(weakSecretReason(randomBytes(32).toString('hex'))).toBeUndefined();
    }
  });
});
