// The SQL one charge flow really sends, read from PostgreSQL's own statement
// log (log_statement=all for the capture run only), and turned into a pgbench
// script that repeats it with fresh ids for every pgbench transaction.

export interface CapturedStatement {
  /** The statement text as the server received it ($n placeholders kept). */
  sql: string;
  /** Parameter values in order ($1 first); null for SQL NULL. */
  params: (string | null)[];
  pid: number;
}

const ENTRY = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] (\w+):  ([\s\S]*)$/;
const PARAM = /\$(\d+) = (NULL|'(?:[^']|'')*')/g;

/** Splits PostgreSQL's stderr log into entries and keeps executed statements with their parameters. */
export function parseStatementLog(log: string): CapturedStatement[] {
  const entries: { pid: number; level: string; text: string }[] = [];
  for (const line of log.split('\n')) {
    const match = ENTRY.exec(line);
    if (match) entries.push({ pid: Number(match[1]), level: match[2]!, text: match[3]! });
    else if (entries.length) entries[entries.length - 1]!.text += `\n${line}`;
  }
  const statements: CapturedStatement[] = [];
  for (const entry of entries) {
    if (entry.level === 'LOG') {
      const executed = /^(?:statement|execute [^:]+): ([\s\S]*)$/.exec(entry.text);
      if (executed) statements.push({ sql: executed[1]!.trim(), params: [], pid: entry.pid });
    } else if (entry.level === 'DETAIL' && /^Parameters: /i.test(entry.text) && statements.length) {
      const last = statements[statements.length - 1]!;
      for (const [, index, value] of entry.text.matchAll(PARAM)) {
        last.params[Number(index) - 1] = value === 'NULL' ? null : value!.slice(1, -1).replace(/''/g, "'");
      }
    }
  }
  return statements;
}

/** A value of the captured flow that must be new in every pgbench transaction, and what stands for it. */
export interface Variable {
  value: string;
  expression: string;
}

/**
 * pgbench reads `:name` as a variable anywhere in SQL, so literals are written
 * as escape strings with ':' as \x3a.
 */
const literal = (value: string) => `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/:/g, '\\x3a')}'`;

function valueExpression(value: string | null, variables: Variable[]): string {
  if (value === null) return 'NULL';
  for (const variable of variables) {
    if (value === variable.value) return variable.expression;
  }
  for (const variable of variables) {
    if (value.includes(variable.value)) {
      const [before, ...after] = value.split(variable.value);
      return `(${literal(before!)} || ${variable.expression} || ${literal(after.join(variable.value))})`;
    }
  }
  return literal(value);
}

/** The statement with its parameters written in, ids replaced by per-transaction expressions. */
export function inlineStatement(statement: CapturedStatement, variables: Variable[]): string {
  const sql = statement.sql.replace(/\$(\d+)/g, (_m, index: string) => valueExpression(statement.params[Number(index) - 1] ?? null, variables));
  return `${sql.replace(/\s*\n\s*/g, ' ').replace(/;\s*$/, '')};`;
}

/**
 * A pgbench script: a per-client counter `k` (start it with `-D k=0`) makes
 * the ids of each transaction new; `run` (`-D run=N`) keeps runs apart.
 */
export function pgbenchScript(statements: CapturedStatement[], variables: Variable[]): string {
  return ['\\set k :k + 1', ...statements.map((s) => inlineStatement(s, variables))].join('\n') + '\n';
}
