// `--rows N`: N existing paid orders with their CHARGE ledger rows, spread
// over many users, written with set-based SQL so a million rows take seconds.
// Wallets equal the sum of their ledger, as the service would have left them.
import pg from 'pg';
import { receiptSplit } from '../src/payments/order-policy.js';

const ORDERS_PER_USER = 20;
const AMOUNT = 10_000;

export async function fillExistingOrders(client: pg.Client, rows: number): Promise<{ users: number; orders: number; seconds: number }> {
  const started = Date.now();
  const users = Math.max(1, Math.ceil(rows / ORDERS_PER_USER));
  const { vat, suppliedAmount } = receiptSplit(AMOUNT);
  const userId = (n: string) => `md5('bench-fill-' || ${n})::uuid`;
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO users (id, email, password_hash, password_salt, created_at)
     SELECT ${userId('u')}, 'fill-' || u || '@bench.invalid', 'x', 'x', now() - interval '400 days'
     FROM generate_series(1, $1) u`,
    [users],
  );
  // Order g belongs to user g % users; it is that user's k-th order, k = (g - 1) / users + 1.
  await client.query(
    `INSERT INTO payment_orders (id, user_id, order_name, amount, point_amount, tax_free_amount, vat, supplied_amount,
        payment_method, status, danal_transaction_id, danal_method, requested_at, expires_at, approved_at, updated_at)
     SELECT 'ORDFILL' || lpad(g::text, 12, '0'), ${userId('(g % $2 + 1)')}, 'DPOT 포인트 충전', $3, $3, 0, $4, $5,
        'Card', 'Paid', 'TXFILL' || lpad(g::text, 12, '0'), 'CARD',
        t, t + interval '30 minutes', t + interval '1 minute', t + interval '1 minute'
     FROM generate_series(1, $1) g, LATERAL (SELECT now() - interval '365 days' + g * interval '30 seconds' AS t) at`,
    [rows, users, AMOUNT, vat, suppliedAmount],
  );
  await client.query(
    `INSERT INTO ledger_entries (user_id, order_id, type, amount, balance_after, created_at)
     SELECT ${userId('(g % $2 + 1)')}, 'ORDFILL' || lpad(g::text, 12, '0'), 'CHARGE', $3, $3 * ((g - 1) / $2 + 1),
        now() - interval '365 days' + g * interval '30 seconds'
     FROM generate_series(1, $1) g ORDER BY g`,
    [rows, users, AMOUNT],
  );
  await client.query(
    `INSERT INTO wallets (user_id, balance, updated_at)
     SELECT user_id, SUM(amount), max(created_at) FROM ledger_entries WHERE order_id LIKE 'ORDFILL%' GROUP BY user_id`,
  );
  await client.query('COMMIT');
  await client.query('VACUUM ANALYZE');
  return { users, orders: rows, seconds: Math.round((Date.now() - started) / 100) / 10 };
}
