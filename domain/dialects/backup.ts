// Provisioning a replica: the command lines that copy a consistent backup from a donor to a new
// host, and the statements around them, per flavor. Pure like the rest of the dialect: commands
// are argv arrays (the activity quotes every word for the shell), so unit tests see exactly what
// each flavor runs. Credentials are never in them: every client reads an option file written for
// the run (`clientOptionFile`), always its first option as the tools require.
import type { Probe, Statement } from './statement';
import { quoteIdentifier, sqlInteger } from './escape';
import { num, str, stmt } from './rows';

/** Where a tool on a host reaches that host's server, and the run's option file with the account. */
export interface ClientEndpoint {
  optionFile: string;
  host: string;
  port: number;
}

export interface UserSchema {
  name: string;
  /** DATA_LENGTH + INDEX_LENGTH of its base tables (InnoDB's estimate). */
  bytes: number;
  tables: number;
  rowsEstimate: number;
}

export interface BinlogInfo {
  file: string;
  position: number;
  /** The GTID position of the backup ('' when the server had none). */
  gtid: string;
}

export interface TableChecksum {
  checksum: string | null;
  rows: number;
}

export interface BackupDialect {
  /**
   * A consistent logical dump of the user schemas on stdout, with the GTID position of its
   * snapshot in it (read back with dumpPosition). `schemas`: those the donor has now, for a tool
   * that cannot list them itself inside its snapshot.
   */
  logicalDump(e: ClientEndpoint, schemas: readonly string[]): string[];
  /**
   * Copying accounts, which a dump of the user schemas leaves out; null when the flavor does not
   * (MySQL: the operator's, or a physical copy).
   */
  readonly accounts: AccountCopy | null;
  /** The client that applies a dump read on stdin. */
  restoreClient(e: ClientEndpoint): string[];
  /** SQL sent to the restore client before the dump: nothing it restores is binlogged. */
  restorePrelude(): string;
  /** The GTID position a dump carries, from the text of one statement or comment block. */
  dumpPosition(text: string): string | null;
  /** Text that starts the statement carrying the position (so a scanner keeps only those). */
  readonly dumpPositionMarker: string;
  /** Before a restore: no replication, no binlog, no GTID state of its own. `version` picks the syntax. */
  resetForRestore(version: string, replicating: boolean): Statement[];
  /** Around a restore over the worker's account: what read-only would refuse to it. */
  restoreWritable(): Statement[];
  restoreDone(): Statement[];
  /** Makes the replica position exactly `position` on a server with empty binlog GTID state. */
  setReplicaPosition(position: string, version: string): Statement[];
  /** Tools a physical copy runs: on the donor, and on the target. */
  readonly physicalTools: { donor: string; target: string[] };
  /** A physical backup of the running server streamed to stdout. */
  physicalBackup(e: ClientEndpoint, datadir: string): string[];
  /** Unpacks the stream read on stdin into `datadir`. */
  physicalExtract(datadir: string): string[];
  /** Makes the unpacked files a consistent datadir (applies the redo log copied alongside). */
  physicalPrepare(datadir: string): string[];
  /** Files in the prepared datadir holding the backup's binlog and GTID position, first found wins. */
  readonly binlogInfoFiles: readonly string[];
  parseBinlogInfo(text: string): BinlogInfo;
  /**
   * Files of the donor's identity or replication state in a copied datadir, removed before the
   * target first starts: it must not start as the donor (MySQL server_uuid) or resume its source.
   */
  readonly donorStateFiles: readonly string[];
  /** Stops what applies events, so a replica holds still at its position. */
  stopApplying(): Statement[];
  /** Applies up to and including `position`, then stops. */
  startUntil(position: string): Statement[];
  userSchemas(): Probe<UserSchema[]>;
  totalDataBytes(): Probe<number>;
  /** Base tables outside the system schemas, as "schema.table". */
  userTables(): Probe<string[]>;
  dropSchema(name: string): Statement;
  checksumTable(schema: string, table: string): Probe<TableChecksum>;
}

export interface Account {
  user: string;
  host: string;
  role: boolean;
}

/**
 * Accounts read on the donor and created on the target over SQL, one by one: a donor may hold an
 * account it cannot even show (a host name under skip_name_resolve), which would fail a whole
 * dump; here it is skipped and reported. Accounts the target has already are left as they are,
 * so the worker's own account there keeps its password.
 */
export interface AccountCopy {
  list(): Probe<Account[]>;
  /** Statements recreating it: its CREATE (only if missing) and its grants. */
  definition(a: Account): Probe<Statement[]>;
}

/** Schemas the server owns: never dumped, dropped or checksummed as user data. */
export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'] as const;

const SYSTEM_LIST = SYSTEM_SCHEMAS.map((s) => `'${s}'`).join(', ');

/**
 * The option file a run writes for its tools: the account in [client], which mysql, mysqldump,
 * mariadb, mariadb-dump, mariadb-backup and xtrabackup all read. Values are double-quoted with
 * backslash escapes, so '#', quotes and spaces in a password survive.
 */
export function clientOptionFile(account: { user: string; password: string }): string {
  return [
    '[client]',
    `user=${optionValue(account.user)}`,
    `password=${optionValue(account.password)}`,
    '',
  ].join('\n');
}

function optionValue(v: string): string {
  if (v.includes('\0')) throw new Error('an option file value cannot contain a NUL byte');
  const escaped = v.replace(
    /[\\"\n\r\t]/g,
    (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] as string,
  );
  return `"${escaped}"`;
}

/** The first options every client gets: the option file (it must come first), then the server. */
export function clientArgs(e: ClientEndpoint): string[] {
  return [
    `--defaults-extra-file=${checkPath(e.optionFile, 'option file')}`,
    `--host=${checkHost(e.host)}`,
    `--port=${sqlInteger(e.port, 'port', 1)}`,
  ];
}

/** A path given to a tool: absolute, no control characters, never the root. */
export function checkPath(path: string, what: string): string {
  if (
    !path.startsWith('/') ||
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    /[\0-\x1f]/.test(path) ||
    /(^|\/)\.\.(\/|$)/.test(path) ||
    path.replace(/\/+$/, '') === ''
  )
    throw new Error(`${what} ${JSON.stringify(path)}: expected an absolute path without "..", not "/"`);
  return path.replace(/\/+$/, '');
}

function checkHost(host: string): string {
  if (!/^[A-Za-z0-9.:_-]+$/.test(host) || host.startsWith('-'))
    throw new Error(`server address ${JSON.stringify(host)}: expected a host name or IP address`);
  return host;
}

/** Schema names as dump arguments: one starting with "-" would be read as an option. */
export function checkSchemas(schemas: readonly string[]): readonly string[] {
  for (const s of schemas)
    if (s.startsWith('-') || s.length === 0 || s.includes('\0'))
      throw new Error(
        `schema ${JSON.stringify(s)}: a name starting with "-" cannot be given to the dump tool`,
      );
  return schemas;
}

/** `df -Pk PATH`: the bytes available to the server's user on that filesystem. */
export function parseDfAvailable(text: string): number {
  // Filesystem and mount point may hold spaces; the four numbers between them never do.
  const m = /\s(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%\s/.exec(text.split('\n').slice(1).join('\n') + '\n');
  if (!m) throw new Error(`unexpected df output: ${JSON.stringify(text.slice(0, 200))}`);
  return Number(m[3]) * 1024;
}

/** xtrabackup_binlog_info / mariadb_backup_binlog_info: "FILE<TAB>POSITION[<TAB>GTID]" (a MySQL set may wrap). */
export function parseBinlogInfoText(text: string): BinlogInfo {
  const m = /^\s*(\S+)\s+(\d+)(?:\s+([\s\S]*?))?\s*$/.exec(text);
  if (!m)
    throw new Error(
      `unexpected binlog info ${JSON.stringify(text.slice(0, 200))}: expected "FILE POSITION GTID"`,
    );
  return { file: m[1], position: Number(m[2]), gtid: (m[3] ?? '').replace(/\s+/g, '') };
}

/**
 * Table statistics lag behind a bulk load (InnoDB refreshes them in the background), so sizes are
 * the larger of the statistics and the tablespace files `tablespaces` lists (NAME "schema/table").
 */
export function userSchemasProbe(tablespaces: string): Probe<UserSchema[]> {
  return {
    statements: [
      stmt(
        'SELECT s.SCHEMA_NAME AS name, COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) AS bytes, ' +
          'COUNT(t.TABLE_NAME) AS tables, COALESCE(SUM(t.TABLE_ROWS), 0) AS row_estimate ' +
          'FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t ' +
          "ON t.TABLE_SCHEMA = s.SCHEMA_NAME AND t.TABLE_TYPE = 'BASE TABLE' " +
          `WHERE s.SCHEMA_NAME NOT IN (${SYSTEM_LIST}) GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME`,
      ),
      stmt(
        `SELECT SUBSTRING_INDEX(NAME, '/', 1) AS name, SUM(FILE_SIZE) AS bytes FROM ${tablespaces} ` +
          "WHERE NAME LIKE '%/%' GROUP BY SUBSTRING_INDEX(NAME, '/', 1)",
      ),
    ],
    parse(results) {
      const files = new Map((results[1] ?? []).map((r) => [str(r, 'name'), num(r, 'bytes')]));
      return (results[0] ?? []).map((r) => ({
        name: str(r, 'name'),
        bytes: Math.max(num(r, 'bytes'), files.get(str(r, 'name')) ?? 0),
        tables: num(r, 'tables'),
        rowsEstimate: num(r, 'row_estimate'),
      }));
    },
  };
}

/** Data and indexes of every schema but information_schema/performance_schema: what a physical copy moves. */
export function totalDataBytesProbe(tablespaces: string): Probe<number> {
  return {
    statements: [
      stmt(
        'SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS bytes FROM information_schema.TABLES ' +
          "WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema')",
      ),
      // The temporary tablespace is recreated at start, never copied.
      stmt(
        `SELECT COALESCE(SUM(FILE_SIZE), 0) AS bytes FROM ${tablespaces} WHERE NAME <> 'innodb_temporary'`,
      ),
    ],
    parse: (results) =>
      Math.max(
        results[0]?.[0] ? num(results[0][0], 'bytes') : 0,
        results[1]?.[0] ? num(results[1][0], 'bytes') : 0,
      ),
  };
}

export function userTablesProbe(): Probe<string[]> {
  return {
    statements: [
      stmt(
        'SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLES ' +
          `WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (${SYSTEM_LIST}) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
      ),
    ],
    parse: (results) => (results[0] ?? []).map((r) => `${str(r, 's')}.${str(r, 't')}`),
  };
}

export function checksumTableProbe(schema: string, table: string): Probe<TableChecksum> {
  const name = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
  return {
    statements: [stmt(`CHECKSUM TABLE ${name}`), stmt(`SELECT COUNT(*) AS n FROM ${name}`)],
    parse(results) {
      const c = results[0]?.[0];
      const v = c ? (c.Checksum ?? c.checksum) : null;
      return {
        checksum: v === null || v === undefined ? null : String(v),
        rows: results[1]?.[0] ? num(results[1][0], 'n') : 0,
      };
    },
  };
}

export const dropSchemaStatement = (name: string): Statement =>
  stmt(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`);

/** "8.0.36" -> [8, 0, 36]; anything unreadable sorts first. */
export function versionTuple(version: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}
