import { dialectFor, type Row } from '../../domain/dialects';

const sqls = (s: { sql: string; redacted: string }[]) => {
  for (const x of s) expect(x.redacted).toBe(x.sql); // nothing secret is sent
  return s.map((x) => x.sql);
};

const SYSTEM = "('mysql', 'information_schema', 'performance_schema', 'sys')";
const REPLICATION_NAMES =
  "'server_id', 'log_bin', 'log_replica_updates', 'log_slave_updates', 'gtid_mode', 'enforce_gtid_consistency', 'gtid_strict_mode', 'binlog_format', 'binlog_row_image', 'lower_case_table_names', 'character_set_server', 'collation_server', 'explicit_defaults_for_timestamp'";
const SHARED_TAIL = (words: string) => [
  'SELECT GRANTEE AS grantee, PRIVILEGE_TYPE AS privilege FROM information_schema.USER_PRIVILEGES',
  "SELECT PLUGIN_NAME AS name FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = 'AUTHENTICATION' AND PLUGIN_STATUS = 'ACTIVE' ORDER BY PLUGIN_NAME",
  `SELECT SCHEMA_NAME AS schema_name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ${SYSTEM} ORDER BY SCHEMA_NAME`,
  `SELECT TABLE_SCHEMA AS schema_name, TABLE_NAME AS table_name FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ${SYSTEM} ORDER BY TABLE_SCHEMA, TABLE_NAME`,
  `SELECT TABLE_SCHEMA AS schema_name, TABLE_NAME AS table_name, COLUMN_NAME AS column_name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN ${SYSTEM} AND ${words} ORDER BY TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME`,
];

describe('MySQL compatibility facts', () => {
  const p = dialectFor('mysql').compatFacts(['rank', 'GROUPS', "o'brien", 'RANK']);

  it('reads origins from performance_schema and plugins from mysql.user, never a password hash', () => {
    expect(sqls(p.statements)).toEqual([
      'SELECT @@version AS version, @@GLOBAL.sql_mode AS sql_mode',
      "SELECT vi.VARIABLE_NAME AS name, gv.VARIABLE_VALUE AS value FROM performance_schema.variables_info vi JOIN performance_schema.global_variables gv ON gv.VARIABLE_NAME = vi.VARIABLE_NAME WHERE vi.VARIABLE_SOURCE <> 'COMPILED' ORDER BY vi.VARIABLE_NAME",
      `SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM performance_schema.global_variables WHERE VARIABLE_NAME IN (${REPLICATION_NAMES})`,
      "SELECT User AS user, Host AS host, plugin FROM mysql.user WHERE account_locked = 'N' ORDER BY User, Host",
      // Watched words upper-cased, deduplicated and escaped.
      ...SHARED_TAIL("UPPER(COLUMN_NAME) IN ('RANK', 'GROUPS', 'O''BRIEN')"),
    ]);
    for (const s of sqls(p.statements)) expect(s).not.toMatch(/authentication_string|Priv\b|password\s*=/i);
  });

  it('parses the rows mysql2 returns into facts', () => {
    const results: Row[][] = [
      [{ version: '8.0.36', sql_mode: 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES' }],
      [
        { name: 'server_id', value: '1' },
        { name: 'replica_parallel_workers', value: '4' },
        { name: 'keyring_encrypted_file_password', value: 'hunter2' },
      ],
      [
        { name: 'server_id', value: '1' },
        { name: 'log_bin', value: 'ON' },
        { name: 'gtid_mode', value: 'ON' },
      ],
      [
        { user: 'app', host: '%', plugin: 'mysql_native_password' },
        { user: 'root', host: 'localhost', plugin: 'caching_sha2_password' },
      ],
      [
        { grantee: "'root'@'localhost'", privilege: 'SUPER' },
        { grantee: "'root'@'localhost'", privilege: 'SYSTEM_VARIABLES_ADMIN' },
        { grantee: "'app'@'%'", privilege: 'USAGE' },
      ],
      [{ name: 'caching_sha2_password' }, { name: 'mysql_native_password' }],
      [{ schema_name: 'app' }, { schema_name: 'empty' }],
      [
        { schema_name: 'app', table_name: 'orders' },
        { schema_name: 'app', table_name: 'rank' },
      ],
      [{ schema_name: 'app', table_name: 'orders', column_name: 'groups' }],
    ];
    expect(p.parse(results)).toEqual({
      flavor: 'mysql',
      version: '8.0.36',
      sqlMode: 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES',
      variables: { server_id: '1', replica_parallel_workers: '4', keyring_encrypted_file_password: '***' },
      replication: { server_id: '1', log_bin: 'ON', gtid_mode: 'ON' },
      accounts: [
        { user: 'app', host: '%', plugin: 'mysql_native_password', privileges: [] },
        {
          user: 'root',
          host: 'localhost',
          plugin: 'caching_sha2_password',
          privileges: ['SUPER', 'SYSTEM_VARIABLES_ADMIN'],
        },
      ],
      authPlugins: ['caching_sha2_password', 'mysql_native_password'],
      schemas: [
        { name: 'app', tables: ['orders', 'rank'], columns: ['orders.groups'] },
        { name: 'empty', tables: [], columns: [] },
      ],
    });
  });

  it('refuses a result without the version row', () => {
    expect(() => p.parse([[]])).toThrow(/compatibility facts: the server returned no row/);
  });
});

describe('MariaDB compatibility facts', () => {
  const p = dialectFor('mariadb').compatFacts([]);

  it('reads origins from SYSTEM_VARIABLES and plugin names out of global_priv, not the hash', () => {
    const s = sqls(p.statements);
    expect(s.slice(0, 4)).toEqual([
      'SELECT @@version AS version, @@GLOBAL.sql_mode AS sql_mode',
      "SELECT VARIABLE_NAME AS name, GLOBAL_VALUE AS value FROM information_schema.SYSTEM_VARIABLES WHERE GLOBAL_VALUE_ORIGIN IN ('CONFIG', 'COMMAND-LINE', 'SQL') ORDER BY VARIABLE_NAME",
      `SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME IN (${REPLICATION_NAMES})`,
      "SELECT User AS user, Host AS host, COALESCE(JSON_VALUE(Priv, '$.plugin'), 'mysql_native_password') AS plugin, JSON_EXTRACT(Priv, '$.auth_or[*].plugin') AS alternatives FROM mysql.global_priv WHERE COALESCE(JSON_VALUE(Priv, '$.is_role'), 'false') NOT IN ('true', '1') AND COALESCE(JSON_VALUE(Priv, '$.account_locked'), 'false') NOT IN ('true', '1') ORDER BY User, Host",
    ]);
    // No watched word: no column can match, and the statement says so.
    expect(s.slice(4)).toEqual(SHARED_TAIL('1 = 0'));
    expect(s.join('\n')).not.toMatch(/authentication_string/);
  });

  it('lower-cases variable names, hides secrets and reads OR plugins parsed or as JSON text', () => {
    const results: Row[][] = [
      [{ version: '10.11.19-MariaDB-0+deb12u1-log', sql_mode: 'STRICT_TRANS_TABLES' }],
      [
        { name: 'BINLOG_FORMAT', value: 'ROW' },
        { name: 'WSREP_SST_AUTH', value: 'sst:secret' },
        { name: 'INNODB_DEFRAGMENT', value: null },
      ],
      [{ name: 'SERVER_ID', value: '7' }],
      [
        { user: 'root', host: 'localhost', plugin: 'mysql_native_password', alternatives: ['unix_socket'] },
        { user: 'ed', host: '%', plugin: 'ed25519', alternatives: null },
        { user: 'old', host: '%', plugin: 'mysql_native_password', alternatives: '["unix_socket","gssapi"]' },
      ],
      [{ grantee: "'root'@'localhost'", privilege: 'READ_ONLY  admin' }],
      [{ name: 'ed25519' }],
      [],
      [],
      [],
    ];
    const f = p.parse(results);
    expect(f.variables).toEqual({ binlog_format: 'ROW', wsrep_sst_auth: '***', innodb_defragment: '' });
    expect(f.replication).toEqual({ server_id: '7' });
    expect(f.accounts).toEqual([
      {
        user: 'root',
        host: 'localhost',
        plugin: 'mysql_native_password',
        alternativePlugins: ['unix_socket'],
        privileges: ['READ_ONLY ADMIN'],
      },
      { user: 'ed', host: '%', plugin: 'ed25519', privileges: [] },
      {
        user: 'old',
        host: '%',
        plugin: 'mysql_native_password',
        alternativePlugins: ['unix_socket', 'gssapi'],
        privileges: [],
      },
    ]);
    expect(f.schemas).toEqual([]);
    expect(JSON.stringify(f)).not.toContain('secret');
  });
});
