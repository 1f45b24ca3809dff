// A page of orders for the user's history and the operators' lookup alike:
// keyset pagination with an opaque cursor, each order as a payment object.
import { z } from 'zod';
import type { Db } from '../db/prisma.js';
import { decodeCursor, encodeCursor } from '../lib/cursor.js';
import { listOrders, type Order, type OrderLookup } from './order-repository.js';
import { orderView } from './order-view.js';
import { completedCancels, type OrderCancel } from './cancel-repository.js';

const ORDER_CURSOR = z.strictObject({ t: z.iso.datetime(), id: z.string().max(64) });

export async function pageOfOrders<V = ReturnType<typeof orderView>>(
  db: Db,
  query: Omit<OrderLookup, 'after'> & { cursor?: string },
  view: (order: Order, cancels: OrderCancel[]) => V = orderView as (order: Order, cancels: OrderCancel[]) => V,
) {
  const position = query.cursor ? decodeCursor(query.cursor, ORDER_CURSOR) : undefined;
  const rows = await listOrders(db, {
    ...query,
    limit: query.limit + 1, // one more than shown says whether there is a next page
    after: position && { requestedAt: new Date(position.t), id: position.id },
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > query.limit && last ? encodeCursor({ t: last.requestedAt.toISOString(), id: last.id }) : null;
  const cancels = await completedCancels(db, page.filter((o) => o.canceledAmount > 0).map((o) => o.id));
  return { orders: page.map((order) => view(order, cancels.get(order.id) ?? [])), nextCursor };
}
