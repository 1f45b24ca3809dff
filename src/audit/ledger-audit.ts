// The invariants money depends on, checked over the whole database in one
// snapshot (REPEATABLE READ): wallets against their ledger, orders against
// their ledger rows, and, where the sandbox plays Danal, orders against what
// Danal recorded. Each finding names the row and what is wrong with it. Money
// that arrived and waits for an operator is reported apart, as unsettled.
import type pg from 'pg';

export interface AuditResult {
  /** How many rows each check looked at. */
  checked: Record<string, number>;
  /** Data that contradicts itself or Danal: a bug, or damage. */
  discrepancies: string[];
  /** Money that is consistent but not settled: it waits for an operator. */
  unsettled: string[];
}

interface Check {
  name: string;
  /** Findings of an `unsettled` check are open money, not contradictions. */
  kind?: 'unsettled';
  /** Rows the check covers. */
  count: string;
  /** One row per discrepancy, with a `problem` column. */
  problems: string;
}

// Statuses in which the order's points were credited and not all refunded.
const CREDITED = `('Paid', 'PartialCanceled', 'Canceling', 'CancelUnknown')`;

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
      SELECT format('wallet %s: holds %s points but its cancels in flight hold %s', w.user_id, w.held_points, COALESCE(h.held, 0))
      FROM wallets w LEFT JOIN (
        SELECT o.user_id, SUM(c.point_amount) AS held FROM order_cancels c JOIN payment_orders o ON o.id = c.order_id
        WHERE c.status = 'Requested' GROUP BY o.user_id
      ) h USING (user_id)
      WHERE w.held_points <> COALESCE(h.held, 0)`,
  },
  {
    // Each row's balance_after is the row before it plus its own amount, from 0, ending at the
    // wallet's balance: a row rewritten or slipped in behind the service's back breaks the chain.
    name: 'ledger balance chains',
    count: 'SELECT count(*) FROM ledger_entries',
    problems: `
      WITH chain AS (
        SELECT id, user_id, amount, balance_after,
               COALESCE(lag(balance_after) OVER (PARTITION BY user_id ORDER BY id), 0) AS before,
               row_number() OVER (PARTITION BY user_id ORDER BY id DESC) AS from_end
        FROM ledger_entries
      )
      SELECT format('ledger row %s of user %s: balance_after %s, but the row before left %s and this one moves %s', id, user_id, balance_after, before, amount) AS problem
      FROM chain WHERE balance_after <> before + amount
      UNION ALL
      SELECT format('wallet %s: balance %s but its last ledger row (%s) left %s', w.user_id, w.balance, c.id, c.balance_after)
      FROM wallets w JOIN chain c ON c.user_id = w.user_id AND c.from_end = 1
      WHERE w.balance <> c.balance_after`,
  },
  {
    name: 'ledger rows',
    count: 'SELECT count(*) FROM ledger_entries',
    problems: `
      SELECT format('ledger row %s of order %s belongs to user %s, the order to user %s', l.id, l.order_id, l.user_id, o.user_id) AS problem
      FROM ledger_entries l JOIN payment_orders o ON o.id = l.order_id WHERE l.user_id <> o.user_id
      UNION ALL
      SELECT format('ledger row %s (%s points) belongs to user %s, who has no wallet', l.id, l.amount, l.user_id)
      FROM ledger_entries l WHERE NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = l.user_id)
      UNION ALL
      SELECT format('ledger row %s (%s points) refunds cancel #%s of order %s, which is %s', l.id, l.amount, l.cancel_seq, l.order_id,
                    COALESCE(format('%s, %s points', c.status, c.point_amount), 'missing'))
      FROM ledger_entries l LEFT JOIN order_cancels c ON c.order_id = l.order_id AND c.seq = l.cancel_seq
      WHERE l.type = 'CANCEL' AND (c.id IS NULL OR c.status <> 'Done' OR c.point_amount <> -l.amount)`,
  },
  {
    name: 'orders',
    count: 'SELECT count(*) FROM payment_orders',
    problems: `
      WITH rows AS (
        SELECT o.id, o.status, o.amount, o.point_amount, o.canceled_amount, o.canceled_points,
          count(l.id) FILTER (WHERE l.type = 'CHARGE') AS charges,
          COALESCE(SUM(l.amount) FILTER (WHERE l.type = 'CHARGE'), 0) AS charged,
          count(l.id) FILTER (WHERE l.type = 'CANCEL') AS cancels,
          COALESCE(SUM(l.amount) FILTER (WHERE l.type = 'CANCEL'), 0) AS refunded,
          count(l.id) FILTER (WHERE l.type NOT IN ('CHARGE', 'CANCEL')) AS others
        FROM payment_orders o LEFT JOIN ledger_entries l ON l.order_id = o.id
        GROUP BY o.id
      ), cancels AS (
        SELECT order_id,
          count(*) FILTER (WHERE status = 'Done') AS done,
          COALESCE(SUM(amount) FILTER (WHERE status = 'Done'), 0) AS done_amount,
          COALESCE(SUM(point_amount) FILTER (WHERE status = 'Done'), 0) AS done_points,
          count(*) FILTER (WHERE status = 'Requested') AS in_flight
        FROM order_cancels GROUP BY order_id
      )
      SELECT format('order %s (%s, %s KRW, %s points, canceled %s KRW %s points): %s CHARGE row(s) of %s, %s CANCEL row(s) of %s, '
                    || '%s other row(s); %s completed cancel(s) of %s KRW %s points, %s in flight',
                    id, status, amount, point_amount, canceled_amount, canceled_points, charges, charged, cancels, refunded, others,
                    COALESCE(done, 0), COALESCE(done_amount, 0), COALESCE(done_points, 0), COALESCE(in_flight, 0)) AS problem
      FROM rows LEFT JOIN cancels ON cancels.order_id = rows.id
      WHERE NOT CASE
        WHEN status IN ${CREDITED.replace(')', ", 'Canceled')")} THEN
          charges = 1 AND charged = point_amount AND others = 0
          AND cancels = COALESCE(done, 0) AND refunded = -COALESCE(done_points, 0)
          AND canceled_amount = COALESCE(done_amount, 0) AND canceled_points = COALESCE(done_points, 0)
          AND COALESCE(in_flight, 0) = CASE WHEN status IN ('Canceling', 'CancelUnknown') THEN 1 ELSE 0 END
          AND (status <> 'Canceled' OR (canceled_amount = amount AND canceled_points = point_amount))
        ELSE charges = 0 AND cancels = 0 AND others = 0 AND COALESCE(done, 0) = 0 AND COALESCE(in_flight, 0) = 0
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
      SELECT format('cancel #%s of order %s is done without Danal cancel transaction id', c.seq, c.order_id)
      FROM order_cancels c WHERE c.status = 'Done' AND c.danal_cancel_transaction_id IS NULL
        -- A repeated cancel that Danal answered "already canceled" gets no cancel id back, nor
        -- does one an operator found refunded in Danal's console. (Events from before partial
        -- cancels existed name no cancel: the order had only one.)
        AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = c.order_id
                        AND e.type IN ('reconcile.already_canceled', 'reconcile.operator_refunded')
                        AND COALESCE((e.detail->>'cancelSeq')::int, 1) = c.seq)`,
  },
  {
    name: 'deposit notifications',
    count: 'SELECT count(*) FROM deposit_notifications',
    problems: `
      SELECT format('order %s was credited by %s deposits', order_id, count(*)) AS problem
      FROM (SELECT order_id FROM deposit_notifications WHERE outcome = 'CREDITED'
            UNION ALL SELECT order_id FROM unsettled_deposits WHERE status = 'Credited') credits
      GROUP BY order_id HAVING count(*) > 1
      UNION ALL
      SELECT format('deposit notification %s credited order %s, which is %s', n.id, n.order_id, o.status)
      FROM deposit_notifications n JOIN payment_orders o ON o.id = n.order_id
      WHERE n.outcome = 'CREDITED' AND o.status NOT IN ${CREDITED.replace(')', ", 'Canceled')")}`,
  },
  {
    // Money Danal says arrived and nobody has credited or returned yet: unsettled until an operator acts.
    name: 'held deposits',
    kind: 'unsettled',
    count: 'SELECT count(*) FROM unsettled_deposits',
    problems: `
      SELECT format('deposit %s of %s KRW for order %s (Danal transaction %s, received %s) waits for an operator: %s',
                    id, amount, order_id, transaction_id, created_at, reason) AS problem
      FROM unsettled_deposits WHERE status = 'Open'`,
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
      WHEN o.status IN ('Paid', 'PartialCanceled') THEN t.status IN ('APPROVED', 'DEPOSITED') AND t.approved_amount = o.amount
                                                      AND t.canceled_amount = o.canceled_amount
      WHEN o.status = 'WaitingForDeposit' THEN t.status = 'ISSUED'
      WHEN o.status = 'Canceled' THEN t.status = 'CANCELED' AND t.canceled_amount = t.approved_amount
      WHEN o.status = 'Confirming' THEN t.order_id = o.id -- a confirm in flight: Danal may approve any moment, but only this order's transaction
      ELSE true -- Pending, Expired, Failed: below, by order; Canceling and the unknown states: what the reconciler resolves
    END`,
};

// Orders that hold no money: Danal must hold none for them either, in any transaction of the order
// (a buyer may have opened the window twice). A deposit held for an operator is counted above.
const SANDBOX_UNPAID_CHECK: Check = {
  name: 'unpaid orders against the Danal sandbox',
  count: `SELECT count(*) FROM payment_orders WHERE status IN ('Pending', 'Expired', 'Failed')`,
  problems: `
    SELECT format('order %s is %s but Danal has transaction %s %s, approved %s, canceled %s', o.id, o.status, t.transaction_id, t.status,
                  t.approved_amount, t.canceled_amount) AS problem
    FROM payment_orders o JOIN danal_sandbox.transactions t ON t.order_id = o.id
    WHERE o.status IN ('Pending', 'Expired', 'Failed') AND t.canceled_amount < COALESCE(t.approved_amount, 0)
      AND CASE o.status
        WHEN 'Pending' THEN t.status <> 'AUTHENTICATED'
        -- an account that closed unpaid is no money; a deposit into it is
        ELSE t.status IN ('APPROVED', 'DEPOSITED') OR (o.status = 'Failed' AND t.status = 'ISSUED')
      END
      AND NOT EXISTS (SELECT 1 FROM unsettled_deposits d WHERE d.order_id = o.id)`,
};

/**
 * `compareWithSandbox: false` leaves out the sandbox comparison, for tests that
 * play Danal by hand (a notification posted straight to the service).
 */
export async function auditLedger(client: pg.ClientBase, options: { compareWithSandbox?: boolean } = {}): Promise<AuditResult> {
  const result: AuditResult = { checked: {}, discrepancies: [], unsettled: [] };
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const sandbox = await client.query(`SELECT to_regclass('danal_sandbox.transactions') IS NOT NULL AS present`);
    const checks = sandbox.rows[0].present && options.compareWithSandbox !== false ? [...CHECKS, SANDBOX_CHECK, SANDBOX_UNPAID_CHECK] : CHECKS;
    for (const check of checks) {
      result.checked[check.name] = Number((await client.query(check.count)).rows[0].count);
      const { rows } = await client.query<{ problem: string }>(check.problems);
      (check.kind === 'unsettled' ? result.unsettled : result.discrepancies).push(...rows.map((r) => r.problem));
    }
  } finally {
    await client.query('COMMIT');
  }
  return result;
}
