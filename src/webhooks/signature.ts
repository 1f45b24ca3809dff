// Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256
// over "<webhook-id>.<webhook-timestamp>.<body>", base64, as "v1,<sig>"; with
// two secrets during a rotation, both signatures, space-separated.
import { createHmac } from 'node:crypto';

/** "whsec_<base64>" → the key bytes. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

export function sign(keys: readonly Buffer[], id: string, timestamp: number, body: string): string {
  return keys.map((key) => `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`).join(' ');
}
