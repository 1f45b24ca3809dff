// The append-only tables refuse to be emptied: TRUNCATE is refused by a
// statement-level trigger, as UPDATE and DELETE of a ledger row are by a row
// trigger. Checked in a rolled-back transaction on a database of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownDatabase, withClient } from '../helpers.js';

let database: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  database = await ownDatabase('appendonly');
});
afterAll(async () => {
  await database?.drop();
});

async function attempt(sql: string): Promise<string | undefined> {
  return withClient(async (c) => {
    await c.query('BEGIN');
    try {
      await c.query(sql);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await c.query('ROLLBACK');
    }
  }, database.url);
}

describe('append-only tables', () => {
  it.each(['ledger_entries', 'order_events', 'deposit_notifications', 'webhook_events', 'unsettled_deposits'])('refuse TRUNCATE of %s', async (table) => {
    expect(await attempt(`TRUNCATE ${table} CASCADE`)).toMatch(new RegExp(`${table} is append-only: TRUNCATE is not allowed`));
  });

  it('refuse TRUNCATE of the tables that point at them, when it would cascade into them', async () => {
    expect(await attempt('TRUNCATE payment_orders CASCADE')).toMatch(/append-only: TRUNCATE is not allowed/);
    expect(await attempt('TRUNCATE users CASCADE')).toMatch(/append-only: TRUNCATE is not allowed/);
  });
});
