// The SQL activities against real MariaDB servers: a primary and two GTID replicas on loopback
// ports chosen at run time, built with the lab's server helpers, removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import {
  copyDatadir,
  createAccounts,
  installTemplate,
  replicateFrom,
  startServer,
  waitServer,
} from '../../lab/mariadb';
import { killHard, sleep, waitFor } from '../../lab/sh';
import { validateInventory, type Inventory } from '../../domain/inventory';
import type { Secrets } from '../../activities/deps';
import { createSqlActivities, type KillLoopProgress } from '../../activities/sql';

jest.setTimeout(120_000);

const CLUSTER = 'sqlt';
const accounts = {
  admin: { user: 'successover', password: 'adm-pw' },
  replication: { user: 'repl', password: "re'pl\\pw" },
  app: { user: 'app', password: 'app-pw', database: 'app' },
};
const secrets: Secrets = { mysql: accounts.admin, replication: accounts.replication };

let dir = '';
const ports: number[] = [];
const pids: number[] = [];
let sql: ReturnType<typeof createSqlActivities>;
let a: ReturnType<typeof createSqlActivities>['activities'];
const mock = new MockActivityEnvironment();
/** MockActivityEnvironment.run with the activity's own result type. */
const env = {
  run: <P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> =>
    mock.run(fn, ...args) as Promise<R>,
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const socket = (i: number) => join(dir, `db${i + 1}.sock`);
const admin = (i: number) => createConnection({ socketPath: socket(i), user: 'root', connectTimeout: 2000 });
const appConnection = (i: number) =>
  createConnection({ host: '127.0.0.1', port: ports[i], ...accounts.app, connectTimeout: 2000 });

/** On successover's account: the kill loop spares it, so these reads work while it runs. */
async function rows(i: number, q: string): Promise<RowDataPacket[]> {
  const c = await createConnection({
    host: '127.0.0.1',
    port: ports[i],
    ...accounts.admin,
    connectTimeout: 2000,
  });
  try {
    return (await c.query<RowDataPacket[]>(q))[0];
  } finally {
    await c.end();
  }
}

const failureOf = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'so-sqltest-'));
  await installTemplate(join(dir, 'template'));
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    ports.push(port);
    const datadir = join(dir, `db${i + 1}`);
    copyDatadir(join(dir, 'template'), datadir);
    const pid = startServer(
      {
        serverId: i + 1,
        optionFile: join(dir, `db${i + 1}.cnf`),
        optionDir: join(dir, `db${i + 1}.conf.d`),
        datadir,
        socket: socket(i),
        pidFile: join(dir, `db${i + 1}.pid`),
        logError: join(dir, `db${i + 1}.err`),
        bindAddress: '127.0.0.1',
        port,
        reportHost: '127.0.0.1',
        semiSync: false,
      },
      null,
    );
    pids.push(pid);
  }
  await Promise.all(pids.map((pid, i) => waitServer(socket(i), pid, dir)));
  for (let i = 0; i < 3; i++) {
    const c = await admin(i);
    await createAccounts(c, accounts);
    if (i === 0) {
      await c.query('SET GLOBAL read_only=0');
      await c.query('CREATE DATABASE app');
      await c.query('CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))');
    } else await replicateFrom(c, { host: '127.0.0.1', port: ports[0] as number }, accounts.replication);
    await c.end();
  }
  const doc = {
    clusters: [
      {
        name: CLUSTER,
        flavor: 'mariadb',
        primary: 'db1',
        hosts: ports.map((port, i) => ({ name: `db${i + 1}`, address: '127.0.0.1', port })),
      },
    ],
    credentials: {
      mysql: { user: 'successover', passwordEnv: 'X' },
      replication: { user: 'repl', passwordEnv: 'Y' },
    },
  };
  const r = validateInventory(doc);
  if (!r.ok) throw new Error(r.problems.join('\n'));
  const inventory: Inventory = r.inventory;
  sql = createSqlActivities({ inventory, secrets });
  a = sql.activities;
  // Replicas caught up with the schema before any test looks at them.
  await waitFor(
    'replicas to have app.t',
    async () => ((await rows(2, "SHOW TABLES IN app LIKE 't'")).length ? true : undefined),
    20_000,
  );
});

afterAll(async () => {
  await sql?.close();
  for (const pid of pids) await killHard(pid, dir).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('discovery sees the primary and its two replicas', async () => {
  const t = await env.run(a.discoverTopology, { cluster: CLUSTER });
  expect(t.hosts.map((h) => [h.host, h.reachable, h.facts?.readOnly, h.sourceName])).toEqual([
    ['db1', true, false, null],
    ['db2', true, true, 'db1'],
    ['db3', true, true, 'db1'],
  ]);
  for (const h of t.hosts.slice(1)) {
    expect(h.replication).toMatchObject({
      ioRunning: 'yes',
      sqlRunning: 'yes',
      autoPosition: true,
      lastIoErrno: 0,
    });
    expect(h.gtid?.current).toBe(t.hosts[0]?.gtid?.position);
  }
  expect(JSON.stringify(t)).not.toContain(accounts.replication.password);
});

test('read-only toggles, idempotently, and stops the application account', async () => {
  for (let k = 0; k < 2; k++)
    await env.run(a.setReadOnly, { cluster: CLUSTER, host: 'db1', on: true, timeoutSeconds: 2 });
  expect(Number((await rows(0, 'SELECT @@read_only AS ro'))[0]?.ro)).toBe(1);
  const app = await appConnection(0);
  await expect(app.query("INSERT INTO app.t (v) VALUES ('ro')")).rejects.toMatchObject({ errno: 1290 });
  await app.end();
  for (let k = 0; k < 2; k++)
    await env.run(a.setReadOnly, { cluster: CLUSTER, host: 'db1', on: false, timeoutSeconds: 2 });
  expect(Number((await rows(0, 'SELECT @@read_only AS ro'))[0]?.ro)).toBe(0);
});

test('read-only gives up with a non-retryable Timeout when a running write holds the lock', async () => {
  const app = await appConnection(0);
  const write = app.query("INSERT INTO app.t (v) SELECT 'slow' FROM DUAL WHERE SLEEP(3) = 0");
  await sleep(300);
  const started = Date.now();
  const err = await failureOf(
    env.run(a.setReadOnly, { cluster: CLUSTER, host: 'db1', on: true, timeoutSeconds: 1 }),
  );
  expect(err).toMatchObject({ type: 'Timeout', nonRetryable: true });
  expect((err as Error).message).toMatch(/db1/);
  expect(Date.now() - started).toBeLessThan(2500);
  await write;
  await app.end();
  expect(Number((await rows(0, 'SELECT @@read_only AS ro'))[0]?.ro)).toBe(0);
});

test('the kill loop kills clients, spares replication and stops within one interval of cancellation', async () => {
  const intervalMs = 200;
  const loopEnv = new MockActivityEnvironment();
  const beats: KillLoopProgress[] = [];
  loopEnv.on('heartbeat', (d: KillLoopProgress) => beats.push({ ...d }));
  const app: Connection = await appConnection(0);
  const superClient = await admin(0); // root has READ ONLY ADMIN: read_only would not stop it
  const [[own]] = await superClient.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
  app.on('error', () => undefined);
  superClient.on('error', () => undefined);
  const loop = loopEnv.run(a.killSessionsLoop, { cluster: CLUSTER, host: 'db1', intervalMs });
  const settled = failureOf(loop);
  try {
    await waitFor(
      'the application session to be killed',
      () =>
        app.query('SELECT 1').then(
          () => undefined,
          () => true,
        ),
      5000,
    );
    const ids = (await rows(0, 'SELECT ID FROM information_schema.PROCESSLIST')).map((r) => Number(r.ID));
    expect(ids).not.toContain(Number(own?.id));
    // Replication keeps streaming while the loop runs: a write reaches both replicas.
    const writer = await createConnection({ host: '127.0.0.1', port: ports[0], ...accounts.admin });
    await writer.query("INSERT INTO app.t (v) VALUES ('during-loop')");
    await writer.end();
    for (const i of [1, 2])
      await waitFor(
        'the write to replicate',
        async () => ((await rows(i, "SELECT 1 FROM app.t WHERE v='during-loop'")).length ? true : undefined),
        5000,
      );
    const status = await env.run(a.discoverTopology, { cluster: CLUSTER });
    for (const h of status.hosts.slice(1))
      expect(h.replication).toMatchObject({ ioRunning: 'yes', sqlRunning: 'yes' });
    await waitFor('three loop iterations', async () => (beats.length >= 3 ? true : undefined), 5000);
    // The application and the SUPER session: nothing else on db1 was killable.
    expect(beats[beats.length - 1]?.kills).toBe(2);
  } finally {
    const cancelledAt = Date.now();
    loopEnv.cancel();
    const err = await settled;
    const stopMs = Date.now() - cancelledAt;
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(stopMs).toBeLessThan(intervalMs);
    app.destroy();
    superClient.destroy();
  }
});

test('waitUntilApplied: reached, and a non-retryable Timeout', async () => {
  const { position } = await env.run(a.gtidPosition, { cluster: CLUSTER, host: 'db1' });
  expect(position).toMatch(/^0-1-\d+$/);
  for (let k = 0; k < 2; k++)
    await expect(
      env.run(a.waitUntilApplied, { cluster: CLUSTER, host: 'db2', position, timeoutSeconds: 5 }),
    ).resolves.toBe('reached');
  const started = Date.now();
  const err = await failureOf(
    env.run(a.waitUntilApplied, {
      cluster: CLUSTER,
      host: 'db2',
      position: '0-1-999999',
      timeoutSeconds: 0.5,
    }),
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: 'Timeout', nonRetryable: true });
  expect((err as Error).message).toMatch(/db2/);
  expect(Date.now() - started).toBeLessThan(3000);
});

test('long transactions above the threshold are listed', async () => {
  const app = await appConnection(0);
  await app.query('BEGIN');
  await app.query("INSERT INTO app.t (v) VALUES ('long')");
  await sleep(1500);
  const trx = await env.run(a.longTransactions, { cluster: CLUSTER, host: 'db1', thresholdSeconds: 1 });
  expect(trx).toEqual([expect.objectContaining({ user: 'app', db: 'app', rowsModified: 1 })]);
  expect(trx[0]?.seconds).toBeGreaterThanOrEqual(1);
  await app.query('ROLLBACK');
  await app.end();
  // InnoDB refreshes its information_schema transaction cache at most every 100 ms.
  await sleep(200);
  expect(await env.run(a.longTransactions, { cluster: CLUSTER, host: 'db1', thresholdSeconds: 1 })).toEqual(
    [],
  );
});

test('promote db2, repoint db3 and the old primary (demoted), each twice', async () => {
  await env.run(a.setReadOnly, { cluster: CLUSTER, host: 'db1', on: true, timeoutSeconds: 2 });
  const before = await env.run(a.discoverTopology, { cluster: CLUSTER });
  const position = before.hosts[0]?.gtid?.position as string;
  await env.run(a.waitUntilApplied, { cluster: CLUSTER, host: 'db2', position, timeoutSeconds: 5 });

  const p1 = await env.run(a.promote, { cluster: CLUSTER, host: 'db2' });
  expect(p1).toMatchObject({
    changed: true,
    statements: ['STOP SLAVE', 'RESET SLAVE ALL', 'SET GLOBAL read_only=0'],
  });
  expect(await env.run(a.promote, { cluster: CLUSTER, host: 'db2' })).toMatchObject({
    changed: false,
    statements: [],
  });

  const r3 = await env.run(a.repoint, { cluster: CLUSTER, host: 'db3', source: 'db2' });
  expect(r3.changed).toBe(true);
  expect(r3.statements.join(' ')).toContain("MASTER_PASSWORD='***'");
  expect(r3.statements.join(' ')).not.toContain('pw');
  const r1 = await env.run(a.repoint, { cluster: CLUSTER, host: 'db1', source: 'db2', demote: true });
  expect(r1.statements.join(' ')).toContain('MASTER_DEMOTE_TO_SLAVE=1');

  const writer = await createConnection({ host: '127.0.0.1', port: ports[1], ...accounts.app });
  await writer.query("INSERT INTO app.t (v) VALUES ('after-switch')");
  await writer.end();
  for (const i of [0, 2])
    await waitFor(
      "the new primary's write to replicate",
      async () => ((await rows(i, "SELECT 1 FROM app.t WHERE v='after-switch'")).length ? true : undefined),
      10_000,
    );

  expect(await env.run(a.repoint, { cluster: CLUSTER, host: 'db3', source: 'db2' })).toMatchObject({
    changed: false,
  });
  expect(
    await env.run(a.repoint, { cluster: CLUSTER, host: 'db1', source: 'db2', demote: true }),
  ).toMatchObject({
    changed: false,
  });

  const after = await env.run(a.discoverTopology, { cluster: CLUSTER });
  expect(after.hosts.filter((h) => h.facts?.readOnly === false).map((h) => h.host)).toEqual(['db2']);
  for (const h of after.hosts.filter((x) => x.host !== 'db2')) {
    expect(h.sourceName).toBe('db2');
    expect(h.replication).toMatchObject({
      ioRunning: 'yes',
      sqlRunning: 'yes',
      lastIoErrno: 0,
      lastSqlErrno: 0,
    });
  }
});

test('an unreachable host is reported by discovery, and named in a classified failure', async () => {
  const dead = await freePort();
  const r = validateInventory({
    clusters: [
      {
        name: 'half',
        flavor: 'mariadb',
        hosts: [
          { name: 'up', address: '127.0.0.1', port: ports[0] },
          { name: 'gone', address: '127.0.0.1', port: dead },
        ],
      },
    ],
    credentials: {
      mysql: { user: 'successover', passwordEnv: 'X' },
      replication: { user: 'repl', passwordEnv: 'Y' },
    },
  });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  const s = createSqlActivities({ inventory: r.inventory, secrets });
  try {
    const t = await env.run(s.activities.discoverTopology, { cluster: 'half' });
    expect(t.hosts.map((h) => h.reachable)).toEqual([true, false]);
    expect(t.hosts[1]?.error).toMatch(/discover on gone/);
    const err = await failureOf(env.run(s.activities.promote, { cluster: 'half', host: 'gone' }));
    expect(err).toMatchObject({ type: 'Unreachable', nonRetryable: false });
    expect((err as Error).message).toMatch(/promote on gone/);
  } finally {
    await s.close();
  }
});
