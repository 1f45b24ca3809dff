// Opaque keyset-pagination cursors: the position of the last row a page
// showed, as base64url JSON. Clients pass them back untouched; anything that
// does not decode to the expected shape is a 400, never a query.
import { z } from 'zod';
import { AppError } from './errors.js';

export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(cursor: string, shape: S): z.infer<S> {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // not base64url JSON: the same answer as a wrong shape
  }
  throw new AppError(400, 'INVALID_CURSOR', 'cursor is not one this API gave out; pass nextCursor from the previous page unchanged', [
    { field: 'cursor', message: 'is not a cursor from this API' },
  ]);
}
