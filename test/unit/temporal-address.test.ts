// Where the CLI, the worker and the webhook receiver find Temporal (temporal/connection.ts):
// --address > the environment > the lab's profile while its server runs > the user's config file >
// localhost:7233, and a failed connection that names where the address came from.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClientConfigProfile } from '@temporalio/envconfig';
import { labProfileToml } from '../../lab/temporal';
import {
  connectError,
  DEFAULT_ADDRESS,
  labProfileFile,
  resolveTemporal,
  runningLabProfile,
  temporalConfig,
  type ResolveInput,
} from '../../temporal/connection';

const root = mkdtempSync(join(tmpdir(), 'soaddress-'));
const standIns: ChildProcess[] = [];
afterAll(() => {
  for (const p of standIns) p.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const user = (p: Partial<ResolveInput['user']> = {}): ResolveInput['user'] => ({
  file: '/home/u/.config/temporalio/temporal.toml',
  profile: 'default',
  ...p,
});
const lab = { file: '/repo/.lab/temporal.toml', address: '127.0.0.1:41234' };

describe('resolveTemporal: the order', () => {
  it('--address and --namespace win over everything', () => {
    const r = resolveTemporal({
      flags: { address: 'flag:1', namespace: 'fns' },
      env: { TEMPORAL_ADDRESS: 'env:1', TEMPORAL_NAMESPACE: 'ens' },
      user: user({ address: 'user:1', namespace: 'uns' }),
      lab,
    });
    expect(r).toEqual({ address: 'flag:1', namespace: 'fns', source: { kind: 'flag' }, useLab: false });
  });

  it('then TEMPORAL_ADDRESS, keeping the namespace of the user profile as envconfig does', () => {
    const r = resolveTemporal({
      flags: {},
      env: { TEMPORAL_ADDRESS: 'env:1' },
      user: user({ address: 'user:1', namespace: 'uns' }),
      lab,
    });
    expect(r).toEqual({
      address: 'env:1',
      namespace: 'uns',
      source: { kind: 'env', variable: 'TEMPORAL_ADDRESS' },
      useLab: false,
    });
  });

  it("then the running lab's profile, over the user's default profile", () => {
    const r = resolveTemporal({
      flags: {},
      env: {},
      user: user({ address: 'user:1', namespace: 'uns' }),
      lab,
    });
    expect(r).toEqual({
      address: '127.0.0.1:41234',
      namespace: 'default',
      source: { kind: 'lab', file: lab.file },
      useLab: true,
    });
    // TEMPORAL_NAMESPACE still applies to the lab's address.
    expect(
      resolveTemporal({ flags: {}, env: { TEMPORAL_NAMESPACE: 'ops' }, user: user(), lab }).namespace,
    ).toBe('ops');
  });

  it('a config file or profile chosen in the environment wins over the lab', () => {
    for (const env of [{ TEMPORAL_PROFILE: 'prod' }, { TEMPORAL_CONFIG_FILE: '/etc/t.toml' }]) {
      const r = resolveTemporal({ flags: {}, env, user: user({ address: 'user:1', profile: 'prod' }), lab });
      expect(r.source).toEqual({ kind: 'config', file: user().file, profile: 'prod' });
      expect(r.address).toBe('user:1');
    }
    // ...even when that profile has no address: then the default, not the lab.
    expect(resolveTemporal({ flags: {}, env: { TEMPORAL_PROFILE: 'x' }, user: user(), lab }).source).toEqual({
      kind: 'default',
    });
  });

  it("then a server `temporal start` runs (dev or PostgreSQL-backed), over the user's profile", () => {
    const local = {
      file: '/repo/.data/postgres/temporal-postgres.json',
      server: 'postgres' as const,
      address: '127.0.0.1:7300',
      namespace: 'default',
    };
    expect(resolveTemporal({ flags: {}, env: {}, user: user({ address: 'user:1' }), local })).toEqual({
      address: '127.0.0.1:7300',
      namespace: 'default',
      source: { kind: 'local', file: local.file, server: 'postgres' },
      useLab: false,
    });
    // The lab, the environment and a chosen config file still come first.
    expect(resolveTemporal({ flags: {}, env: {}, user: user(), lab, local }).source.kind).toBe('lab');
    expect(
      resolveTemporal({ flags: {}, env: { TEMPORAL_ADDRESS: 'e:1' }, user: user(), local }).source.kind,
    ).toBe('env');
    expect(
      resolveTemporal({ flags: {}, env: { TEMPORAL_PROFILE: 'p' }, user: user({ address: 'u:1' }), local })
        .source.kind,
    ).toBe('config');
  });

  it("then the user's config file, then localhost:7233 in namespace default", () => {
    expect(resolveTemporal({ flags: {}, env: {}, user: user({ address: 'user:1' }) })).toMatchObject({
      address: 'user:1',
      namespace: 'default',
      source: { kind: 'config' },
    });
    expect(resolveTemporal({ flags: {}, env: {}, user: user() })).toEqual({
      address: DEFAULT_ADDRESS,
      namespace: 'default',
      source: { kind: 'default' },
      useLab: false,
    });
  });
});

/** A live process whose command line reads like `temporal server start-dev --port <port>`. */
function devServerStandIn(port: string): number {
  const p = spawn('sh', ['-c', 'sleep 60; :', 'start-dev', '--port', port], { stdio: 'ignore' });
  standIns.push(p);
  return p.pid!;
}

/** A lab dir as `lab up` leaves it: the profile, and the dev server's pid file (live or not). */
function labDir(name: string, address: string, o: { profile?: boolean; pid?: number } = {}): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'temporal'), { recursive: true });
  if (o.profile !== false) writeFileSync(labProfileFile(dir), labProfileToml(address));
  const pid = o.pid ?? devServerStandIn(address.slice(address.lastIndexOf(':') + 1));
  writeFileSync(
    join(dir, 'temporal', 'temporal.pid'),
    JSON.stringify({ pid, address, namespace: 'default', logFile: '', binary: '', startedAt: '' }),
  );
  return dir;
}

describe("the lab's profile", () => {
  it('is a Temporal config file: profile lab, and default for the temporal CLI', () => {
    const toml = labProfileToml('127.0.0.1:41234');
    for (const profile of ['lab', 'default'])
      expect(loadClientConfigProfile({ configSource: { data: toml }, profile, disableEnv: true })).toEqual({
        address: '127.0.0.1:41234',
        namespace: 'default',
      });
  });

  it('counts only while the server it names runs', () => {
    const up = labDir('up', '127.0.0.1:41240');
    expect(runningLabProfile(up)).toEqual({
      file: labProfileFile(up),
      address: '127.0.0.1:41240',
      namespace: 'default',
    });
    // Pid 2^22 + 1 is above Linux's pid_max: never a live process.
    expect(runningLabProfile(labDir('dead', '127.0.0.1:41241', { pid: 4194305 }))).toBeUndefined();
    expect(runningLabProfile(labDir('noprofile', '127.0.0.1:41242', { profile: false }))).toBeUndefined();
    expect(runningLabProfile(join(root, 'nothing-here'))).toBeUndefined();
  });

  it('temporalConfig takes the lab when nothing else names an address', () => {
    const dir = labDir('cfg', '127.0.0.1:41243');
    const env = { HOME: join(root, 'home') };
    expect(temporalConfig(env, { labDir: dir, flags: {} })).toMatchObject({
      connectionOptions: { address: '127.0.0.1:41243' },
      namespace: 'default',
      source: { kind: 'lab', file: labProfileFile(dir) },
    });
    expect(
      temporalConfig({ ...env, TEMPORAL_ADDRESS: '10.0.0.1:7233' }, { labDir: dir, flags: {} }).source,
    ).toEqual({ kind: 'env', variable: 'TEMPORAL_ADDRESS' });
    expect(temporalConfig(env, { labDir: dir, flags: { address: '10.0.0.2:7233' } }).source).toEqual({
      kind: 'flag',
    });
    // Another environment than the process's sees no lab unless told which.
    expect(temporalConfig(env).source).toEqual({ kind: 'default' });
  });

  it('a profile left by a lab whose server is gone is not used, but named when the default fails', () => {
    const dir = labDir('stale', '127.0.0.1:41244', { pid: 4194305 });
    const cfg = temporalConfig({ HOME: join(root, 'home') }, { labDir: dir, flags: {} });
    expect(cfg).toMatchObject({
      connectionOptions: { address: DEFAULT_ADDRESS },
      source: { kind: 'default', staleLab: labProfileFile(dir) },
    });
    expect(connectError(cfg, new Error('Failed to connect before the deadline')).message).toMatch(
      /names a server that is not running\): Failed to connect before the deadline; see `successover lab status`/,
    );
  });

  it("the user's config file is read as envconfig reads it", () => {
    const home = join(root, 'home2');
    mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
    const file = join(home, '.config', 'temporalio', 'temporal.toml');
    writeFileSync(file, '[profile.default]\naddress = "temporal.example:7233"\nnamespace = "ops"\n');
    expect(temporalConfig({ HOME: home })).toMatchObject({
      connectionOptions: { address: 'temporal.example:7233' },
      namespace: 'ops',
      source: { kind: 'config', file, profile: 'default' },
    });
  });
});

describe('a failed connection', () => {
  it('names the address, where it came from and the fix', () => {
    const e = (source: Parameters<typeof connectError>[0]['source']) =>
      connectError(
        { connectionOptions: { address: 'h:1' }, source },
        new Error('Failed to connect before the deadline'),
      ).message;
    expect(e({ kind: 'default' })).toMatch(
      /^cannot reach Temporal at h:1 \(from the default: .*\): Failed to connect before the deadline; start one \(`successover lab up`.*--address HOST:PORT or TEMPORAL_ADDRESS$/,
    );
    expect(e({ kind: 'lab', file: '/r/.lab/temporal.toml' })).toMatch(
      /from the lab's profile \/r\/\.lab\/temporal\.toml, written by `successover lab up`\).*successover lab status/,
    );
    expect(e({ kind: 'env', variable: 'TEMPORAL_ADDRESS' })).toMatch(
      /from TEMPORAL_ADDRESS\).*correct TEMPORAL_ADDRESS$/,
    );
    expect(e({ kind: 'flag' })).toMatch(/from --address\)/);
  });
});
