// The query of an order list, for the user's history and the operators' lookup.
import { z } from 'zod';
import { OrderStatus } from '../generated/prisma/enums.js';
import { pageCursor, pageLimit } from './validate.js';

const STATUSES = Object.values(OrderStatus) as OrderStatus[];
const dateTime = (example: string) =>
  z.iso
    .datetime({ offset: true, error: `must be an ISO 8601 date-time, e.g. ${example}` })
    .transform((s) => new Date(s))
    .optional();

export const orderListFields = {
  status: z
    .string()
    .transform((s) => s.split(',').map((p) => p.trim()))
    .pipe(z.array(z.enum(STATUSES, { error: `must be one or more of ${STATUSES.join(', ')}, comma-separated` })))
    .optional(),
  from: dateTime('2026-11-01T00:00:00+09:00'),
  to: dateTime('2026-12-01T00:00:00+09:00'),
  limit: pageLimit,
  cursor: pageCursor,
};

const fromNotAfterTo = (q: { from?: Date; to?: Date }) => !q.from || !q.to || q.from <= q.to;

export const listOrdersQuery = z.strictObject(orderListFields).refine(fromNotAfterTo, { path: ['from'], message: 'must not be after to' });

export const adminOrdersQuery = z
  .strictObject({
    ...orderListFields,
    orderID: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'must be 6-64 letters, digits, _ or -').optional(),
    transactionID: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters').optional(),
    userId: z.uuid('must be a user id (UUID)').optional(),
  })
  .refine(fromNotAfterTo, { path: ['from'], message: 'must not be after to' });
