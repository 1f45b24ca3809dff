import type { Request } from 'express';
import { z } from 'zod';
import { AppError, type ErrorDetail } from '../lib/errors.js';

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), input);
}

function describe(issue: z.core.$ZodIssue, input: unknown): { field: string; message: string }[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'is not an accepted field' }));
  }
  const field = issue.path.join('.') || 'body';
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) return [{ field, message: 'is required' }];
  return [{ field, message: issue.message }];
}

/**
 * A body of thousands of unknown keys must not become an answer of thousands of
 * details (and a stored Idempotency-Key answer as large): the first ones, then a count.
 */
export const MAX_DETAILS = 20;

function capped(details: ErrorDetail[]): ErrorDetail[] {
  if (details.length <= MAX_DETAILS) return details;
  const more = details.length - MAX_DETAILS;
  return [...details.slice(0, MAX_DETAILS), { field: '(more)', message: `${more} more problems not listed` }];
}

/** Parses with the route's schema; a failure is a 400 naming the bad fields (the first MAX_DETAILS). */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  if (what === 'body' && (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new AppError(400, 'VALIDATION_FAILED', 'The request body must be a JSON object', [{ field: 'body', message: 'must be a JSON object' }]);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = capped(result.error.issues.flatMap((issue) => describe(issue, value)));
  const summary = details.map((d) => `${d.field} ${d.message}`).join('; ');
  throw new AppError(400, 'VALIDATION_FAILED', `Invalid ${what}: ${summary}`, details);
}

export const parseBody = <S extends z.ZodType>(schema: S, req: Request) => parse(schema, req.body);

/** Free text a person typed: no control characters (PostgreSQL text cannot even store NUL). */
export const plainText = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

/** Money in requests: an integer, never a float or a string. */
export const krw = z.number({ error: 'must be a number' }).int('must be a whole number of KRW').positive('must be greater than 0').max(1_000_000_000, 'is too large');

/** ?limit= of a paged list: 1-100, 20 when absent. */
export const pageLimit = z.coerce
  .number({ error: 'must be a whole number from 1 to 100' })
  .int('must be a whole number from 1 to 100')
  .min(1, 'must be a whole number from 1 to 100')
  .max(100, 'must be a whole number from 1 to 100')
  .default(20);

/** ?cursor= of a paged list: nextCursor of the previous page, passed back unchanged. */
export const pageCursor = z.string().min(1).max(512, 'is not a cursor from this API').optional();
