// JSON request bodies: size-capped, and refused when nested deeper than
// MAX_JSON_DEPTH before anything walks them. JSON.parse copes with thousands
// of levels, but what comes after it (the Idempotency-Key hash, zod, storing
// a notification as jsonb) recurses once per level and overflows the stack.
import express, { type RequestHandler } from 'express';

export const MAX_JSON_DEPTH = 32;

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when the JSON text opens more than `max` arrays or objects inside one
 * another. One pass, no recursion; brackets inside strings do not count. It
 * reads code units, so it works on UTF-8 bytes and on decoded text alike.
 */
export function exceedsJsonDepth(text: string | Uint8Array, max = MAX_JSON_DEPTH): boolean {
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** The error the handler answers 400 JSON_TOO_DEEP (src/http/error-handler.ts). */
export class JsonTooDeepError extends Error {
  readonly type = 'entity.too.deep';
  readonly status = 400;
  constructor() {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

function decode(body: Buffer, encoding: string): string {
  try {
    return new TextDecoder(encoding).decode(body);
  } catch {
    throw Object.assign(new Error(`charset ${encoding} is not supported`), { type: 'charset.unsupported', status: 415 });
  }
}

/** express.json with the depth check run on the raw body, before it is parsed. */
export function jsonBody(limit: string): RequestHandler {
  return express.json({
    limit,
    verify: (_req, _res, body, encoding) => {
      // body-parser accepts utf-8, utf-16 and utf-32; only the first is bytes we can scan as they are.
      const text = encoding === 'utf-8' || encoding === 'utf8' ? body : decode(body, encoding);
      if (exceedsJsonDepth(text)) throw new JsonTooDeepError();
    },
  });
}
