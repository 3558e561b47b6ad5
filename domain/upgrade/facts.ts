// What the compatibility checks of a blue/green upgrade read about a server, and what they say.
// Facts are names and settings only: never a password hash, an authentication string or a
// secret-bearing variable's value, because they travel through workflow history.
import type { Flavor } from '../inventory';

export interface CompatAccount {
  user: string;
  host: string;
  /** The authentication plugin (MariaDB: the first of `IDENTIFIED VIA a OR b`). */
  plugin: string;
  /** MariaDB `OR` alternatives: the account can still log in when any one of them is loaded. */
  alternativePlugins?: string[];
  /** Global privileges, upper case with single spaces (`SUPER`, `READ_ONLY ADMIN`). */
  privileges?: string[];
}

export interface CompatSchema {
  name: string;
  tables: string[];
  /**
   * `table.column` names. Collected facts hold only the columns whose name is a word some
   * recorded version reserves: the only columns a check reads, and all columns would not fit
   * in a workflow history for a large schema.
   */
  columns?: string[];
}

export interface CompatFacts {
  flavor: Flavor;
  /** As @@version prints it, e.g. `10.11.6-MariaDB-log` or `8.0.36`. */
  version: string;
  /**
   * Global variables, lower-case names. Collected facts hold only those set away from the
   * compiled default (option file, command line, SET GLOBAL); hand-written facts may hold all.
   */
  variables: Record<string, string>;
  accounts: CompatAccount[];
  /** @@GLOBAL.sql_mode. */
  sqlMode: string;
  /** Application schemas: system schemas (mysql, sys, information_schema, performance_schema) excluded. */
  schemas: CompatSchema[];
  /**
   * Replication-relevant variables whatever their origin (server_id, log_bin, binlog_format,
   * GTID settings, …): blue and green are compared on these. Falls back to `variables`.
   */
  replication?: Record<string, string>;
  /** Authentication plugins the server has ACTIVE. Unknown when absent. */
  authPlugins?: string[];
}

/** Green known only by what it will run: the checks then rely on the recorded knowledge alone. */
export interface TargetVersion {
  flavor: Flavor;
  version: string;
}

export type CompatCheck =
  | 'removed-variable'
  | 'renamed-variable'
  | 'auth-plugin'
  | 'privilege'
  | 'sql-mode'
  | 'reserved-word'
  | 'version'
  | 'replication';

export type CompatSeverity = 'blocking' | 'warning' | 'info';

export interface CompatFinding {
  check: CompatCheck;
  severity: CompatSeverity;
  /** What the finding is about: a variable, an account `'user'@'host'`, a schema object, a version. */
  subject: string;
  /** What changes and the fix. */
  message: string;
}
