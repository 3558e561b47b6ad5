// Router choice, dry-run plans and the VIP shell scripts (run by the real sh against a fake `ip`);
// HAProxy's `show stat` parser and backup rules are in haproxy-routing.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { validateInventory, type Cluster } from '../../domain/inventory';
import { SshPool } from '../../activities/ssh';
import { createRouter } from '../../activities/traffic/router';
import { VipRouter } from '../../activities/traffic/vip';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm8bJ6hH7n4Uo1pT0QhN2H3b6aQ5Qe1i0q8m6cKQ4o0';

function cluster(traffic: unknown): Cluster {
  const r = validateInventory({
    clusters: [
      {
        name: 'r2d2',
        flavor: 'mariadb',
        hosts: [
          { name: 'db1', address: '10.0.0.11', ssh: { hostKey: KEY } },
          { name: 'db2', address: '10.0.0.12', ssh: { hostKey: KEY } },
        ],
        traffic,
      },
    ],
    credentials: {
      mysql: { user: 'so', passwordEnv: 'X' },
      replication: { user: 'repl', passwordEnv: 'Y' },
      ssh: { user: 'root', privateKeyFile: '/nonexistent' },
    },
  });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.inventory.clusters[0];
}

const vip = { type: 'vip', address: '10.0.0.100/32', interface: 'eth0' };
const haproxy = {
  type: 'haproxy',
  runtimeApi: 'unix:/run/haproxy/admin.sock',
  backend: 'mysql_writer',
  servers: { db2: 'mariadb-2' },
};

describe('createRouter', () => {
  const ssh = new SshPool({ user: 'root', privateKey: Buffer.from('unused') });

  it('chooses the router from traffic.type', () => {
    expect(createRouter(cluster(vip), { ssh }).type).toBe('vip');
    expect(createRouter(cluster(haproxy)).type).toBe('haproxy');
    expect(createRouter(cluster({ type: 'none' })).type).toBe('none');
    expect(createRouter(cluster(undefined)).type).toBe('none');
  });

  it('refuses a VIP without an SSH pool, non-retryably', () => {
    let err: unknown;
    try {
      createRouter(cluster(vip));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('BadConfiguration');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('the none router does nothing and says so', async () => {
    const r = createRouter(cluster({ type: 'none' }));
    expect(r.plan('detach', 'db1')).toEqual([{ on: 'nothing', command: 'no traffic router configured' }]);
    expect(await r.holders()).toEqual({ holders: [], unknown: [] });
    expect(await r.detach('db1')).toMatchObject({ ok: true, changed: false, routed: false });
    // No router routes anyone: the runbook's blackout ends where clients find the primary themselves.
    expect(await r.attach('db1')).toMatchObject({ ok: true, changed: false, routed: false });
  });

  it('plans HAProxy commands with the mapped server name', () => {
    const r = createRouter(cluster(haproxy));
    expect(r.plan('detach', 'db2').map((c) => c.command)).toEqual([
      'set server mysql_writer/mariadb-2 state maint',
      'shutdown sessions server mysql_writer/mariadb-2',
      'show stat mysql_writer 4 -1',
    ]);
    expect(r.plan('attach', 'db1').map((c) => c.command)[0]).toBe('set server mysql_writer/db1 state ready');
    expect(r.plan('attach', 'db1')[0].on).toBe('haproxy unix:/run/haproxy/admin.sock');
  });

  it('refuses names the runtime API cannot carry, and unknown hosts', () => {
    const r = createRouter(cluster({ ...haproxy, servers: { db1: 'db1; shutdown sessions' } }));
    expect(() => r.plan('detach', 'db1')).toThrow(/runtime API cannot carry/);
    expect(() => r.plan('detach', 'db9')).toThrow(/unknown host "db9".*db1, db2/);
  });

  it('plans VIP commands with every value quoted', () => {
    const r = createRouter(cluster({ ...vip, interface: 'eth0; reboot' }), { ssh });
    const [step] = r.plan('attach', 'db1');
    expect(step.on).toBe('ssh db1');
    expect(step.command).toContain("ip addr add 10.0.0.100/32 dev 'eth0; reboot'");
    expect(step.command).toContain("arping -U -c 1 -I 'eth0; reboot' 10.0.0.100");
    expect(
      createRouter(cluster({ ...vip, arping: false }), { ssh }).plan('attach', 'db1')[0].command,
    ).not.toContain('arping');
  });
});

describe('VIP scripts against a fake ip', () => {
  let dir: string;
  const router = new VipRouter(
    cluster(vip),
    cluster(vip).traffic as never,
    new SshPool({ user: 'root', privateKey: Buffer.from('unused') }),
  );
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sosh-unit-'));
    // The fake ip answers what the FAKE_IP variable says and records its arguments.
    writeFileSync(
      join(dir, 'ip'),
      `#!/bin/sh\necho "$*" >> "${dir}/ip.log"\ncase "$FAKE_IP" in ok) exit 0;; *) echo "RTNETLINK answers: $FAKE_IP" >&2; exit 2;; esac\n`,
    );
    writeFileSync(join(dir, 'arping'), `#!/bin/sh\necho "$*" >> "${dir}/arping.log"\n`);
    chmodSync(join(dir, 'ip'), 0o755);
    chmodSync(join(dir, 'arping'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(command: string, fakeIp: string) {
    rmSync(join(dir, 'arping.log'), { force: true });
    const r = spawnSync('/bin/sh', ['-c', command], {
      encoding: 'utf8',
      env: { PATH: `${dir}:/usr/bin:/bin`, FAKE_IP: fakeIp },
    });
    // arping runs in the background; give it a moment before looking at its log.
    execFileSync('/bin/sh', ['-c', 'sleep 0.2']);
    let arping = '';
    try {
      arping = readFileSync(join(dir, 'arping.log'), 'utf8');
    } catch {
      // not started
    }
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, arping };
  }

  it('attach: adds, announces, and treats "already there" answers (old and new kernels) as done', () => {
    expect(run(router.attachCommand(), 'ok')).toMatchObject({
      code: 0,
      stdout: 'successover:added\n',
      arping: '-U -c 1 -I eth0 10.0.0.100\n',
    });
    for (const already of ['File exists', 'Error: ipv4: Address already assigned.'])
      expect(run(router.attachCommand(), already)).toMatchObject({
        code: 0,
        stdout: 'successover:present\n',
        arping: '-U -c 1 -I eth0 10.0.0.100\n',
      });
  });

  it('attach: any other failure exits non-zero and never announces an address it does not hold', () => {
    const r = run(router.attachCommand(), 'Operation not permitted');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Operation not permitted');
    expect(r.arping).toBe('');
  });

  it('detach: removes, and treats "not there" answers (old and new kernels) as done', () => {
    expect(run(router.detachCommand(), 'ok')).toMatchObject({ code: 0, stdout: 'successover:removed\n' });
    for (const gone of ['Cannot assign requested address', 'Error: ipv4: Address not found.'])
      expect(run(router.detachCommand(), gone)).toMatchObject({ code: 0, stdout: 'successover:absent\n' });
    const r = run(router.detachCommand(), 'Cannot find device "eth0"');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Cannot find device');
  });
});
