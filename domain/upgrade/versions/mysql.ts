// What MySQL releases changed that a blue/green upgrade must look at, from 5.7 → 8.0 → 8.4. Taken
// from MySQL worklogs, release notes, the server version reference and the reference manual;
// each list names its page. Where a page gives only the series ("removed in 8.0"), `since` is the
// series' first release.
import type {
  AuthPluginChange,
  FlavorKnowledge,
  PrivilegeChange,
  ReservedWord,
  SqlModeChange,
  VariableChange,
} from './types';

const removed = (since: string, source: string, fix?: string) => (name: string) =>
  ({ name, since, kind: 'removed', source, ...(fix ? { fix } : {}) }) satisfies VariableChange;
const deprecated = (since: string, source: string, fix?: string) => (name: string) =>
  ({ name, since, kind: 'deprecated', source, ...(fix ? { fix } : {}) }) satisfies VariableChange;
const renamed =
  (since: string, kind: 'removed' | 'deprecated', source: string) =>
  ([name, renamedTo]: [string, string]) =>
    ({ name, since, kind, renamedTo, source }) satisfies VariableChange;

// https://dev.mysql.com/worklog/task/?id=10824 (query cache removed in 8.0; 8.0.3 per the 8.0
// removed-variables list) and https://dev.mysql.com/doc/relnotes/mysql/5.7/en/news-5-7-20.html
const QUERY_CACHE = 'https://dev.mysql.com/worklog/task/?id=10824';
// https://dev.mysql.com/worklog/task/?id=9636 (tx_isolation / tx_read_only renamed transaction_*)
const TX_RENAME = 'https://dev.mysql.com/worklog/task/?id=9636';
// https://dev.mysql.com/worklog/task/?id=9676 (log_warnings removed; log_error_verbosity since 5.7.2)
const LOG_WARNINGS = 'https://dev.mysql.com/worklog/task/?id=9676';
// https://dev.mysql.com/worklog/task/?id=9680 (date_format, datetime_format, time_format, max_tmp_tables)
const UNUSED_FORMATS = 'https://dev.mysql.com/worklog/task/?id=9680';
// https://dev.mysql.com/worklog/task/?id=7704 (InnoDB file format parameters removed in 8.0.0)
const FILE_FORMAT = 'https://dev.mysql.com/worklog/task/?id=7704';
// https://dev.mysql.com/worklog/task/?id=8057 (show_compatibility_56 removed in 8.0.1)
const SHOW_COMPAT = 'https://dev.mysql.com/worklog/task/?id=8057';
// https://docs.percona.com/percona-server/8.0/upgrade-changes-removed.html (MySQL's "Features
// Removed in MySQL 8.0": innodb_locks_unsafe_for_binlog, old_passwords, NO_AUTO_CREATE_USER)
const REMOVED_IN_8_0 = 'https://docs.percona.com/percona-server/8.0/upgrade-changes-removed.html';
// https://www.alibabacloud.com/blog/New-in-MySQL-8-0---the-Vanishing-Parameters-Features_p68895
// (WL#8843, innodb_support_xa removed in 8.0.0)
const SUPPORT_XA =
  'https://www.alibabacloud.com/blog/New-in-MySQL-8-0---the-Vanishing-Parameters-Features_p68895';
// https://dev.mysql.com/doc/refman/8.0/en/added-deprecated-removed.html and
// https://www.tutorialspoint.com/what-are-the-options-and-variables-deprecated-in-mysql-8-0
// (expire_logs_days deprecated in 8.0.3)
const DEPRECATED_IN_8_0 = 'https://dev.mysql.com/doc/refman/8.0/en/added-deprecated-removed.html';
// https://dev.mysql.com/worklog/task/?id=14194 (8.0.26: master/slave/mts in variable names become
// source/replica/mta; the old names stay as deprecated aliases), per variable in
// https://dev.mysql.com/doc/refman/8.0/en/replication-options-replica.html and
// https://dev.mysql.com/doc/refman/8.0/en/replication-options-binary-log.html
const TERMINOLOGY = 'https://dev.mysql.com/worklog/task/?id=14194';
// https://dev.mysql.com/doc/mysqld-version-reference/en/optvar-changes-8-2.html (expire_logs_days removed in 8.2.0)
const OPTVAR_8_2 = 'https://dev.mysql.com/doc/mysqld-version-reference/en/optvar-changes-8-2.html';
// https://dev.mysql.com/doc/mysqld-version-reference/en/optvar-changes-8-3.html
const OPTVAR_8_3 = 'https://dev.mysql.com/doc/mysqld-version-reference/en/optvar-changes-8-3.html';
// https://dev.mysql.com/doc/mysqld-version-reference/en/optvar-changes-8-4.html and the
// replacements in https://docs.percona.com/percona-server/8.4/8.4-compatibility-and-removed-items.html
const OPTVAR_8_4 = 'https://dev.mysql.com/doc/mysqld-version-reference/en/optvar-changes-8-4.html';

const variables: VariableChange[] = [
  ...[
    'query_cache_limit',
    'query_cache_min_res_unit',
    'query_cache_size',
    'query_cache_type',
    'query_cache_wlock_invalidate',
  ].map(removed('8.0.3', QUERY_CACHE, 'the query cache is gone; there is no replacement setting')),
  ...(
    [
      ['tx_isolation', 'transaction_isolation'],
      ['tx_read_only', 'transaction_read_only'],
    ] as [string, string][]
  ).map(renamed('8.0.3', 'removed', TX_RENAME)),
  removed(
    '8.0.3',
    LOG_WARNINGS,
    'set log_error_verbosity instead (1 errors, 2 and warnings, 3 and notes): its values differ from log_warnings',
  )('log_warnings'),
  ...['date_format', 'datetime_format', 'time_format', 'max_tmp_tables'].map(
    removed('8.0.3', UNUSED_FORMATS, 'it was never used'),
  ),
  ...['innodb_file_format', 'innodb_file_format_check', 'innodb_file_format_max', 'innodb_large_prefix'].map(
    removed('8.0.0', FILE_FORMAT, 'Barracuda (ROW_FORMAT=DYNAMIC) is the only format now'),
  ),
  removed('8.0.1', SHOW_COMPAT)('show_compatibility_56'),
  removed(
    '8.0.0',
    REMOVED_IN_8_0,
    'the READ COMMITTED isolation level gives similar behaviour',
  )('innodb_locks_unsafe_for_binlog'),
  removed(
    '8.0.11',
    REMOVED_IN_8_0,
    'the PASSWORD() function and old password hashing are gone',
  )('old_passwords'),
  removed('8.0.0', SUPPORT_XA, 'two-phase commit in InnoDB is always on')('innodb_support_xa'),
  deprecated(
    '8.0.3',
    DEPRECATED_IN_8_0,
    'set binlog_expire_logs_seconds instead (seconds, not days)',
  )('expire_logs_days'),
  ...(
    [
      ['log_slave_updates', 'log_replica_updates'],
      ['log_slow_slave_statements', 'log_slow_replica_statements'],
      ['slave_parallel_type', 'replica_parallel_type'],
      ['slave_parallel_workers', 'replica_parallel_workers'],
      ['slave_preserve_commit_order', 'replica_preserve_commit_order'],
      ['skip_slave_start', 'skip_replica_start'],
      ['master_verify_checksum', 'source_verify_checksum'],
      ['init_slave', 'init_replica'],
    ] as [string, string][]
  ).map(renamed('8.0.26', 'deprecated', TERMINOLOGY)),
  removed(
    '8.2.0',
    OPTVAR_8_2,
    'set binlog_expire_logs_seconds instead (seconds, not days)',
  )('expire_logs_days'),
  ...['group_replication_ip_whitelist', 'group_replication_primary_member'].map(removed('8.3.0', OPTVAR_8_3)),
  ...[
    'daemon_memcached_enable_binlog',
    'daemon_memcached_engine_lib_name',
    'daemon_memcached_engine_lib_path',
    'daemon_memcached_option',
    'daemon_memcached_r_batch_size',
    'daemon_memcached_w_batch_size',
    'innodb_api_bk_commit_interval',
    'innodb_api_disable_rowlock',
    'innodb_api_enable_binlog',
  ].map(removed('8.3.0', OPTVAR_8_3, 'the InnoDB memcached plugin was removed')),
  removed(
    '8.4.0',
    OPTVAR_8_4,
    'set authentication_policy instead (its first element names the default plugin)',
  )('default_authentication_plugin'),
  removed(
    '8.4.0',
    OPTVAR_8_4,
    'WRITESET dependency tracking is now built in and the only mode',
  )('binlog_transaction_dependency_tracking'),
  ...[
    'avoid_temporal_upgrade',
    'group_replication_recovery_complete_at',
    'have_openssl',
    'have_ssl',
    'keyring_encrypted_file_data',
    'keyring_encrypted_file_password',
    'old',
    'new',
  ].map(removed('8.4.0', OPTVAR_8_4)),
];

// https://dev.mysql.com/worklog/task/?id=8383 (DB2, MSSQL, MYSQL323, MYSQL40, NO_FIELD_OPTIONS,
// NO_KEY_OPTIONS, NO_TABLE_OPTIONS, ORACLE, POSTGRESQL) and https://dev.mysql.com/worklog/task/?id=9465
// (MAXDB): setting any of them is an error in 8.0. NO_AUTO_CREATE_USER: removed in 8.0.11, an option
// file naming it stops mysqld (REMOVED_IN_8_0).
const COMPAT_MODES = 'https://dev.mysql.com/worklog/task/?id=8383';
const sqlModes: SqlModeChange[] = [
  ...[
    'DB2',
    'MSSQL',
    'MYSQL323',
    'MYSQL40',
    'NO_FIELD_OPTIONS',
    'NO_KEY_OPTIONS',
    'NO_TABLE_OPTIONS',
    'ORACLE',
    'POSTGRESQL',
  ].map((mode): SqlModeChange => ({
    mode,
    since: '8.0.0',
    kind: 'removed',
    fix: 'drop it from sql_mode (option file and SET statements)',
    source: COMPAT_MODES,
  })),
  {
    mode: 'MAXDB',
    since: '8.0.0',
    kind: 'removed',
    fix: 'drop it from sql_mode; declare DATETIME columns where MAXDB turned TIMESTAMP into DATETIME',
    source: 'https://dev.mysql.com/worklog/task/?id=9465',
  },
  {
    mode: 'NO_AUTO_CREATE_USER',
    since: '8.0.11',
    kind: 'removed',
    fix: 'drop it from sql_mode; GRANT no longer creates accounts, so CREATE USER them',
    source: REMOVED_IN_8_0,
  },
];

// https://dev.mysql.com/doc/refman/8.0/en/keywords.html ("MySQL 8.0 New Keywords and Reserved
// Words": the (R) entries, with the release each became reserved in; no release noted = 8.0.0).
const KEYWORDS_8_0 = 'https://dev.mysql.com/doc/refman/8.0/en/keywords.html';
const reservedWords: ReservedWord[] = (
  [
    ['CUBE', '8.0.1'],
    ['FUNCTION', '8.0.1'],
    ['GROUPING', '8.0.1'],
    ['OF', '8.0.1'],
    ['RECURSIVE', '8.0.1'],
    ['CUME_DIST', '8.0.2'],
    ['DENSE_RANK', '8.0.2'],
    ['FIRST_VALUE', '8.0.2'],
    ['GROUPS', '8.0.2'],
    ['LAG', '8.0.2'],
    ['LAST_VALUE', '8.0.2'],
    ['LEAD', '8.0.2'],
    ['NTH_VALUE', '8.0.2'],
    ['NTILE', '8.0.2'],
    ['OVER', '8.0.2'],
    ['PERCENT_RANK', '8.0.2'],
    ['RANK', '8.0.2'],
    ['ROW', '8.0.2'],
    ['ROWS', '8.0.2'],
    ['ROW_NUMBER', '8.0.2'],
    ['WINDOW', '8.0.2'],
    ['SYSTEM', '8.0.3'],
    ['EMPTY', '8.0.4'],
    ['JSON_TABLE', '8.0.4'],
    ['LATERAL', '8.0.14'],
    ['INTERSECT', '8.0.31'],
    ['EXCEPT', '8.0.0'],
  ] as [string, string][]
).map(([word, since]) => ({ word, since, source: KEYWORDS_8_0 }));

const NATIVE_PASSWORD = 'https://dev.mysql.com/doc/refman/8.4/en/native-pluggable-authentication.html';
const authPlugins: AuthPluginChange[] = [
  {
    // https://dev.mysql.com/doc/refman/8.0/en/upgrading-from-previous-series.html ("caching_sha2_password
    // as the Preferred Authentication Plugin": existing accounts keep their plugin)
    plugin: 'mysql_native_password',
    since: '8.0.4',
    kind: 'default-changed',
    fix: 'accounts created on green get caching_sha2_password; clients and connectors must support it (or use TLS / GET_SOURCE_PUBLIC_KEY for replication)',
    source: 'https://dev.mysql.com/doc/refman/8.0/en/upgrading-from-previous-series.html',
  },
  {
    // https://dev.mysql.com/doc/refman/8.4/en/native-pluggable-authentication.html and
    // https://dev.mysql.com/doc/refman/8.4/en/mysql-nutshell.html ("no longer enabled by default.
    // To enable it, start the server with --mysql-native-password=ON")
    plugin: 'mysql_native_password',
    since: '8.4.0',
    kind: 'disabled',
    fix: "start green with mysql_native_password=ON in [mysqld], or move the account first: ALTER USER … IDENTIFIED WITH caching_sha2_password BY '…'",
    source: NATIVE_PASSWORD,
  },
  {
    plugin: 'mysql_native_password',
    since: '9.0.0',
    kind: 'removed',
    fix: "move the account before the upgrade: ALTER USER … IDENTIFIED WITH caching_sha2_password BY '…'",
    source: NATIVE_PASSWORD,
  },
];

const privileges: PrivilegeChange[] = [
  {
    // https://dev.mysql.com/doc/relnotes/mysql/8.0/en/news-8-0-1.html (dynamic privileges, "enables
    // DBAs to begin migrating away from the SUPER privilege")
    privilege: 'SUPER',
    since: '8.0.1',
    kind: 'deprecated',
    fix: 'grant the dynamic privileges the account needs (SYSTEM_VARIABLES_ADMIN, CONNECTION_ADMIN, REPLICATION_SLAVE_ADMIN, BINLOG_ADMIN, …) and revoke SUPER',
    source: 'https://dev.mysql.com/doc/relnotes/mysql/8.0/en/news-8-0-1.html',
  },
];

export const MYSQL: FlavorKnowledge = {
  flavor: 'mysql',
  variables,
  sqlModes,
  reservedWords,
  authPlugins,
  privileges,
};
