// The PostgreSQL instance of the PostgreSQL-backed Temporal: private to one data dir (its own
// cluster directory, port and socket directory), never the machine's own instance, which owns
// 127.0.0.1:5432 and is left alone. PostgreSQL refuses to run as root, so as root it runs as the
// `postgres` OS user (Debian's package creates it) or, without one, a system user of our own.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { isOurProcess, logTail, retryUntil, spawnBackground, stopProcess } from './postgresProcs';

/** The superuser initdb creates; reachable only through the 0700 socket directory. */
const SUPERUSER = 'postgres';
/** The role the Temporal server and the schema tool use, over TCP with a password. */
export const DB_USER = 'temporal';
export const DATABASES = { default: 'temporal', visibility: 'temporal_visibility' } as const;
const OWN_USER = 'successover-pg';

export const pgPaths = (dir: string) => ({
  pgdata: join(dir, 'pgdata'),
  socketDir: join(dir, 'pgsock'),
  log: join(dir, 'postgres.log'),
  password: join(dir, 'db-password'),
});

/** What marks our postmaster's command line (its data directory). */
export const pgMarks = (dir: string) => ['-D', pgPaths(dir).pgdata];

function run(cmd: string, args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { input: o.input, env: o.env, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args[0] ?? ''} failed (${r.signal ?? `exit ${r.status}`}): ${(r.stderr || r.stdout).trim()}`,
    );
  return r.stdout;
}

const idOf = (user: string, flag: '-u' | '-g') => Number(run('id', [flag, user]).trim());
const userExists = (user: string) => spawnSync('id', ['-u', user]).status === 0;

/** The OS user to run PostgreSQL as: undefined when we are not root (it runs as us). */
export function pgOsUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (process.env.SUCCESSOVER_PG_USER) return process.env.SUCCESSOVER_PG_USER;
  if (userExists('postgres')) return 'postgres';
  if (!userExists(OWN_USER))
    run('useradd', [
      '--system',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      OWN_USER,
    ]);
  return OWN_USER;
}

/** Runs a PostgreSQL program as the instance's OS user. */
function runAs(user: string | undefined, cmd: string, args: string[], input?: string): string {
  return user
    ? run('/usr/bin/setpriv', ['--reuid', user, '--regid', user, '--init-groups', '--', cmd, ...args], {
        input,
      })
    : run(cmd, args, { input });
}

/** The password of the temporal role: made once, kept in a 0600 file of the data dir. */
export function dbPassword(dir: string): string {
  const file = pgPaths(dir).password;
  if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('hex') + '\n', { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** Creates the cluster directory once (initdb): the first, "cold", start only. */
export function initCluster(dir: string, pgBin: string, user: string | undefined): boolean {
  const { pgdata, socketDir } = pgPaths(dir);
  if (existsSync(join(pgdata, 'PG_VERSION'))) return false;
  for (const d of [pgdata, socketDir]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    if (user) chownSync(d, idOf(user, '-u'), idOf(user, '-g'));
  }
  // The user must reach its directories through ours (a test's mkdtemp dir is 0700).
  if (user && (statSync(dir).mode & 0o001) === 0) chmodSync(dir, statSync(dir).mode | 0o711);
  // Local connections are trusted: the socket directory is 0700, so only that OS user and root
  // reach them. TCP needs a password; the superuser's is random and thrown away (it never uses TCP).
  const pwfile = join(socketDir, '.initdb-password');
  writeFileSync(pwfile, randomBytes(18).toString('hex') + '\n', { mode: 0o600 });
  if (user) chownSync(pwfile, idOf(user, '-u'), idOf(user, '-g'));
  try {
    runAs(user, join(pgBin, 'initdb'), [
      ...['-D', pgdata, '-U', SUPERUSER, '-E', 'UTF8', '--no-instructions'],
      ...['--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`],
    ]);
  } finally {
    rmSync(pwfile, { force: true });
  }
  return true;
}

export interface PgStart {
  dir: string;
  pgBin: string;
  port: number;
  user: string | undefined;
  tied?: boolean;
  timeoutMs: number;
}

/** Starts the postmaster (bound to 127.0.0.1 and its socket dir) and waits until it accepts. */
export async function startPostgres(o: PgStart): Promise<number> {
  const { pgdata, socketDir, log } = pgPaths(o.dir);
  const p = await spawnBackground({
    binary: join(o.pgBin, 'postgres'),
    args: [
      '-D',
      pgdata,
      '-p',
      String(o.port),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
    ],
    logFile: log,
    user: o.user,
    tied: o.tied,
  });
  try {
    await retryUntil(
      `PostgreSQL on port ${o.port} (log ${log})`,
      o.timeoutMs,
      async () => psql(o, 'postgres', 'SELECT 1'),
      p.gone,
    );
  } catch (e) {
    await stopPostgres(o.dir, p.pid);
    throw e;
  }
  return p.pid;
}

/** Runs SQL as the superuser through the socket directory; returns psql's unaligned output. */
export function psql(o: Pick<PgStart, 'dir' | 'pgBin' | 'port'>, db: string, sql: string): string {
  const { socketDir } = pgPaths(o.dir);
  return run(
    join(o.pgBin, 'psql'),
    [
      '-X',
      '-q',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      socketDir,
      '-p',
      String(o.port),
      '-U',
      SUPERUSER,
      '-d',
      db,
      '-f',
      '-',
    ],
    { input: sql },
  ).trim();
}

/** The temporal role (with the data dir's password) and both databases, created when missing. */
export function ensureDatabases(o: Pick<PgStart, 'dir' | 'pgBin' | 'port'>): void {
  const pw = dbPassword(o.dir);
  const create = Object.values(DATABASES)
    .map(
      (db) =>
        `SELECT 'CREATE DATABASE ${db} OWNER ${DB_USER}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')\\gexec`,
    )
    .join('\n');
  psql(
    o,
    'postgres',
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN CREATE ROLE ${DB_USER} LOGIN; END IF;
     END $$;
     ALTER ROLE ${DB_USER} PASSWORD '${pw}';
     ${create}`,
  );
}

/** A database's schema version as the schema tool records it, or undefined before setup-schema. */
export function schemaVersion(o: Pick<PgStart, 'dir' | 'pgBin' | 'port'>, db: string): string | undefined {
  const has = psql(o, db, "SELECT to_regclass('public.schema_version') IS NOT NULL");
  if (has !== 't') return undefined;
  return (
    psql(
      o,
      db,
      `SELECT curr_version FROM schema_version WHERE version_partition = 0 AND db_name = '${db}'`,
    ) || undefined
  );
}

/**
 * Brings a database's schema to the versioned dir's latest with temporal-sql-tool: setup-schema
 * at 0.0 the first time, then update-schema (what Temporal documents for a SQL store).
 */
export function migrateSchema(
  o: Pick<PgStart, 'dir' | 'pgBin' | 'port'>,
  sqlTool: string,
  db: string,
  versionedDir: string,
  latest: string,
): 'current' | 'migrated' {
  const have = schemaVersion(o, db);
  if (have === latest) return 'current';
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: '127.0.0.1',
    SQL_PORT: String(o.port),
    SQL_USER: DB_USER,
    SQL_PASSWORD: dbPassword(o.dir),
    SQL_DATABASE: db,
  };
  if (have === undefined) run(sqlTool, ['setup-schema', '-v', '0.0'], { env });
  run(sqlTool, ['update-schema', '-d', versionedDir], { env });
  return 'migrated';
}

/** Fast shutdown (SIGINT: open transactions roll back, nothing committed is lost). */
export async function stopPostgres(dir: string, pid: number | undefined): Promise<boolean> {
  return stopProcess(pid, pgMarks(dir), 'SIGINT', 30_000);
}

export const pgRunning = (dir: string, pid: number | undefined) => isOurProcess(pid, pgMarks(dir));
export const pgLogTail = (dir: string) => logTail(pgPaths(dir).log);
