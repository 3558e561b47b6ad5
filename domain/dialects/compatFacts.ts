// Reading the facts the blue/green compatibility checks need: settings, accounts, schema names.
// information_schema carries most of it the same way on both flavors; each dialect supplies the
// two statements that differ (where a variable's origin and an account's plugin are kept).
import type { Flavor } from '../inventory';
import type { CompatAccount, CompatFacts, CompatSchema } from '../upgrade/facts';
import { REPLICATION_VARIABLES } from '../upgrade/versions/replication';
import type { Probe, Row, Statement } from './statement';
import { quoteString } from './escape';
import { field, firstRow, str, stmt } from './rows';

const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];
const notSystem = (column: string) => `${column} NOT IN (${SYSTEM_SCHEMAS.map(quoteString).join(', ')})`;

// Variables whose value can be a credential (wsrep_sst_auth is user:password, keyring passwords):
// the name stays, so a check still sees the setting exists, the value does not.
const SECRET_VARIABLE = /password|passwd|secret|token|credential|sst_auth/i;

export interface CompatStatements {
  /** name, value of every global variable set away from its compiled default. */
  variables: Statement;
  /** name, value of the named variables, whatever their origin; `names` are lower case. */
  replication(names: string[]): Statement;
  /** user, host, plugin (and MariaDB's alternatives, a JSON array) of every account that can log in. */
  accounts: Statement;
}

export function compatFactsProbe(
  flavor: Flavor,
  s: CompatStatements,
  watchedWords: string[],
): Probe<CompatFacts> {
  const words = [...new Set(watchedWords.map((w) => w.toUpperCase()))];
  return {
    statements: [
      stmt('SELECT @@version AS version, @@GLOBAL.sql_mode AS sql_mode'),
      s.variables,
      s.replication(REPLICATION_VARIABLES),
      s.accounts,
      stmt('SELECT GRANTEE AS grantee, PRIVILEGE_TYPE AS privilege FROM information_schema.USER_PRIVILEGES'),
      stmt(
        "SELECT PLUGIN_NAME AS name FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = 'AUTHENTICATION' AND PLUGIN_STATUS = 'ACTIVE' ORDER BY PLUGIN_NAME",
      ),
      stmt(
        `SELECT SCHEMA_NAME AS schema_name FROM information_schema.SCHEMATA WHERE ${notSystem('SCHEMA_NAME')} ORDER BY SCHEMA_NAME`,
      ),
      stmt(
        `SELECT TABLE_SCHEMA AS schema_name, TABLE_NAME AS table_name FROM information_schema.TABLES WHERE ${notSystem('TABLE_SCHEMA')} ORDER BY TABLE_SCHEMA, TABLE_NAME`,
      ),
      // Only columns named like a watched word: every column of a large schema would not fit in
      // the workflow history, and no check reads the others.
      stmt(
        `SELECT TABLE_SCHEMA AS schema_name, TABLE_NAME AS table_name, COLUMN_NAME AS column_name FROM information_schema.COLUMNS WHERE ${notSystem('TABLE_SCHEMA')} AND ${
          words.length > 0 ? `UPPER(COLUMN_NAME) IN (${words.map(quoteString).join(', ')})` : '1 = 0'
        } ORDER BY TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME`,
      ),
    ],
    parse(results) {
      const head = firstRow(results, 0, 'compatibility facts');
      return {
        flavor,
        version: str(head, 'version'),
        sqlMode: str(head, 'sql_mode'),
        variables: variableMap(results[1] ?? []),
        replication: variableMap(results[2] ?? []),
        accounts: accounts(results[3] ?? [], results[4] ?? []),
        authPlugins: (results[5] ?? []).map((r) => str(r, 'name').toLowerCase()),
        schemas: schemas(results[6] ?? [], results[7] ?? [], results[8] ?? []),
      };
    },
  };
}

function variableMap(rows: Row[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const name = str(r, 'name').toLowerCase();
    if (name) out[name] = SECRET_VARIABLE.test(name) ? '***' : str(r, 'value');
  }
  return out;
}

/** `'user'@'host'` as information_schema.USER_PRIVILEGES prints a grantee. */
function grantee(text: string): string | undefined {
  const at = text.lastIndexOf("'@'");
  if (!text.startsWith("'") || !text.endsWith("'") || at < 0) return undefined;
  return `${text.slice(1, at)}@${text.slice(at + 3, -1)}`;
}

/** MariaDB's JSON array of `OR` plugins: mysql2 hands it over parsed or as text, by server version. */
function alternatives(row: Row): string[] {
  let v = field(row, 'alternatives');
  if (typeof v === 'string' || v instanceof Uint8Array) {
    try {
      v = JSON.parse(str(row, 'alternatives')) as unknown;
    } catch {
      return [];
    }
  }
  return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && p !== '') : [];
}

function accounts(rows: Row[], privilegeRows: Row[]): CompatAccount[] {
  const privileges = new Map<string, string[]>();
  for (const r of privilegeRows) {
    const key = grantee(str(r, 'grantee'));
    const p = str(r, 'privilege').trim().toUpperCase().replace(/\s+/g, ' ');
    if (!key || !p || p === 'USAGE') continue;
    privileges.set(key, [...(privileges.get(key) ?? []), p]);
  }
  return rows.map((r) => {
    const user = str(r, 'user');
    const host = str(r, 'host');
    const alt = alternatives(r);
    return {
      user,
      host,
      plugin: str(r, 'plugin'),
      ...(alt.length > 0 ? { alternativePlugins: alt } : {}),
      privileges: privileges.get(`${user}@${host}`) ?? [],
    };
  });
}

function schemas(schemaRows: Row[], tableRows: Row[], columnRows: Row[]): CompatSchema[] {
  const bySchema = new Map<string, CompatSchema>();
  const get = (name: string) => {
    let s = bySchema.get(name);
    if (!s) bySchema.set(name, (s = { name, tables: [], columns: [] }));
    return s;
  };
  for (const r of schemaRows) get(str(r, 'schema_name'));
  for (const r of tableRows) get(str(r, 'schema_name')).tables.push(str(r, 'table_name'));
  for (const r of columnRows)
    get(str(r, 'schema_name')).columns?.push(`${str(r, 'table_name')}.${str(r, 'column_name')}`);
  return [...bySchema.values()];
}
