// The HAProxy router against a real haproxy: own config, stats socket at level admin, a writer
// backend with two servers that are dummy listeners started here (unix sockets: no ports to clash).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { validateInventory, type Cluster } from '../../domain/inventory';
import { createRouter } from '../../activities/traffic/router';

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
function session(): Promise<{ socket: Socket; name: string }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: join(dir, 'front.sock') });
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
    expect(detached).toMatchObject({ host: 'alpha', op: 'detach', ok: true, changed: true });
    expect(detached.detail).toMatch(/^writer\/db1 maint/);
    // The open session of a client still writing to the old primary is cut.
    await Promise.race([
      cut,
      sleep(2000).then(() => Promise.reject(new Error('session to db1 not shut down'))),
    ]);
    expect(await router.detach('alpha')).toMatchObject({ ok: true, changed: false });
    expect((await router.holders()).holders).toEqual([]);

    expect(await router.attach('beta')).toMatchObject({ ok: true, changed: true });
    expect(await router.attach('beta')).toMatchObject({ ok: true, changed: false });
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
      { on: `haproxy ${api}`, command: 'show servers state writer' },
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
    expect(r).toMatchObject({ ok: false, changed: false });
    expect(r.detail).toMatch(/ENOENT/);
  });
});
