// The invariants money depends on, checked over the whole database in one
// snapshot (REPEATABLE READ): wallets against their ledger, orders against
// their ledger rows, and, where the sandbox plays Danal, orders against what
// Danal recorded. Each finding names the row and what is wrong with it.
import type pg from 'pg';

export interface AuditResult {
  /** How many rows each check looked at. */
  checked: Record<string, number>;
  discrepancies: string[];
}

interface Check {
  name: string;
  /** Rows the check covers. */
  count: string;
  /** One row per discrepancy, with a `problem` column. */
  problems: string;
}

// Statuses in which the order's points were credited and not yet refunded.
const CREDITED = `('Paid', 'Canceling', 'CancelUnknown')`;

const CHECKS: Check[] = [
  {
    name: 'wallets',
    count: 'SELECT count(*) FROM wallets',
    problems: `
      SELECT format('wallet %s: balance %s but its ledger sums to %s', w.user_id, w.balance, COALESCE(l.total, 0)) AS problem
      FROM wallets w LEFT JOIN (SELECT user_id, SUM(amount) AS total FROM ledger_entries GROUP BY user_id) l USING (user_id)
      WHERE w.balance <> COALESCE(l.total, 0)
      UNION ALL
      SELECT format('wallet %s: balance %s, held %s (negative, or more held than owned)', user_id, balance, held_points)
      FROM wallets WHERE balance < 0 OR held_points < 0 OR held_points > balance
      UNION ALL
      SELECT format('wallet %s: holds %s points but its orders being canceled hold %s', w.user_id, w.held_points, COALESCE(h.held, 0))
      FROM wallets w LEFT JOIN (
        SELECT user_id, SUM(point_amount) AS held FROM payment_orders WHERE status IN ('Canceling', 'CancelUnknown') GROUP BY user_id
      ) h USING (user_id)
      WHERE w.held_points <> COALESCE(h.held, 0)`,
  },
  {
    name: 'ledger rows',
    count: 'SELECT count(*) FROM ledger_entries',
    problems: `
      SELECT format('ledger row %s of order %s belongs to user %s, the order to user %s', l.id, l.order_id, l.user_id, o.user_id) AS problem
      FROM ledger_entries l JOIN payment_orders o ON o.id = l.order_id WHERE l.user_id <> o.user_id`,
  },
  {
    name: 'orders',
    count: 'SELECT count(*) FROM payment_orders',
    problems: `
      WITH rows AS (
        SELECT o.id, o.status, o.point_amount,
          count(l.id) FILTER (WHERE l.type = 'CHARGE') AS charges,
          COALESCE(SUM(l.amount) FILTER (WHERE l.type = 'CHARGE'), 0) AS charged,
          count(l.id) FILTER (WHERE l.type = 'CANCEL') AS cancels,
          COALESCE(SUM(l.amount) FILTER (WHERE l.type = 'CANCEL'), 0) AS refunded,
          count(l.id) FILTER (WHERE l.type NOT IN ('CHARGE', 'CANCEL')) AS others
        FROM payment_orders o LEFT JOIN ledger_entries l ON l.order_id = o.id
        GROUP BY o.id
      )
      SELECT format('order %s (%s, %s points): %s CHARGE row(s) of %s, %s CANCEL row(s) of %s, %s other row(s)',
                    id, status, point_amount, charges, charged, cancels, refunded, others) AS problem
      FROM rows
      WHERE NOT CASE
        WHEN status IN ${CREDITED} THEN charges = 1 AND charged = point_amount AND cancels = 0 AND others = 0
        WHEN status = 'Canceled' THEN charges = 1 AND charged = point_amount AND cancels = 1 AND refunded = -point_amount AND others = 0
        ELSE charges = 0 AND cancels = 0 AND others = 0
      END`,
  },
  {
    name: 'orders against what was recorded from Danal',
    count: 'SELECT count(*) FROM payment_orders',
    problems: `
      SELECT format('order %s is %s without Danal transaction id or approval time', id, status) AS problem
      FROM payment_orders
      WHERE status IN ('WaitingForDeposit', ${CREDITED.slice(1, -1)}, 'Canceled') AND (danal_transaction_id IS NULL OR approved_at IS NULL)
      UNION ALL
      SELECT format('order %s is Canceled without Danal cancel transaction id or cancel time', id)
      FROM payment_orders o WHERE status = 'Canceled' AND (canceled_at IS NULL OR (danal_cancel_transaction_id IS NULL
        -- A repeated cancel that Danal answered "already canceled" gets no cancel id back.
        AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.type = 'reconcile.already_canceled')))`,
  },
  {
    name: 'deposit notifications',
    count: 'SELECT count(*) FROM deposit_notifications',
    problems: `
      SELECT format('order %s was credited by %s deposit notifications', order_id, count(*)) AS problem
      FROM deposit_notifications WHERE outcome = 'CREDITED' GROUP BY order_id HAVING count(*) > 1
      UNION ALL
      SELECT format('deposit notification %s credited order %s, which is %s', n.id, n.order_id, o.status)
      FROM deposit_notifications n JOIN payment_orders o ON o.id = n.order_id
      WHERE n.outcome = 'CREDITED' AND o.status NOT IN ${CREDITED.replace(')', ", 'Canceled')")}`,
  },
];

// Only where the sandbox plays Danal can Danal's side be read.
const SANDBOX_CHECK: Check = {
  name: 'orders against the Danal sandbox',
  count: 'SELECT count(*) FROM payment_orders WHERE danal_transaction_id IS NOT NULL',
  problems: `
    SELECT format('order %s is %s but Danal has %s', o.id, o.status,
                  COALESCE(format('%s, approved %s, canceled %s', t.status, t.approved_amount, t.canceled_amount), 'no such transaction')) AS problem
    FROM payment_orders o LEFT JOIN danal_sandbox.transactions t ON t.transaction_id = o.danal_transaction_id
    WHERE o.danal_transaction_id IS NOT NULL AND NOT CASE
      WHEN o.status = 'Paid' THEN t.status IN ('APPROVED', 'DEPOSITED') AND t.approved_amount = o.amount AND t.canceled_amount = 0
      WHEN o.status = 'WaitingForDeposit' THEN t.status = 'ISSUED'
      WHEN o.status = 'Canceled' THEN t.status = 'CANCELED' AND t.canceled_amount = t.approved_amount
      WHEN o.status = 'Failed' THEN t.status IS NULL OR t.status IN ('AUTHENTICATED', 'CANCELED') OR t.canceled_amount = t.approved_amount
      ELSE true -- Pending, Confirming, Canceling and the unknown states: Danal's side is what the reconciler resolves
    END`,
};

/**
 * `compareWithSandbox: false` leaves out the sandbox comparison, for tests that
 * play Danal by hand (a notification posted straight to the service).
 */
export async function auditLedger(client: pg.ClientBase, options: { compareWithSandbox?: boolean } = {}): Promise<AuditResult> {
  const result: AuditResult = { checked: {}, discrepancies: [] };
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const sandbox = await client.query(`SELECT to_regclass('danal_sandbox.transactions') IS NOT NULL AS present`);
    const checks = sandbox.rows[0].present && options.compareWithSandbox !== false ? [...CHECKS, SANDBOX_CHECK] : CHECKS;
    for (const check of checks) {
      result.checked[check.name] = Number((await client.query(check.count)).rows[0].count);
      const { rows } = await client.query<{ problem: string }>(check.problems);
      result.discrepancies.push(...rows.map((r) => r.problem));
    }
  } finally {
    await client.query('COMMIT');
  }
  return result;
}
