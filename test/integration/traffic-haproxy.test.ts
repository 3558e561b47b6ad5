// The HAProxy router against a real haproxy: own config, stats socket at level admin, a writer
// backend with two servers that are dummy listeners started here (unix sockets: no ports to clash).
// The master-master pair (seed 003) runs on a second haproxy configured by the lab's writer.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createConnection,
  createServer,
  type AddressInfo,
  type NetConnectOpts,
  type Server,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { validateInventory, type Cluster } from '../../domain/inventory';
import { createRouter, type TrafficRouter } from '../../activities/traffic/router';
import { WRITER_BACKEND, writeHaproxyConfig } from '../../lab/haproxy';
import { enabledServers } from '../../lab/runtimeApi';

// unref: a sleep that lost a race must not keep jest alive.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
let dir = '';
let haproxy: ChildProcess | undefined;
const servers: Server[] = [];

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApplicationFailure) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

/** Opens a session through the HAProxy frontend and returns it with the first line the server sent. */
function session(
  to: NetConnectOpts = { path: join(dir, 'front.sock') },
): Promise<{ socket: Socket; name: string }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(to);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve({ socket, name: buf.trim() });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`session closed before a greeting (got "${buf}")`)));
  });
}

function cluster(runtimeApi: string, hostNames = ['alpha', 'beta']): Cluster {
  const r = validateInventory({
    clusters: [
      {
        name: 'sosh',
        flavor: 'mysql',
        hosts: hostNames.map((name, i) => ({ name, address: `192.0.2.${i + 1}` })),
        traffic: { type: 'haproxy', runtimeApi, backend: 'writer', servers: { alpha: 'db1', beta: 'db2' } },
      },
    ],
    credentials: { mysql: { user: 'x', passwordEnv: 'X' }, replication: { user: 'y', passwordEnv: 'Y' } },
  });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.inventory.clusters[0];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'soshhap-'));
  for (const name of ['db1', 'db2']) {
    // Each dummy database greets with its name and keeps the session open.
    const srv = createServer((s) => {
      s.on('error', () => undefined);
      s.write(`${name}\n`);
    });
    await new Promise<void>((r) => srv.listen(join(dir, `${name}.sock`), r));
    servers.push(srv);
  }
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    [
      'global',
      `  stats socket ${join(dir, 'admin.sock')} level admin`,
      'defaults',
      '  mode tcp',
      '  timeout connect 1s',
      '  timeout client 30s',
      '  timeout server 30s',
      'listen writer',
      `  bind unix@${join(dir, 'front.sock')}`,
      `  server db1 unix@${join(dir, 'db1.sock')}`,
      // The standby starts disabled, as a writer backend usually has it.
      `  server db2 unix@${join(dir, 'db2.sock')} disabled`,
      '',
    ].join('\n'),
  );
  haproxy = spawn('haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db'], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  while (!existsSync(join(dir, 'admin.sock')) || !existsSync(join(dir, 'front.sock'))) {
    if (Date.now() > until || haproxy.exitCode !== null) throw new Error('haproxy did not start');
    await sleep(50);
  }
});

afterAll(async () => {
  if (haproxy?.pid && haproxy.exitCode === null) {
    const exited = new Promise((r) => haproxy?.once('exit', r));
    haproxy.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('HAProxy router', () => {
  it('detaches with maint + session shutdown, attaches with ready, and reads the state back', async () => {
    const router = createRouter(cluster(`unix:${join(dir, 'admin.sock')}`));
    expect(await router.holders()).toEqual({ holders: ['alpha'], unknown: [] });

    const writer = await session();
    expect(writer.name).toBe('db1');
    const cut = new Promise<void>((r) => writer.socket.once('close', () => r()));

    const detached = await router.detach('alpha');
    expect(detached).toMatchObject({ host: 'alpha', op: 'detach', ok: true, changed: true, routed: false });
    expect(detached.detail).toBe('writer/db1 MAINT (active, weight 1): no server takes new connections');
    // The open session of a client still writing to the old primary is cut.
    await Promise.race([
      cut,
      sleep(2000).then(() => Promise.reject(new Error('session to db1 not shut down'))),
    ]);
    expect(await router.detach('alpha')).toMatchObject({ ok: true, changed: false });
    expect((await router.holders()).holders).toEqual([]);

    expect(await router.attach('beta')).toMatchObject({ ok: true, changed: true, routed: true });
    expect(await router.attach('beta')).toMatchObject({ ok: true, changed: false, routed: true });
    expect((await router.holders()).holders).toEqual(['beta']);
    const next = await session();
    expect(next.name).toBe('db2');
    next.socket.destroy();
  });

  it('plan() lists the runtime API commands it runs', () => {
    const api = `unix:${join(dir, 'admin.sock')}`;
    expect(createRouter(cluster(api)).plan('detach', 'beta')).toEqual([
      { on: `haproxy ${api}`, command: 'set server writer/db2 state maint' },
      { on: `haproxy ${api}`, command: 'shutdown sessions server writer/db2' },
      { on: `haproxy ${api}`, command: 'show stat writer 4 -1' },
    ]);
  });

  it('a host with no server in the backend is a configuration error naming the servers', async () => {
    const router = createRouter(cluster(`unix:${join(dir, 'admin.sock')}`, ['alpha', 'beta', 'gamma']));
    const f = await failure(router.attach('gamma'));
    expect(f.type).toBe('BadConfiguration');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/no server "gamma" \(it has db1, db2\)/);
  });

  it('an unreachable runtime API is retryable, and reported in best-effort mode', async () => {
    const router = createRouter(cluster(`unix:${join(dir, 'missing.sock')}`));
    const f = await failure(router.detach('alpha'));
    expect(f.type).toBe('Unreachable');
    expect(f.nonRetryable).toBe(false);
    const r = await router.detach('alpha', { bestEffort: true });
    expect(r).toMatchObject({ ok: false, changed: false, routed: false });
    expect(r.detail).toMatch(/ENOENT/);
  });
});

// A master-master pair as seed 003 has it, configured by the lab's writer (lab/haproxy.ts): db1
// active, db2 `backup`, both enabled, no health checks. The databases are TCP greeters on free ports.
describe('HAProxy router on a master-master pair (backup standby)', () => {
  let pairDir = '';
  let pairHaproxy: ChildProcess | undefined;
  const greeters: Server[] = [];
  let writer: NetConnectOpts = { port: 0 };
  let socket = '';

  const listenTcp = (srv: Server) =>
    new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));

  function pairCluster(backend = WRITER_BACKEND): Cluster {
    const r = validateInventory({
      clusters: [
        {
          name: 'pair',
          flavor: 'mariadb',
          hosts: ['db1', 'db2'].map((name, i) => ({ name, address: `192.0.2.${i + 1}` })),
          traffic: { type: 'haproxy', runtimeApi: `unix:${socket}`, backend },
        },
      ],
      credentials: { mysql: { user: 'x', passwordEnv: 'X' }, replication: { user: 'y', passwordEnv: 'Y' } },
    });
    if (!r.ok) throw new Error(r.problems.join('; '));
    return r.inventory.clusters[0];
  }

  beforeAll(async () => {
    pairDir = mkdtempSync(join(tmpdir(), 'soshpair-'));
    const ports: number[] = [];
    for (const name of ['db1', 'db2']) {
      const srv = createServer((s) => {
        s.on('error', () => undefined);
        s.write(`${name}\n`);
      });
      greeters.push(srv);
      ports.push(await listenTcp(srv));
    }
    // A free port for the writer frontend: taken, released, then bound by haproxy.
    const probe = createServer();
    const writerPort = await listenTcp(probe);
    await new Promise((r) => probe.close(r));
    writer = { host: '127.0.0.1', port: writerPort };
    socket = join(pairDir, 'haproxy.sock');
    const cfg = {
      configFile: join(pairDir, 'haproxy.cfg'),
      pidFile: join(pairDir, 'haproxy.pid'),
      socket,
      writerPort,
      servers: [
        { name: 'db1', address: '127.0.0.1', port: ports[0], enabled: true },
        { name: 'db2', address: '127.0.0.1', port: ports[1], enabled: true, backup: true },
      ],
    };
    writeHaproxyConfig(cfg);
    expect(readFileSync(cfg.configFile, 'utf8')).toMatch(/server db2 127\.0\.0\.1:\d+ .* backup\n/);
    // The lab's arguments (lab/haproxy.ts startHaproxy), as our child so afterAll can stop it.
    pairHaproxy = spawn('haproxy', ['-W', '-db', '-f', cfg.configFile], { stdio: 'ignore' });
    const until = Date.now() + 10_000;
    while ((await enabledServers(socket, WRITER_BACKEND).catch(() => [])).length === 0) {
      if (Date.now() > until || pairHaproxy.exitCode !== null)
        throw new Error('haproxy (pair) did not start');
      await sleep(50);
    }
  });

  afterAll(async () => {
    if (pairHaproxy?.pid && pairHaproxy.exitCode === null) {
      const exited = new Promise((r) => pairHaproxy?.once('exit', r));
      pairHaproxy.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (pairHaproxy.exitCode === null) pairHaproxy.kill('SIGKILL');
    }
    await Promise.all(greeters.map((s) => new Promise((r) => s.close(r))));
    if (pairDir) rmSync(pairDir, { recursive: true, force: true });
  });

  /** holders(), the lab's helper and a new connection through the frontend all name the writer. */
  async function expectWriter(router: TrafficRouter, host: string): Promise<void> {
    expect(await router.holders()).toEqual({ holders: [host], unknown: [] });
    expect(await enabledServers(socket, WRITER_BACKEND)).toEqual([host]);
    const s = await session(writer);
    s.socket.destroy();
    expect(s.name).toBe(host);
  }

  it('moves the writer back and forth 3 times: the backup is routed by the detach, the active by the attach', async () => {
    const router = createRouter(pairCluster());
    await expectWriter(router, 'db1');
    expect(router.plan('attach', 'db2').map((c) => c.command)).toEqual([
      `set server ${WRITER_BACKEND}/db2 state ready`,
      `show stat ${WRITER_BACKEND} 4 -1`,
    ]);
    for (let round = 1; round <= 3; round++) {
      // To db2: ready as a backup, but db1 (active) keeps the new connections until detached.
      const toStandby = await router.attach('db2');
      expect(toStandby).toMatchObject({ ok: true, changed: round > 1, routed: false });
      expect(toStandby.detail).toBe(
        `${WRITER_BACKEND}/db2 no check (backup, weight 1): ready as a backup; new connections go to db1 until the active server is detached`,
      );
      await expectWriter(router, 'db1');
      const open = await session(writer);
      const cut = new Promise<void>((r) => open.socket.once('close', () => r()));
      const offPrimary = await router.detach('db1');
      expect(offPrimary).toMatchObject({ ok: true, changed: true, routed: false });
      expect(offPrimary.detail).toBe(
        `${WRITER_BACKEND}/db1 MAINT (active, weight 1): new connections go to db2`,
      );
      await Promise.race([
        cut,
        sleep(2000).then(() => Promise.reject(new Error('session to db1 not shut down'))),
      ]);
      await expectWriter(router, 'db2');

      // Back to db1: the active server takes the new connections as soon as it is ready.
      const back = await router.attach('db1');
      expect(back).toMatchObject({ ok: true, changed: true, routed: true });
      expect(back.detail).toBe(`${WRITER_BACKEND}/db1 no check (active, weight 1): takes new connections`);
      await expectWriter(router, 'db1');
      const offStandby = await router.detach('db2');
      expect(offStandby).toMatchObject({ ok: true, changed: true, routed: false });
      await expectWriter(router, 'db1');
    }
  });

  it('a backend HAProxy does not have is a configuration error naming it', async () => {
    const f = await failure(createRouter(pairCluster('nope')).holders());
    expect(f.type).toBe('BadConfiguration');
    expect(f.message).toMatch(
      /show stat nope 4 -1: unexpected answer.*No such proxy.*check traffic\.backend/,
    );
  });
});
