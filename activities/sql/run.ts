// Sending a dialect's statements over a connection. Results carry the redacted text only.
import type { PoolConnection } from 'mysql2/promise';
import type { Probe, Row, Statement } from '../../domain/dialects';

export async function execute(
  c: PoolConnection,
  statements: Statement[],
  timeoutMs?: number,
): Promise<Row[][]> {
  const results: Row[][] = [];
  for (const s of statements) {
    let rows: unknown;
    try {
      [rows] = await c.query({ sql: s.sql, ...(timeoutMs ? { timeout: timeoutMs } : {}) });
    } catch (err) {
      throw s.sql === s.redacted ? err : scrubbed(err, s);
    }
    results.push(Array.isArray(rows) ? (rows as Row[]) : []);
  }
  return results;
}

export async function probe<T>(c: PoolConnection, p: Probe<T>, timeoutMs?: number): Promise<T> {
  return p.parse(await execute(c, p.statements, timeoutMs));
}

export const redacted = (statements: Statement[]) => statements.map((s) => s.redacted);

/**
 * mysql2 errors carry the statement (err.sql) and syntax errors quote it ("near '...'"): for a
 * statement with a secret keep the error's codes and only the redacted text.
 */
function scrubbed(err: unknown, s: Statement): Error {
  const e = err as {
    code?: string;
    errno?: number;
    sqlState?: string;
    sqlMessage?: string;
    message?: string;
  };
  const message = (e.sqlMessage ?? e.message ?? 'failed').replace(/ near '[\s\S]*$/, '');
  return Object.assign(new Error(`${message} (in ${s.redacted})`), {
    code: e.code,
    errno: e.errno,
    sqlState: e.sqlState,
    sqlMessage: `${message} (in ${s.redacted})`,
  });
}
