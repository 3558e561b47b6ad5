// What a printed statement is, for assembling transactions: the session settings the tools print
// only when they change (so a transaction replayed on its own must carry them), the statements
// that set a GTID, and those that open or end a transaction.

/** "/*!50530 X*\/" and "/*M!100001 X*\/" (executable comments) -> "X"; anything else unchanged. */
export function unwrap(statement: string): string {
  const m = /^\/\*M?!\d*\s?([\s\S]*?)\s*\*\/$/.exec(statement.trim());
  return (m ? m[1] : statement).trim();
}

// Printed in every transaction that needs them, or replaced by the salvage's own GTID statement:
// carrying them over to the next transaction would only repeat or contradict it.
const NOT_CARRIED = new Set([
  'gtid_seq_no',
  'gtid_domain_id',
  'server_id',
  'gtid_next',
  'original_commit_timestamp',
  'original_server_version',
  'immediate_server_version',
]);

/**
 * `/*!\C utf8mb3 *\/`: a command to the mariadb/mysql client (the character set it converts
 * with), which the server refuses as a syntax error (checked on 10.11). Over mysql2 the text is
 * sent as UTF-8 and the `SET @@session.character_set_client` printed next to it tells the server.
 */
export function isClientCommand(statement: string): boolean {
  return /^\\C\s/.test(unwrap(statement));
}

/**
 * The setting a statement sets for the rest of the session, or null: `use db` and
 * `SET @@session.x=...` (keyed by its first variable: the tools always print the same variables
 * together). TIMESTAMP, INSERT_ID and the like are printed before every statement that needs them
 * and are not carried.
 */
export function contextKey(statement: string): string | null {
  const s = unwrap(statement);
  if (/^use\s/i.test(s)) return 'use';
  const m = /^SET\s+@@session\.(\w+)\s*=/i.exec(s);
  if (!m) return null;
  const name = m[1].toLowerCase();
  return NOT_CARRIED.has(name) ? null : `session.${name}`;
}

/** mariadb-binlog's own GTID statements (`SET @@session.gtid_seq_no=5` and its two siblings). */
export function isMariadbGtidStatement(statement: string): boolean {
  return /^SET\s+@@session\.(gtid_seq_no|gtid_domain_id|server_id)\s*=\s*\d+$/i.test(unwrap(statement));
}

/** The GTID a MySQL `SET @@SESSION.GTID_NEXT= '...'` names ('ANONYMOUS' included), or null. */
export function mysqlGtidNext(statement: string): string | null {
  const m = /^SET\s+@@SESSION\.GTID_NEXT\s*=\s*'([^']*)'$/i.exec(unwrap(statement));
  return m ? m[1] : null;
}

/**
 * Opens a transaction that further events continue: BEGIN (MySQL), START TRANSACTION (MariaDB's
 * GTID event), XA START, and MySQL 8's atomic CREATE TABLE ... SELECT ("... START TRANSACTION").
 */
export function opensTransaction(statement: string): boolean {
  const s = unwrap(statement);
  return /^(BEGIN|START TRANSACTION|XA START|XA BEGIN)\b/i.test(s) || /\bSTART TRANSACTION\s*$/i.test(s);
}

/** Ends an open transaction (a Query event's COMMIT/ROLLBACK, as for non-transactional tables). */
export function endsTransaction(statement: string): boolean {
  return /^(COMMIT|ROLLBACK|XA COMMIT\b.*|XA ROLLBACK\b.*|XA PREPARE\b.*)$/is.test(unwrap(statement));
}

/**
 * The replay statements that set a MariaDB transaction's GTID. All three for every transaction:
 * the tool prints domain and server only when they change, so a transaction replayed apart from
 * its predecessors would take the session's. Three statements, not one SET with three
 * assignments: the server checks every assignment before making any, so under gtid_strict_mode
 * the seq_no would be checked against the previous domain (seen live on 10.11: error 1950).
 */
export function mariadbGtidStatements(domain: number, serverId: number, seq: number): string[] {
  return [
    `SET @@session.gtid_domain_id=${domain}`,
    `SET @@session.server_id=${serverId}`,
    `SET @@session.gtid_seq_no=${seq}`,
  ];
}

/** The session settings in force at a point of the log, in the order they were first printed. */
export class SessionContext {
  private readonly settings = new Map<string, string>();

  /** Records the statement if it is a session setting; returns whether it was. */
  observe(statement: string): boolean {
    const key = contextKey(statement);
    if (key === null) return false;
    this.settings.set(key, statement);
    return true;
  }

  snapshot(): string[] {
    return [...this.settings.values()];
  }
}
