// The Danal sandbox's own records, in schema danal_sandbox of the same
// PostgreSQL, apart from the service's tables: every process that serves the
// sandbox sees the same state, and a restart forgets nothing.
import pg from 'pg';
import { guardPool } from '../db/prisma.js';

export interface SandboxTransaction {
  transaction_id: string;
  order_id: string;
  amount: number;
  method: string;
  noti_url: string | null;
  status: 'AUTHENTICATED' | 'APPROVED' | 'ISSUED' | 'DEPOSITED' | 'CANCELED';
  approved_amount: number | null;
  canceled_amount: number;
  bank_code: string | null;
  bank_name: string | null;
  account_number: string | null;
  account_holder: string | null;
  due_at: Date | null;
  /** The deposit deadline the buyer's window asked for (expireDate/expireTime); the account gets it at confirm. */
  requested_due_at: Date | null;
  approved_at: Date | null;
  created_at: Date;
}

export interface SandboxFault {
  id: number;
  operation: 'confirm' | 'cancel';
  kind: 'timeout' | 'cutoff' | 'error' | 'server_error' | 'different_amount';
  order_id: string | null;
  error_code: string | null;
  error_message: string | null;
  delay_ms: number | null;
  amount: number | null;
}

const SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS danal_sandbox;
CREATE TABLE IF NOT EXISTS danal_sandbox.transactions (
  transaction_id  text PRIMARY KEY,
  order_id        text NOT NULL,
  amount          bigint NOT NULL CHECK (amount > 0),
  method          text NOT NULL,
  noti_url        text,
  status          text NOT NULL,
  approved_amount bigint,
  canceled_amount bigint NOT NULL DEFAULT 0 CHECK (canceled_amount >= 0),
  bank_code       text,
  bank_name       text,
  account_number  text,
  account_holder  text,
  due_at          timestamptz,
  approved_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (approved_amount IS NULL OR canceled_amount <= approved_amount)
);
ALTER TABLE danal_sandbox.transactions ADD COLUMN IF NOT EXISTS requested_due_at timestamptz;
CREATE INDEX IF NOT EXISTS transactions_order_idx ON danal_sandbox.transactions (order_id);
CREATE TABLE IF NOT EXISTS danal_sandbox.cancels (
  cancel_transaction_id text PRIMARY KEY,
  transaction_id        text NOT NULL REFERENCES danal_sandbox.transactions,
  amount                bigint NOT NULL CHECK (amount > 0),
  cancel_type           text NOT NULL,
  reason                text,
  created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS danal_sandbox.faults (
  id            serial PRIMARY KEY,
  operation     text NOT NULL,
  kind          text NOT NULL,
  order_id      text,
  error_code    text,
  error_message text,
  delay_ms      integer,
  amount        bigint,
  created_at    timestamptz NOT NULL DEFAULT now(),
  used_at       timestamptz
);
`;

// Parse bigint columns as numbers: sandbox amounts are far below 2^53.
const types = {
  getTypeParser: (oid: number, format?: string) =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
};

export class SandboxStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 5, types });
    guardPool(this.pool); // a dropped connection fails its query, never the process
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      // Several processes may start at once: create the schema under a lock.
      await client.query("SELECT pg_advisory_lock(hashtext('danal_sandbox_schema'))");
      await client.query(SCHEMA_SQL);
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext('danal_sandbox_schema'))").catch(() => {});
      client.release();
    }
  }

  close = () => this.pool.end();

  async insertTransaction(t: { transactionId: string; orderId: string; amount: number; method: string; notiUrl: string | null; dueAt?: Date | null }) {
    await this.pool.query(
      `INSERT INTO danal_sandbox.transactions (transaction_id, order_id, amount, method, noti_url, status, requested_due_at)
       VALUES ($1, $2, $3, $4, $5, 'AUTHENTICATED', $6)`,
      [t.transactionId, t.orderId, t.amount, t.method, t.notiUrl, t.dueAt ?? null],
    );
  }

  async getTransaction(transactionId: string): Promise<SandboxTransaction | undefined> {
    const { rows } = await this.pool.query('SELECT * FROM danal_sandbox.transactions WHERE transaction_id = $1', [transactionId]);
    return rows[0];
  }

  async cancelsOf(transactionId: string) {
    const { rows } = await this.pool.query(
      'SELECT cancel_transaction_id, amount, cancel_type, reason, created_at FROM danal_sandbox.cancels WHERE transaction_id = $1 ORDER BY created_at',
      [transactionId],
    );
    return rows as { cancel_transaction_id: string; amount: number; cancel_type: string; reason: string | null; created_at: Date }[];
  }

  /** Runs `work` with the transaction row locked, in one database transaction. */
  async withTransactionLocked<T>(transactionId: string, work: (t: SandboxTransaction | undefined, q: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query('SELECT * FROM danal_sandbox.transactions WHERE transaction_id = $1 FOR UPDATE', [transactionId]);
      const result = await work(rows[0], client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async addFault(f: Omit<SandboxFault, 'id'>): Promise<number> {
    const { rows } = await this.pool.query(
      `INSERT INTO danal_sandbox.faults (operation, kind, order_id, error_code, error_message, delay_ms, amount)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [f.operation, f.kind, f.order_id, f.error_code, f.error_message, f.delay_ms, f.amount],
    );
    return rows[0].id;
  }

  /** Takes the oldest unused fault for this call (one for the order, or one for any order). */
  async takeFault(operation: 'confirm' | 'cancel', orderId: string): Promise<SandboxFault | undefined> {
    const { rows } = await this.pool.query(
      `UPDATE danal_sandbox.faults SET used_at = now()
       WHERE id = (SELECT id FROM danal_sandbox.faults
                   WHERE used_at IS NULL AND operation = $1 AND (order_id IS NULL OR order_id = $2)
                   ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [operation, orderId],
    );
    return rows[0];
  }
}
