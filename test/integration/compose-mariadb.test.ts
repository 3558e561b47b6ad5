// The compose topology's MariaDB scripts, run for real without Docker: deploy/compose/init.sh
// makes the secrets, the image's init phase is replayed on three real mariadbd with the
// project's configuration files (temporary server without networking, root password, then
// mariadb/initdb.d/10-successover.sh), and deploy/compose/bootstrap.sh makes db1 the primary.
// Hosts are named db1..db3 as in Compose, through a private /etc/hosts in a mount namespace
// that only these processes see; each server listens on port 3306 of its own loopback address.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';

const COMPOSE = resolve(__dirname, '..', '..', 'deploy', 'compose');
const HOSTS = ['db1', 'db2', 'db3'] as const;
type Host = (typeof HOSTS)[number];
const isRoot = process.getuid?.() === 0;

// A /24 of loopback addresses of our own, so a concurrent run does not collide.
const NET = `127.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}`;
const addressOf = (h: Host) => `${NET}.${HOSTS.indexOf(h) + 1}`;

let dir: string;
let holder: ChildProcess | undefined;
const servers = new Map<Host, ChildProcess>();
const secret = (name: string) => readFileSync(join(dir, 'secrets', name), 'utf8').trim();

/** Runs a command inside the mount namespace (nsenter into the holder's). */
function inNamespace(argv: string[], env: Record<string, string> = {}) {
  const r = spawnSync('nsenter', ['-t', String(holder?.pid), '-m', ...argv], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const socketOf = (h: Host) => join(dir, `${h}.sock`);

function configFile(h: Host): string {
  const file = join(dir, `${h}.cnf`);
  const own = [
    '[mariadb]',
    `datadir = ${join(dir, `${h}-data`)}`,
    `socket = ${socketOf(h)}`,
    `pid-file = ${join(dir, `${h}.pid`)}`,
    `log-error = ${join(dir, `${h}.err`)}`,
    `bind-address = ${addressOf(h)}`,
    'port = 3306',
    'user = root',
    // Small: three servers in a test.
    'innodb_buffer_pool_size = 32M',
    'innodb_log_file_size = 16M',
  ];
  writeFileSync(
    file,
    [
      readFileSync(join(COMPOSE, 'mariadb', 'replication.cnf'), 'utf8'),
      readFileSync(join(COMPOSE, 'mariadb', `${h}.cnf`), 'utf8'),
      own.join('\n'),
    ].join('\n'),
  );
  return file;
}

async function startServer(h: Host, extra: string[] = []): Promise<void> {
  const p = spawn(
    'nsenter',
    ['-t', String(holder?.pid), '-m', 'mariadbd', `--defaults-file=${configFile(h)}`, ...extra],
    {
      stdio: 'ignore',
    },
  );
  servers.set(h, p);
  await until(`${h} to answer`, async () => {
    if (p.exitCode !== null)
      throw new Error(`${h} exited: ${readFileSync(join(dir, `${h}.err`), 'utf8').slice(-2000)}`);
    const c = await rootConnection(h, 500);
    await c.end();
    return true;
  });
}

async function stopServer(h: Host): Promise<void> {
  const p = servers.get(h);
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}

let rootPassword = '';
const rootConnection = (h: Host, connectTimeout = 2000) =>
  createConnection({ socketPath: socketOf(h), user: 'root', password: rootPassword, connectTimeout });
const adminConnection = (h: Host) =>
  createConnection({
    host: addressOf(h),
    port: 3306,
    user: 'successover',
    password: secret('successover-mysql.pw'),
  });

async function one<T>(c: Connection, sql: string): Promise<T> {
  const [rows] = await c.query<RowDataPacket[]>(sql);
  return Object.values(rows[0] ?? {})[0] as T;
}
async function onEach<T>(sql: string): Promise<Record<Host, T>> {
  const out = {} as Record<Host, T>;
  for (const h of HOSTS) {
    const c = await adminConnection(h);
    try {
      out[h] = await one<T>(c, sql);
    } finally {
      await c.end();
    }
  }
  return out;
}
async function slaveStatus(h: Host): Promise<RowDataPacket | undefined> {
  const c = await adminConnection(h);
  try {
    const [rows] = await c.query<RowDataPacket[]>('SHOW SLAVE STATUS');
    return rows[0];
  } finally {
    await c.end();
  }
}
const bootstrap = () =>
  inNamespace(['bash', join(COMPOSE, 'bootstrap.sh')], {
    SUCCESSOVER_SECRETS: join(dir, 'secrets'),
    SUCCESSOVER_BOOTSTRAP_STATE: join(dir, 'bootstrap'),
  });

(isRoot ? describe : describe.skip)('compose MariaDB scripts on real servers', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'successover-compose-'));
    spawnSync('mkdir', ['-p', join(dir, 'bootstrap')]);
    writeFileSync(
      join(dir, 'hosts'),
      `127.0.0.1 localhost\n${HOSTS.map((h) => `${addressOf(h)} ${h}`).join('\n')}\n`,
    );
    holder = spawn(
      'unshare',
      ['-m', 'sh', '-c', `mount --bind ${join(dir, 'hosts')} /etc/hosts && exec sleep 3600`],
      {
        stdio: 'ignore',
      },
    );
    await until(
      'the mount namespace',
      async () => inNamespace(['getent', 'hosts', 'db1']).output.includes(addressOf('db1')) || undefined,
    );
    for (const pass of [1, 2]) {
      const r = inNamespace(['bash', join(COMPOSE, 'init.sh')], {
        SUCCESSOVER_SECRETS: join(dir, 'secrets'),
      });
      expect([pass, r.status]).toEqual([pass, 0]);
    }
    const install = spawnSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--user=root',
        `--datadir=${join(dir, 'template')}`,
        '--skip-log-bin',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(install.status).toBe(0);
    // The image's first start: a temporary server without networking, the root password, then
    // the init script as the image runs it; then the real start.
    for (const h of HOSTS) {
      spawnSync('cp', ['-a', join(dir, 'template'), join(dir, `${h}-data`)]);
      rootPassword = '';
      await startServer(h, ['--skip-networking']);
      const c = await rootConnection(h);
      await c.query('SET SESSION sql_log_bin = 0');
      await c.query("SET PASSWORD FOR 'root'@'localhost' = PASSWORD(?)", [secret('mariadb-root.pw')]);
      await c.end();
      const r = inNamespace(['bash', join(COMPOSE, 'mariadb', 'initdb.d', '10-successover.sh')], {
        SOCKET: socketOf(h),
        MARIADB_ROOT_PASSWORD: secret('mariadb-root.pw'),
        SUCCESSOVER_SECRETS: join(dir, 'secrets'),
        SUCCESSOVER_SOURCE: h === 'db1' ? '' : 'db1',
      });
      expect([h, r.status, r.output]).toEqual([h, 0, expect.stringContaining('accounts created')]);
      await stopServer(h);
    }
    rootPassword = secret('mariadb-root.pw');
    for (const h of HOSTS) await startServer(h);
  });

  afterAll(async () => {
    for (const h of HOSTS) await stopServer(h).catch(() => undefined);
    holder?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('init.sh makes every secret once and keeps it on the next start', () => {
    for (const name of [
      'mariadb-root.pw',
      'successover-mysql.pw',
      'replication.pw',
      'exporter.pw',
      'webhook-token',
    ])
      expect([name, secret(name)]).toEqual([name, expect.stringMatching(/^[0-9a-f]{48}$/)]);
    expect(new Set(['mariadb-root.pw', 'successover-mysql.pw', 'replication.pw'].map(secret)).size).toBe(3);
    expect(readFileSync(join(dir, 'secrets', 'exporter.cnf'), 'utf8')).toBe(
      `[client]\nuser = exporter\npassword = ${secret('exporter.pw')}\n`,
    );
  });

  it('every node starts read-only with an empty GTID state', async () => {
    expect(await onEach<number>('SELECT @@global.read_only')).toEqual({ db1: 1, db2: 1, db3: 1 });
    expect(await onEach<string>('SELECT @@global.gtid_binlog_pos')).toEqual({ db1: '', db2: '', db3: '' });
    expect(await onEach<number>('SELECT @@global.server_id')).toEqual({ db1: 1, db2: 2, db3: 3 });
  });

  it('bootstrap.sh makes db1 the primary once db2 and db3 replicate from it with GTIDs', async () => {
    const r = bootstrap();
    expect([r.status, r.output]).toEqual([0, expect.stringContaining('db1 is the writable primary')]);
    expect(await onEach<number>('SELECT @@global.read_only')).toEqual({ db1: 0, db2: 1, db3: 1 });
    for (const h of ['db2', 'db3'] as const) {
      const s = await slaveStatus(h);
      expect([h, s?.Master_Host, s?.Using_Gtid, s?.Slave_IO_Running, s?.Slave_SQL_Running]).toEqual([
        h,
        'db1',
        'Slave_Pos',
        'Yes',
        'Yes',
      ]);
    }
    expect(await slaveStatus('db1')).toBeUndefined();
    const c = await adminConnection('db1');
    await c.query('CREATE DATABASE compose_test');
    await c.query('CREATE TABLE compose_test.t (id INT PRIMARY KEY)');
    await c.query('INSERT INTO compose_test.t VALUES (1)');
    const pos = await one<string>(c, 'SELECT @@global.gtid_binlog_pos');
    await c.end();
    expect(pos).toMatch(/^0-1-\d+$/);
    await until('replicas to apply db1 writes', async () => {
      const p = await onEach<string>('SELECT @@global.gtid_current_pos');
      return (p.db2 === pos && p.db3 === pos) || undefined;
    });
  });

  it('the exporter account reads replication status and cannot write, even on the primary', async () => {
    const exporter = (h: Host) =>
      createConnection({ host: addressOf(h), port: 3306, user: 'exporter', password: secret('exporter.pw') });
    const replica = await exporter('db2');
    try {
      const [rows] = await replica.query<RowDataPacket[]>('SHOW SLAVE STATUS');
      expect(rows[0]?.Slave_IO_Running).toBe('Yes');
    } finally {
      await replica.end();
    }
    const primary = await exporter('db1');
    try {
      expect(await one<number>(primary, 'SELECT @@global.read_only')).toBe(0);
      await expect(primary.query('CREATE DATABASE exporter_may_not')).rejects.toThrow(/denied/i);
    } finally {
      await primary.end();
    }
  });

  it('after a restart every node is read-only again and the bootstrap leaves the roles alone', async () => {
    for (const h of HOSTS) await stopServer(h);
    for (const h of HOSTS) await startServer(h);
    expect(await onEach<number>('SELECT @@global.read_only')).toEqual({ db1: 1, db2: 1, db3: 1 });
    const r = bootstrap();
    expect([r.status, r.output]).toEqual([0, expect.stringContaining('done already')]);
    expect(await onEach<number>('SELECT @@global.read_only')).toEqual({ db1: 1, db2: 1, db3: 1 });
  });
});
