// What every dialect module builds and parses: statements, the rows mysql2 returns, and probes
// (statements plus the parser of their results). Here, apart from the Dialect interface, so the
// dialect's helpers (rows, backup, sessions) can use them without importing the dialect.

/** A statement to send, and the same statement safe to show in plans and logs. */
export interface Statement {
  sql: string;
  /** Equal to `sql` unless the statement carries a secret, which is shown as '***'. */
  redacted: string;
}

/** A row as mysql2 returns it for a text-protocol query. */
export type Row = Record<string, unknown>;

/** Statements whose result sets, in order, parse into one value. */
export interface Probe<T> {
  statements: Statement[];
  parse(results: Row[][]): T;
}
