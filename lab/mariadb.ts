// mariadbd instances of the lab: data directories, server options, start, and the SQL that
// turns N empty servers into one GTID replication topology. The lab talks to each server
// through its unix socket as root: sockets are files, so this works from the root namespace
// and even while a host is partitioned.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { daemon, isOurs, run, waitFor } from './sh';
import { findBinary } from './bin';

export const isRoot = () => typeof process.geteuid === 'function' && process.geteuid() === 0;

// Small InnoDB files: the lab is many servers on one small machine, and install/start are faster.
const SIZING = ['--innodb-log-file-size=16M', '--innodb-buffer-pool-size=64M'];
/** ServerConfig.small: after SIZING, so these win. The Aria page cache and log buffer are the bulk. */
const SMALL = [
  '--innodb-buffer-pool-size=16M',
  '--innodb-log-buffer-size=2M',
  '--aria-pagecache-buffer-size=8M',
  '--key-buffer-size=8M',
];

/** One mariadb-install-db; the other hosts get a copy (install is the slow part of `lab up`). */
export async function installTemplate(datadir: string): Promise<void> {
  await run(
    [
      findBinary('mariadb-install-db'),
      '--no-defaults',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      `--datadir=${datadir}`,
      // The bootstrap's temporary tables in the host's own dir, not in /tmp shared with every
      // other lab and test: there one failed with "Unknown table 'mysql.tmp_user_sys'".
      `--tmpdir=${dirname(datadir)}`,
      ...(isRoot() ? ['--user=root'] : []),
      ...SIZING,
    ],
    { timeoutMs: 60_000 },
  );
}

export function copyDatadir(template: string, datadir: string): void {
  if (existsSync(datadir)) throw new Error(`${datadir} exists already`);
  cpSync(template, datadir, { recursive: true });
}

export interface ServerConfig {
  serverId: number;
  /**
   * The host's option file (the only one read: no my.cnf of the machine leaks in). It says
   * read_only=1, as every node's configuration should, and includes `optionDir`.
   */
  optionFile: string;
  /** Read after the base options: the inventory's optionFile, successover's to write, lives here. */
  optionDir: string;
  datadir: string;
  socket: string;
  pidFile: string;
  logError: string;
  bindAddress: string;
  port: number;
  reportHost: string;
  semiSync: boolean;
  /**
   * Smaller caches, for a fleet's many servers holding a few rows each: about 55 MB RSS instead
   * of 100 (measured on 10.11). Absent in older state files: the lab's sizes.
   */
  small?: boolean;
}

/** The file successover writes read_only to (the inventory's host.optionFile). */
export const successoverOptionFile = (c: ServerConfig) => join(c.optionDir, 'zz-successover.cnf');

/**
 * The host's option file and its include directory. `readOnly: false` writes what many real
 * servers have: a configuration that does not say read_only (a test restarts a crashed primary so).
 */
export function writeOptionFile(c: ServerConfig, { readOnly = true }: { readOnly?: boolean } = {}): void {
  mkdirSync(c.optionDir, { recursive: true });
  const lines = [
    '# Written by the lab. Options on the command line (lab/mariadb.ts) come on top of these.',
    '[mysqld]',
    // Every node starts read-only; only a runbook (or lab up, once) makes the primary writable.
    ...(readOnly ? ['read_only=1'] : []),
    `!includedir ${c.optionDir}`,
  ];
  writeFileSync(c.optionFile, `${lines.join('\n')}\n`);
}

/** The server's options. `--defaults-file` must come first: no my.cnf of the machine leaks in. */
export function serverArgs(c: ServerConfig): string[] {
  return [
    findBinary('mariadbd'),
    `--defaults-file=${c.optionFile}`,
    ...(isRoot() ? ['--user=root'] : []),
    `--datadir=${c.datadir}`,
    `--socket=${c.socket}`,
    `--pid-file=${c.pidFile}`,
    `--log-error=${c.logError}`,
    // All of the namespace's addresses: bound to the host address only, the VIP is refused.
    `--bind-address=${c.bindAddress}`,
    `--port=${c.port}`,
    `--server-id=${c.serverId}`,
    '--log-bin=mariadb-bin',
    '--relay-log=relay-bin',
    '--binlog-format=ROW',
    '--log-slave-updates=1',
    '--gtid-strict-mode=1',
    // With MASTER_HEARTBEAT_PERIOD=1, a cut link is noticed in about 4 s instead of an hour.
    '--slave-net-timeout=4',
    `--report-host=${c.reportHost}`,
    `--report-port=${c.port}`,
    '--skip-name-resolve',
    '--max-connections=300',
    // Semi-sync on every node (any may become the primary). wait_no_slave=0: a node with no
    // semi-sync replica connected does not wait; without it a replica's own SQL thread waits 10 s
    // for acknowledgements from replicas it does not have, on every replicated transaction.
    ...(c.semiSync
      ? [
          '--rpl-semi-sync-master-enabled=1',
          '--rpl-semi-sync-slave-enabled=1',
          '--rpl-semi-sync-master-wait-no-slave=0',
        ]
      : []),
    ...SIZING,
    ...(c.small ? SMALL : []),
  ];
}

/** Starts mariadbd (inside the namespace when given) and returns its pid. */
export function startServer(c: ServerConfig, netns: string | null): number {
  if (!existsSync(c.optionFile)) writeOptionFile(c);
  const argv = serverArgs(c);
  return daemon(netns ? [findBinary('ip'), 'netns', 'exec', netns, ...argv] : argv, `${c.logError}.out`);
}

export async function connectRoot(socket: string, connectTimeout = 2000): Promise<Connection> {
  return createConnection({ socketPath: socket, user: 'root', connectTimeout, multipleStatements: false });
}

export async function withRoot<T>(socket: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = await connectRoot(socket);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

export async function waitServer(
  socket: string,
  pid: number,
  marker: string,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(
    `mariadbd on ${socket}`,
    async () => {
      if (!isOurs(pid, marker))
        throw new Error(`mariadbd (pid ${pid}) exited: see its error log next to the socket`);
      const c = await connectRoot(socket, 500);
      await c.end();
      return true;
    },
    timeoutMs,
  );
}

export interface Accounts {
  admin: { user: string; password: string };
  replication: { user: string; password: string };
  app: { user: string; password: string; database: string };
}

/** Accounts without binlog events, so every host's GTID state is empty before replication starts. */
export async function createAccounts(c: Connection, a: Accounts): Promise<void> {
  await c.query('SET SESSION sql_log_bin=0');
  await c.query('CREATE USER ?@? IDENTIFIED BY ?', [a.admin.user, '%', a.admin.password]);
  await c.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [a.admin.user, '%']);
  await c.query('CREATE USER ?@? IDENTIFIED BY ?', [a.replication.user, '%', a.replication.password]);
  await c.query('GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO ?@?', [
    a.replication.user,
    '%',
  ]);
  await c.query('CREATE USER ?@? IDENTIFIED BY ?', [a.app.user, '%', a.app.password]);
  // Privileges on its own database only: no READ ONLY ADMIN, so read_only stops it.
  await c.query(`GRANT ALL PRIVILEGES ON ${c.escapeId(a.app.database)}.* TO ?@?`, [a.app.user, '%']);
  await c.query('SET SESSION sql_log_bin=1');
}

export async function replicateFrom(
  c: Connection,
  source: { host: string; port: number },
  repl: { user: string; password: string },
): Promise<void> {
  await c.query(
    'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, ' +
      'MASTER_USE_GTID=slave_pos, MASTER_HEARTBEAT_PERIOD=1, MASTER_CONNECT_RETRY=1',
    [source.host, source.port, repl.user, repl.password],
  );
  await c.query('START SLAVE');
}

export interface ServerFacts {
  readOnly: boolean;
  gtidCurrentPos: string;
  gtidBinlogPos: string;
  replica: { ioRunning: string; sqlRunning: string; masterHost: string; lastError: string } | null;
}

export async function facts(c: Connection): Promise<ServerFacts> {
  const [vars] = await c.query<RowDataPacket[]>(
    'SELECT @@global.read_only AS ro, @@global.gtid_current_pos AS cur, @@global.gtid_binlog_pos AS bin',
  );
  const [slave] = await c.query<RowDataPacket[]>('SHOW SLAVE STATUS');
  const s = slave[0];
  return {
    readOnly: Number(vars[0].ro) === 1,
    gtidCurrentPos: String(vars[0].cur),
    gtidBinlogPos: String(vars[0].bin),
    replica: s
      ? {
          ioRunning: String(s.Slave_IO_Running),
          sqlRunning: String(s.Slave_SQL_Running),
          masterHost: String(s.Master_Host),
          lastError: [s.Last_IO_Error, s.Last_SQL_Error].filter(Boolean).join('; '),
        }
      : null,
  };
}
