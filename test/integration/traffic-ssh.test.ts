// SshPool and the VIP router against real parts: two network namespaces on a bridge of their own,
// each with a real sshd (own config, host key, pid file), the VIP moved between them over SSH.
// Needs root (namespaces); everything created carries the "sosh" prefix and is removed afterwards.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { validateInventory, type Cluster, type Host } from '../../domain/inventory';
import { fingerprint, parseHostKey, SshPool } from '../../activities/ssh';
import { createRouter } from '../../activities/traffic/router';

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const tryRun = (cmd: string, args: string[]) => {
  try {
    run(cmd, args);
  } catch {
    // teardown: the thing may never have been created
  }
};
// unref: a sleep that lost a race must not keep jest alive.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

async function waitForPort(address: string, port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: address, port });
      s.once('connect', () => resolve(s.destroy() === s));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${address}:${port} did not open within ${ms} ms`);
    await sleep(50);
  }
}

/** A TCP attempt (refused or not): enough to make the kernel resolve the address with ARP. */
function touch(address: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port: 9, timeout: 1000 });
    const done = () => resolve(s.destroy() && undefined);
    s.once('connect', done);
    s.once('error', done);
    s.once('timeout', done);
  });
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApplicationFailure) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

interface NsHost {
  name: string;
  netns: string;
  address: string;
  hostKey: string;
  mac: string;
  sshd?: ChildProcess;
}

const tag = randomBytes(2).toString('hex');
const prefix = `sosh${tag}`;
const bridge = `${prefix}br`;
let subnet = '';
let dir = '';
let clientKey: Buffer;
let strangerKey: Buffer;
const hosts: NsHost[] = [];

function pickSubnet(): string {
  const used = run('ip', ['-4', '-o', 'addr', 'show']);
  for (let i = 0; i < 50; i++) {
    const base = `10.98.${randomInt(1, 255)}`;
    if (!used.includes(` ${base}.`)) return base;
  }
  throw new Error('no free 10.98.x.0/24 subnet');
}

function keygen(path: string): string {
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  subnet = pickSubnet();
  mkdirSync('/run/sshd', { recursive: true });
  const clientPub = keygen(join(dir, 'client'));
  clientKey = readFileSync(join(dir, 'client'));
  keygen(join(dir, 'stranger'));
  strangerKey = readFileSync(join(dir, 'stranger'));
  writeFileSync(join(dir, 'authorized_keys'), `${clientPub}\n`);

  run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
  run('ip', ['link', 'set', bridge, 'up']);
  for (const [i, name] of ['a', 'b'].entries()) {
    const netns = `${prefix}${name}`;
    const address = `${subnet}.${11 + i}`;
    const h: NsHost = { name: `db${i + 1}`, netns, address, hostKey: '', mac: '' };
    hosts.push(h);
    run('ip', ['netns', 'add', netns]);
    run('ip', ['link', 'add', `${netns}0`, 'type', 'veth', 'peer', 'name', `${netns}1`]);
    run('ip', ['link', 'set', `${netns}1`, 'netns', netns]);
    run('ip', ['link', 'set', `${netns}0`, 'master', bridge, 'up']);
    const inNs = (...args: string[]) => run('ip', ['netns', 'exec', netns, ...args]);
    inNs('ip', 'link', 'set', `${netns}1`, 'name', 'eth0');
    inNs('ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    inNs('ip', 'link', 'set', 'eth0', 'up');
    inNs('ip', 'link', 'set', 'lo', 'up');
    h.mac = inNs('cat', '/sys/class/net/eth0/address').trim();
    h.hostKey = keygen(join(dir, `host_${name}`));
    const cfg = join(dir, `sshd_${name}.conf`);
    writeFileSync(
      cfg,
      [
        'Port 22',
        `ListenAddress ${address}`,
        `HostKey ${join(dir, `host_${name}`)}`,
        `PidFile ${join(dir, `sshd_${name}.pid`)}`,
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'UseDNS no',
        'LogLevel ERROR',
      ].join('\n') + '\n',
    );
    // Each simulated host gets its own empty /root (private mount namespace): this machine's root
    // ~/.bashrc runs `pyenv init`, which bash sources for every SSH command and costs ~0.8 s each.
    const home = join(dir, `root_${name}`);
    mkdirSync(home);
    h.sshd = spawn(
      'ip',
      [
        'netns',
        'exec',
        netns,
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind ${home} /root && exec /usr/sbin/sshd -D -e -f ${cfg}`,
      ],
      { stdio: ['ignore', 'ignore', openSync(join(dir, `sshd_${name}.log`), 'a')] },
    );
  }
  await Promise.all(hosts.map((h) => waitForPort(h.address, 22, 10_000)));
}, 60_000);

afterAll(async () => {
  for (const h of hosts) {
    if (h.sshd?.pid && h.sshd.exitCode === null) {
      const exited = new Promise((r) => h.sshd?.once('exit', r));
      h.sshd.kill('SIGTERM');
      await Promise.race([exited, sleep(2000)]);
    }
    // Whatever still runs in the namespace (a timed-out command) would keep it and its veth alive.
    try {
      for (const pid of run('ip', ['netns', 'pids', h.netns]).split(/\s+/).filter(Boolean))
        tryRun('kill', ['-KILL', pid]);
    } catch {
      // namespace never created
    }
    tryRun('ip', ['netns', 'del', h.netns]);
  }
  tryRun('ip', ['link', 'del', bridge]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function inventoryHost(h: NsHost, over: Partial<Host['ssh'] & object> = {}): Host {
  return {
    name: h.name,
    address: h.address,
    port: 3306,
    promotion: 'neutral',
    ssh: { port: 22, hostKey: h.hostKey, ...over },
  };
}

function vipCluster(hs: Host[], iface = 'eth0'): Cluster {
  const r = validateInventory({
    clusters: [
      {
        name: 'sosh',
        flavor: 'mariadb',
        hosts: hs,
        traffic: { type: 'vip', address: `${subnet}.100/32`, interface: iface },
      },
    ],
    credentials: {
      mysql: { user: 'x', passwordEnv: 'X' },
      replication: { user: 'y', passwordEnv: 'Y' },
      ssh: { user: 'root', privateKeyFile: '/unused' },
    },
  });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.inventory.clusters[0];
}

describe('SshPool', () => {
  let pool: SshPool;
  beforeEach(() => {
    pool = new SshPool({ user: 'root', privateKey: clientKey, connectTimeoutMs: 3000 });
  });
  afterEach(() => pool.close());

  it('returns exit status, stdout and stderr', async () => {
    const r = await pool.exec(inventoryHost(hosts[0]), 'echo out; echo err >&2; exit 3');
    expect(r).toEqual({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', truncated: false });
  });

  it('reuses the connection: the second command skips the handshake', async () => {
    const h = inventoryHost(hosts[0]);
    const t0 = Date.now();
    await pool.exec(h, 'true');
    const first = Date.now() - t0;
    const conn = await pool.connectionId(h);
    const t1 = Date.now();
    await pool.exec(h, 'true');
    const second = Date.now() - t1;
    expect(await pool.connectionId(h)).toBe(conn);
    expect(second).toBeLessThan(first / 2);
    expect(second).toBeLessThan(300);
  });

  it('warm() opens connections ahead of time', async () => {
    const hs = hosts.map((h) => inventoryHost(h));
    expect(hs.some((h) => pool.hasShell(h))).toBe(false);
    await pool.warm(hs);
    expect(hs.every((h) => pool.isConnected(h))).toBe(true);
    expect(hs.every((h) => pool.hasShell(h))).toBe(true);
    const t = Date.now();
    await Promise.all(hs.map((h) => pool.exec(h, 'true')));
    expect(Date.now() - t).toBeLessThan(300);
  });

  it('keeps the first bytes of a huge output and drains the rest so the command finishes', async () => {
    // 8 MB is far beyond the SSH channel window: an undrained stream would stall the command.
    const r = await pool.exec(
      inventoryHost(hosts[0]),
      "head -c 8000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero | tr '\\0' e >&2; echo done",
      { maxOutputBytes: 1000, timeoutMs: 20_000 },
    );
    expect(r.code).toBe(0);
    expect(r.truncated).toBe(true);
    expect(r.stdout).toBe('a'.repeat(1000));
    expect(r.stderr).toBe('e'.repeat(1000));
  });

  it('times out a command and fails retryably', async () => {
    const h = inventoryHost(hosts[0]);
    // The connection first: the 400 ms bound is the command's. The pool may hold none here, and a
    // handshake under a loaded full run took longer than 400 ms ("Timed out while waiting for
    // handshake" instead of the command's timeout).
    await pool.exec(h, 'true');
    const t = Date.now();
    const f = await failure(pool.exec(h, 'sleep 7.4321', { timeoutMs: 400 }));
    expect(Date.now() - t).toBeLessThan(2000);
    expect(f.type).toBe('Unreachable');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toMatch(/db1: command did not finish within 400 ms/);
    // The next command runs on a fresh connection. (The KILL signal sshd is asked for is best
    // effort: OpenSSH refuses to signal root sessions, so the remote sleep may outlive the timeout.)
    expect((await pool.exec(h, 'echo ok')).stdout).toBe('ok\n');
  });

  it('reconnects transparently when the connection died', async () => {
    const h = inventoryHost(hosts[0]);
    await pool.exec(h, 'true');
    const before = await pool.connectionId(h);
    // Kill this session's sshd process: the server side of our pooled connection goes away.
    await failure(pool.exec(h, 'kill -9 $PPID; sleep 5', { timeoutMs: 3000 })).catch(() => undefined);
    await sleep(100);
    const r = await pool.exec(h, 'echo again');
    expect(r.stdout).toBe('again\n');
    expect(await pool.connectionId(h)).not.toBe(before);
  });

  it('runs sequential commands on one persistent shell, faster than a channel per command', async () => {
    const h = inventoryHost(hosts[0]);
    await pool.warm([h]);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const shellMs: number[] = [];
    const shells = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const r = await pool.exec(h, `echo $$; echo ${i} >&2`);
      shellMs.push(performance.now() - t);
      expect(r).toMatchObject({ code: 0, stderr: `${i}\n` });
      shells.add(r.stdout);
    }
    // $$ in the command's subshell is the session's sh: one remote process served all 20.
    expect(shells.size).toBe(1);
    const channelMs: number[] = [];
    const channels = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      channels.add((await pool.exec(h, 'echo $$', { ownChannel: true })).stdout);
      channelMs.push(performance.now() - t);
    }
    expect(channels.size).toBe(10);
    console.log(
      `ssh command round trip, median: ${median(shellMs).toFixed(1)} ms on the shell, ${median(channelMs).toFixed(1)} ms with a channel each`,
    );
    expect(median(shellMs)).toBeLessThan(median(channelMs));
  });

  it('surfaces a failing command on the shell and keeps using it', async () => {
    const h = inventoryHost(hosts[0]);
    const pid = (await pool.exec(h, 'echo $$')).stdout;
    expect(await pool.exec(h, 'ls /nonexistent-dir')).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/nonexistent-dir/),
    });
    expect(await pool.exec(h, 'exit 4')).toMatchObject({ code: 4 });
    expect((await pool.exec(h, 'echo $$')).stdout).toBe(pid);
  });

  it('returns output that imitates the end marker as plain output', async () => {
    const fake = "printf '\\036successover:000000000000000000000000:0\\n'";
    const r = await pool.exec(inventoryHost(hosts[0]), `${fake}; ${fake} >&2; echo tail`);
    expect(r).toEqual({
      code: 0,
      signal: null,
      stdout: '\x1esuccessover:000000000000000000000000:0\ntail\n',
      stderr: '\x1esuccessover:000000000000000000000000:0\n',
      truncated: false,
    });
  });

  it('a shell killed underneath fails the command it ran; the next command gets a new shell', async () => {
    const h = inventoryHost(hosts[0]);
    const pid = (await pool.exec(h, 'echo $$')).stdout;
    const conn = await pool.connectionId(h);
    const f = await failure(pool.exec(h, 'kill -9 $$'));
    expect(pool.hasShell(h)).toBe(false);
    // It may have run (here it did), so the pool does not send it again: the caller decides.
    expect(f.type).toBe('Unreachable');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toMatch(/db1: connection lost before the command reported its exit/);
    const r = await pool.exec(h, 'echo $$');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toBe(pid);
    expect(await pool.connectionId(h)).toBe(conn);
  });

  it('a command sent while the shell is busy runs on a channel of its own', async () => {
    const h = inventoryHost(hosts[0]);
    const shellPid = (await pool.exec(h, 'echo $$')).stdout;
    const slow = pool.exec(h, 'sleep 0.5; echo $$');
    const quick = await pool.exec(h, 'echo $$');
    expect(quick.stdout).not.toBe(shellPid);
    expect((await slow).stdout).toBe(shellPid);
  });

  it('refuses a host whose key differs from the pinned one, naming both fingerprints', async () => {
    const other = hosts[1].hostKey;
    const f = await failure(
      pool.exec({ ...inventoryHost(hosts[0]), ssh: { port: 22, hostKey: other } }, 'true'),
    );
    expect(f.type).toBe('HostKeyMismatch');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('db1');
    expect(f.message).toContain(fingerprint(parseHostKey(other).blob));
    expect(f.message).toContain(fingerprint(parseHostKey(hosts[0].hostKey).blob));
  });

  it('classifies a rejected key as Authentication and a closed port as Unreachable', async () => {
    const stranger = new SshPool({ user: 'root', privateKey: strangerKey });
    try {
      const auth = await failure(stranger.exec(inventoryHost(hosts[0]), 'true'));
      expect(auth.type).toBe('Authentication');
      expect(auth.nonRetryable).toBe(true);
    } finally {
      await stranger.close();
    }
    const down = await failure(pool.exec(inventoryHost(hosts[0], { port: 2222 }), 'true'));
    expect(down.type).toBe('Unreachable');
    expect(down.nonRetryable).toBe(false);
  });
});

describe('VIP router', () => {
  let pool: SshPool;
  beforeAll(() => {
    pool = new SshPool({ user: 'root', privateKey: clientKey, connectTimeoutMs: 3000 });
  });
  afterAll(() => pool.close());

  const vip = () => `${subnet}.100`;
  const neighbourMac = () => {
    const line = run('ip', ['neigh', 'show', vip(), 'dev', bridge]);
    return /lladdr (\S+)/.exec(line)?.[1];
  };

  it('moves the VIP: idempotent add/remove, holders, gratuitous ARP updates the neighbour', async () => {
    const [a, b] = hosts;
    const cluster = vipCluster(hosts.map((h) => inventoryHost(h)));
    const router = createRouter(cluster, { ssh: pool });
    await pool.warm(cluster.hosts);
    expect(await router.holders()).toEqual({ holders: [], unknown: [] });

    expect(await router.attach('db1')).toMatchObject({ ok: true, changed: true });
    expect(await router.attach('db1')).toMatchObject({ ok: true, changed: false });
    expect((await router.holders()).holders).toEqual(['db1']);
    // The bridge side learns db1 by talking to the VIP.
    await touch(vip());
    expect(neighbourMac()).toBe(a.mac);

    expect(await router.detach('db1')).toMatchObject({ ok: true, changed: true });
    expect(await router.detach('db1')).toMatchObject({ ok: true, changed: false });
    const t = Date.now();
    const attached = await router.attach('db2');
    // arping blocks ~1 s after sending: the attach must not wait for it.
    expect(Date.now() - t).toBeLessThan(700);
    expect(attached).toMatchObject({ ok: true, changed: true });
    expect(attached.detail).toContain('gratuitous ARP started');
    expect((await router.holders()).holders).toEqual(['db2']);

    // No traffic to the VIP since: only the gratuitous ARP can have moved the entry to db2.
    const until = Date.now() + 3000;
    while (neighbourMac() !== b.mac && Date.now() < until) await sleep(50);
    expect(neighbourMac()).toBe(b.mac);

    expect(await router.detach('db2')).toMatchObject({ changed: true });
    expect((await router.holders()).holders).toEqual([]);
  });

  it('plan() shows exactly the command that attach runs', async () => {
    const cluster = vipCluster(hosts.map((h) => inventoryHost(h)));
    const router = createRouter(cluster, { ssh: pool });
    const [step] = router.plan('detach', 'db2');
    const r = await pool.exec(cluster.hosts[1], step.command);
    expect(r).toMatchObject({ code: 0, stdout: 'successover:absent\n' });
  });

  it('fencing a dead host in best-effort mode reports instead of throwing; holders lists it as unknown', async () => {
    const dead = inventoryHost(hosts[0], { port: 2222 });
    const router = createRouter(vipCluster([dead, inventoryHost(hosts[1])]), { ssh: pool });
    const r = await router.detach('db1', { bestEffort: true });
    expect(r).toMatchObject({ host: 'db1', op: 'detach', ok: false, changed: false });
    expect(r.detail).toMatch(/ECONNREFUSED|refused/i);
    const f = await failure(router.detach('db1'));
    expect(f.type).toBe('Unreachable');
    const holders = await router.holders();
    expect(holders.holders).toEqual([]);
    expect(holders.unknown.map((u) => u.host)).toEqual(['db1']);
  });

  it('a wrong interface is a non-retryable configuration error', async () => {
    const router = createRouter(
      vipCluster(
        hosts.map((h) => inventoryHost(h)),
        'nosuch0',
      ),
      { ssh: pool },
    );
    const f = await failure(router.attach('db1'));
    expect(f.type).toBe('BadConfiguration');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/Cannot find device/);
  });
});
