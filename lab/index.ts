// The lab: a real MariaDB GTID replication topology on one machine. netns mode puts every host
// in its own network namespace on a lab bridge (sshd + mariadbd, VIP moved over SSH); loopback
// mode (no root) runs the servers on 127.0.0.1 ports behind HAProxy. Everything `lab up` makes
// is recorded in <labdir>/state.json as it is made, so `lab down` removes exactly that.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labInventory, writeInventory } from './labInventory';
import {
  connectRoot,
  copyDatadir,
  createAccounts,
  facts,
  installTemplate,
  isRoot,
  replicateFrom,
  startServer,
  successoverOptionFile,
  waitServer,
  withRoot,
  type Accounts,
  type ServerConfig,
} from './mariadb';
import * as net from './net';
import { startHaproxy, writeHaproxyConfig, WRITER_BACKEND } from './haproxy';
import { enabledServers } from './runtimeApi';
import { isOurs, killHard, run, waitFor } from './sh';
import { keygen, pinnedKey, startSshd, writeSshdConfig } from './sshd';
import { ACCOUNT_NAMES, DEFAULTS, SQL_PORT } from './defaults';
import { labDir, readState, requireState, withLock, writeState } from './state';
import { portFree } from './ports';
import { startAlerting } from './alerting';
import { startTemporalHook } from './temporal';
import { runningPid, writeServiceScripts, type ServiceScripts } from './service';
import type { HostStatus, LabHost, LabInfo, LabMode, LabOptions, LabState, LabStatus } from './types';
import { createRouter } from '../activities/traffic/router';
import { SshPool } from '../activities/ssh';

export type { LabInfo, LabOptions, LabStatus, HostStatus, LabHost, LabMode } from './types';
export { labAddHost } from './addHost';

export { ACCOUNT_NAMES, DEFAULTS, SQL_PORT } from './defaults';
export { defaultLabDir, labDir, requireState } from './state';

type Resolved = LabState['options'] & {
  dir: string;
  log: (l: string) => void;
  temporalPorts: { port?: number; uiPort?: number };
};

function resolveOptions(o: LabOptions): Resolved {
  const mode: LabMode = o.mode ?? (isRoot() ? 'netns' : 'loopback');
  const r: Resolved = {
    hosts: o.hosts ?? (o.masterMaster ? 2 : DEFAULTS.hosts),
    masterMaster: o.masterMaster ?? false,
    mode,
    semiSync: o.semiSync ?? false,
    prefix: o.prefix ?? DEFAULTS.prefix,
    subnet: o.subnet ?? DEFAULTS.subnet,
    basePort: o.basePort ?? DEFAULTS.basePort,
    temporal: o.temporal ?? false,
    alerting: o.alerting ?? false,
    webhookPort: o.webhookPort,
    dir: labDir(o.dir),
    log: o.log ?? (() => undefined),
    temporalPorts: { port: o.temporalPort, uiPort: o.temporalUiPort },
  };
  if (!Number.isInteger(r.hosts) || r.hosts < 2 || r.hosts > 9)
    throw new Error(`--hosts ${r.hosts}: expected 2 to 9 (a primary and at least one replica)`);
  if (r.masterMaster && r.hosts !== 2)
    throw new Error(`--master-master with --hosts ${r.hosts}: a master-master pair is 2 hosts`);
  // Link names are at most 15 characters: "<prefix>-db9".
  if (!/^[a-z][a-z0-9]{0,9}$/.test(r.prefix))
    throw new Error(`--prefix ${r.prefix}: expected 1-10 lowercase letters/digits starting with a letter`);
  if (mode === 'netns' && !isRoot())
    throw new Error('--mode netns needs root (network namespaces); run as root or use --mode loopback');
  if (mode === 'netns') net.parseSubnet(r.subnet);
  if (!Number.isInteger(r.basePort) || r.basePort < 1024 || r.basePort + 100 > 65535)
    throw new Error(`--base-port ${r.basePort}: expected 1024-65435 (the writer listens on base+100)`);
  if (mode === 'loopback' && r.basePort <= 3306 && r.basePort + r.hosts > 3306)
    throw new Error(
      `--base-port ${r.basePort}: the range would include 3306, where the machine's own MariaDB listens`,
    );
  const sock = join(r.dir, `db${r.hosts}`, 'mysqld.sock');
  if (sock.length > 100)
    throw new Error(`--dir ${r.dir}: too long for unix sockets (${sock}); choose a shorter path`);
  return r;
}

const hostNames = (n: number) => Array.from({ length: n }, (_, i) => `db${i + 1}`);

/** Anything in the way of a fresh lab that this lab did not make: refuse rather than touch it. */
async function conflicts(o: Resolved): Promise<string[]> {
  const found: string[] = [];
  const names = hostNames(o.hosts);
  for (const p of ['secrets', 'ssh', 'inventory.yaml', 'haproxy.cfg', ...names])
    if (existsSync(join(o.dir, p))) found.push(`${join(o.dir, p)} exists (left by another lab?)`);
  if (o.mode === 'netns') {
    const s = net.parseSubnet(o.subnet);
    const existing = await net.listNetns();
    for (const h of names) {
      const ns = net.nsName(o.prefix, h);
      if (existing.includes(ns)) found.push(`network namespace ${ns} exists (remove it: ip netns del ${ns})`);
      if (await net.linkExists(net.vethName(o.prefix, h)))
        found.push(`link ${net.vethName(o.prefix, h)} exists`);
    }
    if (await net.linkExists(net.bridgeName(o.prefix))) found.push(`link ${net.bridgeName(o.prefix)} exists`);
    for (const a of await net.subnetInUse(s))
      found.push(`subnet ${o.subnet} is in use (${a}): choose --subnet`);
  } else {
    const ports = [...names.map((_, i) => o.basePort + i), o.basePort + 100];
    for (const p of ports)
      if (!(await portFree(p))) found.push(`port 127.0.0.1:${p} is in use: choose --base-port`);
  }
  return found;
}

function processesAlive(st: LabState): boolean {
  return (
    st.processes.length > 0 &&
    st.processes.every((p) =>
      p.role === 'mariadbd' && p.host ? serverPid(st, p.host) !== null : isOurs(p.pid, st.dir),
    )
  );
}

/** Builds a lab; refuses when one is up, repairs (removes, then rebuilds) a half-built one. */
export async function labUp(opts: LabOptions = {}): Promise<LabInfo> {
  const o = resolveOptions(opts);
  const createdDir = !existsSync(o.dir);
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  try {
    return await withLock(o.dir, 'lab up', async () => {
      const existing = readState(o.dir);
      let dirIsOurs = createdDir;
      if (existing) {
        if (existing.complete && processesAlive(existing))
          throw new Error(
            `a lab is already up in ${o.dir} (${existing.options.mode}, ${existing.options.hosts} hosts): ` +
              '`successover lab status` shows it, `successover lab down` removes it',
          );
        o.log(
          `${o.dir} holds a half-built or broken lab: removing what its state.json records, then building anew`,
        );
        await teardown(existing, o.log);
        dirIsOurs = existing.createdDir;
      }
      const found = await conflicts(o);
      if (found.length)
        throw new Error(
          `refusing to build a lab in ${o.dir}; this lab did not make:\n  ${found.join('\n  ')}`,
        );
      const { log: _log, dir: _dir, temporalPorts: _tp, ...options } = o;
      const state: LabState = {
        version: 1,
        complete: false,
        startedAt: new Date().toISOString(),
        options,
        dir: o.dir,
        createdDir: dirIsOurs,
        createdRunSshd: false,
        bridge: null,
        netns: [],
        links: [],
        processes: [],
        paths: [],
        servers: {},
        info: null,
      };
      writeState(state);
      const started = Date.now();
      try {
        const info = await build(o, state);
        state.complete = true;
        state.info = info;
        writeState(state);
        if (o.temporal) o.log(`lab up with Temporal in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return info;
      } catch (e) {
        o.log(`lab up failed (${(e as Error).message}); removing what it made`);
        await teardown(state, o.log).catch((t: Error) =>
          o.log(`cleanup after the failure failed too: ${t.message}`),
        );
        throw e;
      }
    });
  } finally {
    removeDirIfEmpty(o.dir, createdDir && !existsSync(join(o.dir, 'state.json')));
  }
}

function removeDirIfEmpty(dir: string, ours: boolean): void {
  if (!ours) return;
  try {
    if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // not empty after all: leave it
  }
}

const secret = () => randomBytes(18).toString('base64url');

async function build(o: Resolved, state: LabState): Promise<LabInfo> {
  const save = () => writeState(state);
  const made = (p: string) => {
    state.paths.push(p);
    save();
    return join(o.dir, p);
  };
  const names = hostNames(o.hosts);
  const netns = o.mode === 'netns';
  const subnet = netns ? net.parseSubnet(o.subnet) : null;

  const secretsDir = made('secrets');
  mkdirSync(secretsDir, { mode: 0o700 });
  const accounts: Accounts = {
    admin: { user: ACCOUNT_NAMES.admin, password: secret() },
    replication: { user: ACCOUNT_NAMES.replication, password: secret() },
    app: { user: ACCOUNT_NAMES.app, password: secret(), database: ACCOUNT_NAMES.database },
  };
  const pwFile = (n: string, v: string) => {
    const f = join(secretsDir, `${n}.pw`);
    writeFileSync(f, v + '\n', { mode: 0o600 });
    return f;
  };
  const files = {
    mysql: pwFile('mysql', accounts.admin.password),
    replication: pwFile('replication', accounts.replication.password),
    app: pwFile('app', accounts.app.password),
    webhook: pwFile('webhook-token', secret()),
  };
  const hostDirs = names.map((h) => {
    const d = made(h);
    mkdirSync(d, { mode: 0o700 });
    return d;
  });

  // The slow part (mariadb-install-db, ~2 s) runs while the network and keys are made.
  o.log('installing the MariaDB data directory');
  const install = installTemplate(join(hostDirs[0], 'data'));

  const hosts: LabHost[] = names.map((name, i) => ({
    name,
    address: netns ? net.hostAddress(subnet as net.Subnet, i + 1) : '127.0.0.1',
    port: netns ? SQL_PORT : o.basePort + i,
    netns: netns ? net.nsName(o.prefix, name) : null,
    pid: null,
    socket: join(hostDirs[i], 'mysqld.sock'),
  }));

  let ssh: { clientKey: string; hostKeys: string[] } | null = null;
  if (netns) {
    const s = subnet as net.Subnet;
    o.log(`network: bridge ${net.bridgeName(o.prefix)} ${o.subnet}, ${names.length} namespaces`);
    const bridge = net.bridgeName(o.prefix);
    state.bridge = bridge;
    save();
    await net.addBridge(bridge, s);
    for (const h of hosts) {
      state.netns.push(h.netns as string);
      state.links.push(net.vethName(o.prefix, h.name));
      save();
      await net.addNetns(h.netns as string);
      await net.plugHost(h.netns as string, net.vethName(o.prefix, h.name), bridge, h.address);
    }
    const sshDir = made('ssh');
    mkdirSync(sshDir, { mode: 0o700 });
    const clientPub = await keygen(join(sshDir, 'client_ed25519'), 'successover-lab-client');
    const hostKeys = await Promise.all(
      names.map((h) => keygen(join(sshDir, `${h}_host_ed25519`), `${h}-host`)),
    );
    writeFileSync(join(sshDir, 'authorized_keys'), clientPub + '\n', { mode: 0o600 });
    ssh = { clientKey: join(sshDir, 'client_ed25519'), hostKeys: hostKeys.map(pinnedKey) };
    // Debian's sshd needs its privilege separation dir. It is shared with the system and with
    // other labs, so it is recorded but never removed.
    if (!existsSync('/run/sshd')) {
      mkdirSync('/run/sshd', { mode: 0o755 });
      state.createdRunSshd = true;
    }
    for (const [i, h] of hosts.entries()) {
      const cfg = {
        configFile: join(hostDirs[i], 'sshd_config'),
        hostKey: join(sshDir, `${h.name}_host_ed25519`),
        pidFile: join(hostDirs[i], 'sshd.pid'),
        authorizedKeys: join(sshDir, 'authorized_keys'),
      };
      writeSshdConfig(cfg);
      const pid = startSshd(
        cfg.configFile,
        h.netns as string,
        join(hostDirs[i], 'sshd.log'),
        join(hostDirs[i], 'home'),
      );
      state.processes.push({ role: 'sshd', host: h.name, pid });
      save();
    }
  }

  await install;
  for (const d of hostDirs.slice(1)) copyDatadir(join(hostDirs[0], 'data'), join(d, 'data'));

  o.log('starting mariadbd on every host (read_only=1)');
  const services: ServiceScripts[] = [];
  for (const [i, h] of hosts.entries()) {
    const cfg: ServerConfig = {
      serverId: i + 1,
      optionFile: join(hostDirs[i], 'my.cnf'),
      optionDir: join(hostDirs[i], 'conf.d'),
      datadir: join(hostDirs[i], 'data'),
      socket: h.socket,
      pidFile: join(hostDirs[i], 'mysqld.pid'),
      logError: join(hostDirs[i], 'mysqld.err'),
      bindAddress: netns ? '0.0.0.0' : '127.0.0.1',
      port: h.port,
      reportHost: h.address,
      semiSync: o.semiSync,
    };
    state.servers[h.name] = { config: cfg, netns: h.netns };
    services.push(writeServiceScripts(h.name, hostDirs[i], cfg, h.netns));
    h.pid = startServer(cfg, h.netns);
    state.processes.push({ role: 'mariadbd', host: h.name, pid: h.pid });
    save();
  }
  await Promise.all(hosts.map((h) => waitServer(h.socket, h.pid as number, o.dir)));

  o.log('accounts (sql_log_bin=0) and replication from db1 (GTID slave_pos)');
  await Promise.all(hosts.map((h) => withRoot(h.socket, (c) => createAccounts(c, accounts))));
  const primary = hosts[0];
  const pos = await withRoot(primary.socket, async (c) => {
    // MariaDB 10.11 does not count an acknowledgement of the first event sent to a semi-sync
    // replica that connected at an empty position ("semi-sync up to file , position 0"): that
    // commit waits the whole rpl_semi_sync_master_timeout (10 s).
    // Semi-sync (on in every node's configuration) is paused for this setup transaction and
    // resumed once the replicas have it (resumeSemiSync).
    if (o.semiSync) await c.query('SET GLOBAL rpl_semi_sync_master_enabled=0');
    await c.query(`CREATE DATABASE ${c.escapeId(ACCOUNT_NAMES.database)}`);
    return (await facts(c)).gtidBinlogPos;
  });
  await Promise.all(
    hosts.slice(1).map((h) =>
      withRoot(h.socket, async (c) => {
        if (o.semiSync) await c.query('SET GLOBAL rpl_semi_sync_slave_enabled=0');
        await replicateFrom(c, { host: primary.address, port: primary.port }, accounts.replication);
      }),
    ),
  );
  // Every replica streams before the primary is opened for writes.
  await Promise.all(
    hosts
      .slice(1)
      .map((h) =>
        waitFor(
          `${h.name} to connect to ${primary.name}`,
          () =>
            withRoot(h.socket, async (c) =>
              (await facts(c)).replica?.ioRunning === 'Yes' ? true : undefined,
            ),
          10_000,
        ),
      ),
  );
  await Promise.all(
    hosts.slice(1).map((h) =>
      withRoot(h.socket, async (c) => {
        const [rows] = await c.query('SELECT MASTER_GTID_WAIT(?, 10) AS r', [pos]);
        if (Number((rows as { r: number }[])[0].r) !== 0)
          throw new Error(`${h.name} did not apply ${pos} from ${primary.name} within 10 s`);
      }),
    ),
  );
  if (o.masterMaster) {
    // The way back of the pair: db1 replicates from db2 and skips its own writes coming back
    // (same server_id), as seed 004's pairs do. db2's binlog holds only db1's transactions now.
    o.log(`master-master: ${primary.name} replicates from ${hosts[1].name} too`);
    await withRoot(primary.socket, (c) =>
      replicateFrom(c, { host: hosts[1].address, port: hosts[1].port }, accounts.replication),
    );
    await waitFor(
      `${primary.name} to connect to ${hosts[1].name}`,
      () =>
        withRoot(primary.socket, async (c) =>
          (await facts(c)).replica?.ioRunning === 'Yes' ? true : undefined,
        ),
      10_000,
    );
  }
  if (o.semiSync) await resumeSemiSync(primary, hosts.slice(1));
  await withRoot(primary.socket, async (c) => {
    // The one time the lab itself makes a node writable; from here on only runbooks do.
    await c.query('SET GLOBAL read_only=0');
  });

  let haproxy: LabInfo['haproxy'] = null;
  let vip: LabInfo['vip'] = null;
  let writer: LabInfo['writer'];
  if (netns && ssh) {
    const address = net.vipAddress(subnet as net.Subnet);
    vip = { address, interface: 'eth0' };
    writer = { host: address, port: SQL_PORT };
  } else {
    const socket = made('haproxy.sock');
    const cfg = {
      configFile: made('haproxy.cfg'),
      pidFile: made('haproxy.pid'),
      socket,
      writerPort: o.basePort + 100,
      // A pair as seed 003 builds it: db2 enabled as db1's `backup`, taking writes once db1 is in maint.
      servers: hosts.map((h, i) => ({
        name: h.name,
        address: h.address,
        port: h.port,
        enabled: i === 0 || (o.masterMaster === true && i === 1),
        backup: o.masterMaster === true && i === 1,
      })),
    };
    writeHaproxyConfig(cfg);
    const pid = startHaproxy(cfg, made('haproxy.log'));
    state.processes.push({ role: 'haproxy', host: null, pid });
    save();
    await waitFor(
      'HAProxy runtime API',
      async () => ((await enabledServers(socket, WRITER_BACKEND)).length ? true : undefined),
      10_000,
    );
    haproxy = { runtimeApi: `unix:${socket}`, backend: WRITER_BACKEND, pid };
    writer = { host: '127.0.0.1', port: cfg.writerPort };
  }

  const inventoryFile = made('inventory.yaml');
  const { doc, inventory } = labInventory({
    hosts: hosts.map((h, i) => ({
      name: h.name,
      address: h.address,
      port: h.port,
      hostKey: ssh ? ssh.hostKeys[i] : null,
      service: services[i],
      // Written over SSH: only hosts with sshd (netns mode) get one.
      ...(ssh ? { optionFile: successoverOptionFile(state.servers[h.name].config) } : {}),
    })),
    traffic: vip
      ? { type: 'vip', address: `${vip.address}/32`, interface: vip.interface }
      : {
          type: 'haproxy',
          runtimeApi: (haproxy as NonNullable<LabInfo['haproxy']>).runtimeApi,
          backend: WRITER_BACKEND,
        },
    mysql: { user: accounts.admin.user, passwordFile: files.mysql },
    replication: { user: accounts.replication.user, passwordFile: files.replication },
    sshPrivateKeyFile: ssh ? ssh.clientKey : null,
    webhookTokenFile: files.webhook,
  });
  writeInventory(inventoryFile, doc);

  if (vip && ssh) {
    // Exactly as a production run: the traffic router over a pinned-key SSH connection.
    o.log(`VIP ${vip.address} to ${primary.name} over SSH (gratuitous ARP)`);
    const pool = new SshPool({
      user: 'root',
      privateKey: readFileSync(ssh.clientKey),
      connectTimeoutMs: 3000,
    });
    try {
      const router = createRouter(inventory.clusters[0], { ssh: pool });
      await waitFor(
        `sshd on ${primary.name}`,
        async () => (await router.attach(primary.name)).ok || undefined,
        10_000,
        100,
      );
    } finally {
      await pool.close();
    }
  }

  const info: LabInfo = {
    cluster: 'lab',
    inventory: inventoryFile,
    mode: o.mode,
    dir: o.dir,
    prefix: o.prefix,
    hosts,
    writer,
    vip,
    haproxy,
    temporal: null,
    app: { user: accounts.app.user, passwordFile: files.app, database: accounts.app.database },
    secrets: {
      mysqlPasswordFile: files.mysql,
      replicationPasswordFile: files.replication,
      sshPrivateKeyFile: ssh ? ssh.clientKey : null,
      webhookTokenFile: files.webhook,
    },
    semiSync: o.semiSync,
    masterMaster: o.masterMaster,
    alerting: null,
  };
  // The lab's own time (the Temporal hook below is extra and reported apart).
  state.upMs = Date.now() - Date.parse(state.startedAt);
  o.log(`lab up in ${(state.upMs / 1000).toFixed(1)} s`);
  if (o.alerting) info.alerting = await startAlerting(info, state, o.log, { webhookPort: o.webhookPort });
  if (o.temporal) info.temporal = await startTemporalHook(info, state, o.log, o.temporalPorts);
  return info;
}

/** Semi-sync on again, the replicas reconnecting from a non-empty position so acks count. */
async function resumeSemiSync(primary: LabHost, replicas: LabHost[]): Promise<void> {
  await withRoot(primary.socket, (c) => c.query('SET GLOBAL rpl_semi_sync_master_enabled=1'));
  await Promise.all(
    replicas.map((h) =>
      withRoot(h.socket, async (c) => {
        await c.query('STOP SLAVE IO_THREAD');
        await c.query('SET GLOBAL rpl_semi_sync_slave_enabled=1');
        await c.query('START SLAVE IO_THREAD');
      }),
    ),
  );
  await waitFor(
    `${replicas.length} semi-sync replica(s) on ${primary.name}`,
    () =>
      withRoot(primary.socket, async (c) => {
        const [rows] = await c.query("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'");
        return Number((rows as { Value: string }[])[0].Value) === replicas.length ? true : undefined;
      }),
    10_000,
  );
}

/** Removes what the state records, newest first; every step tolerates "already gone". */
async function teardown(st: LabState, log: (l: string) => void): Promise<void> {
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  for (const p of [...st.processes].reverse())
    await attempt(`kill ${p.role} ${p.pid}`, () => killHard(p.pid, st.dir));
  // A server restarted by its host's mariadbd-start.sh (a physical restore) has a pid of its own.
  for (const [host, s] of Object.entries(st.servers)) {
    const pid = runningPid(s.config, undefined);
    if (pid !== null) await attempt(`kill mariadbd ${pid} of ${host}`, () => killHard(pid, st.dir));
  }
  for (const ns of st.netns) {
    // Whatever still runs in our namespace is ours too (e.g. SSH sessions a runbook left open).
    await attempt(`processes in ${ns}`, async () => {
      if (!(await net.listNetns()).includes(ns)) return;
      const pids = (await run(['ip', 'netns', 'pids', ns])).split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
    await attempt(`ip netns del ${ns}`, () => net.delNetns(ns));
  }
  for (const l of st.links) await attempt(`ip link del ${l}`, () => net.delLink(l));
  if (st.bridge) await attempt(`ip link del ${st.bridge}`, () => net.delLink(st.bridge as string));
  for (const p of [...st.paths].reverse())
    await attempt(`rm ${p}`, async () => rmSync(join(st.dir, p), { recursive: true, force: true }));
  if (errors.length) throw new Error(`lab down left something behind:\n  ${errors.join('\n  ')}`);
  rmSync(join(st.dir, 'state.json'), { force: true });
  log(`removed the lab in ${st.dir}`);
}

/** Idempotent: no state file means nothing to remove. */
export async function labDown(
  opts: { dir?: string; log?: (l: string) => void } = {},
): Promise<{ removed: boolean }> {
  const dir = labDir(opts.dir);
  const log = opts.log ?? (() => undefined);
  if (!existsSync(dir) || !readState(dir)) {
    log(`no lab in ${dir}: nothing to remove`);
    return { removed: false };
  }
  let createdDir = false;
  await withLock(dir, 'lab down', async () => {
    const st = readState(dir);
    if (!st) return;
    createdDir = st.createdDir;
    await teardown(st, log);
  });
  removeDirIfEmpty(dir, createdDir);
  return { removed: true };
}

function requireHost(st: LabState, host: string): void {
  if (!st.servers[host])
    throw new Error(`unknown lab host "${host}": expected one of ${Object.keys(st.servers).join(', ')}`);
}

const serverProcess = (st: LabState, host: string) =>
  st.processes.find((p) => p.role === 'mariadbd' && p.host === host);

/** The host's running mariadbd, whoever started it (lab up, lab start, its start script); else null. */
export function serverPid(st: LabState, host: string): number | null {
  const s = st.servers[host];
  return s ? runningPid(s.config, serverProcess(st, host)?.pid) : null;
}

/** kill -9 the host's mariadbd (a crash, not a shutdown). */
export async function labKill(host: string, opts: { dir?: string } = {}): Promise<{ pid: number }> {
  const dir = labDir(opts.dir);
  return withLock(dir, `lab kill ${host}`, async () => {
    const st = requireState(dir);
    requireHost(st, host);
    const pid = serverPid(st, host);
    if (pid === null) throw new Error(`mariadbd on ${host} is not running: nothing to kill`);
    await killHard(pid, st.dir);
    return { pid };
  });
}

/** Restarts the host's mariadbd with its configuration, hence read-only. */
export async function labStart(host: string, opts: { dir?: string } = {}): Promise<{ pid: number }> {
  const dir = labDir(opts.dir);
  return withLock(dir, `lab start ${host}`, async () => {
    const st = requireState(dir);
    requireHost(st, host);
    const running = serverPid(st, host);
    if (running !== null) throw new Error(`mariadbd on ${host} is already running (pid ${running})`);
    const p = serverProcess(st, host);
    const { config, netns } = st.servers[host];
    const pid = startServer(config, netns);
    st.processes = st.processes.filter((x) => x !== p);
    st.processes.push({ role: 'mariadbd', host, pid });
    const h = st.info?.hosts.find((x) => x.name === host);
    if (h) h.pid = pid;
    writeState(st);
    await waitServer(config.socket, pid, st.dir);
    return { pid };
  });
}

function vethOf(st: LabState, host: string): string {
  requireHost(st, host);
  if (st.options.mode !== 'netns')
    throw new Error('partition/heal need the netns mode (a loopback lab shares one network stack)');
  return net.vethName(st.options.prefix, host);
}

/** Cuts the host off the bridge (its veth's bridge side down); processes keep running. */
export async function labPartition(host: string, opts: { dir?: string } = {}): Promise<void> {
  await net.setLink(vethOf(requireState(opts.dir), host), false);
}

export async function labHeal(host: string, opts: { dir?: string } = {}): Promise<void> {
  await net.setLink(vethOf(requireState(opts.dir), host), true);
}

/**
 * STONITH for the lab: fences a host through the lab's out-of-band path (its unix socket and its
 * namespace, like a server's management network), so it works on a partitioned host too. The
 * lab inventory's policy.fenceCommand may call it (`successover lab fence`, host from
 * SUCCESSOVER_HOST). read_only on, the VIP removed; mariadbd keeps running for investigation.
 */
export async function labFence(host: string, opts: { dir?: string } = {}): Promise<string[]> {
  const st = requireState(opts.dir);
  requireHost(st, host);
  const h = st.info?.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no lab host ${host}`);
  const done: string[] = [];
  if (serverPid(st, host) !== null) {
    await withRoot(h.socket, (c) => c.query('SET GLOBAL read_only = 1'));
    done.push(`read_only=ON on ${host}`);
  } else done.push(`mariadbd on ${host} is not running`);
  if (h.netns && st.info?.vip)
    done.push(
      (await net.nsDelAddress(h.netns, `${st.info.vip.address}/32`))
        ? `VIP ${st.info.vip.address} removed from ${host}`
        : `VIP not on ${host}`,
    );
  return done;
}

async function hostStatus(st: LabState, h: LabHost): Promise<HostStatus> {
  const pid = serverPid(st, h.name);
  const s: HostStatus = {
    ...h,
    pid,
    up: false,
    role: 'down',
    readOnly: null,
    holdsVip: null,
    partitioned: false,
    ioRunning: null,
    sqlRunning: null,
    gtidCurrentPos: null,
    lastError: null,
  };
  if (st.options.mode === 'netns' && h.netns) {
    s.partitioned = !(await net.linkIsUp(net.vethName(st.options.prefix, h.name)).catch(() => false));
    if (st.info?.vip) s.holdsVip = await net.nsHasAddress(h.netns, st.info.vip.address).catch(() => null);
  }
  if (pid === null) return s;
  try {
    const c = await connectRoot(h.socket, 1000);
    try {
      const f = await facts(c);
      s.up = true;
      s.readOnly = f.readOnly;
      s.gtidCurrentPos = f.gtidCurrentPos;
      // Writable is the primary even while it replicates (a master-master pair's writer).
      s.role = !f.readOnly ? 'primary' : f.replica ? 'replica' : 'read-only';
      if (f.replica) {
        s.ioRunning = f.replica.ioRunning;
        s.sqlRunning = f.replica.sqlRunning;
        s.lastError = f.replica.lastError || null;
      }
    } finally {
      c.destroy();
    }
  } catch (e) {
    s.lastError = (e as Error).message;
  }
  return s;
}

export async function labStatus(opts: { dir?: string } = {}): Promise<LabStatus> {
  const st = requireState(opts.dir);
  if (!st.info)
    throw new Error(
      `the lab in ${st.dir} is half-built: run \`successover lab up\` to repair it or \`lab down\``,
    );
  const hosts = await Promise.all(st.info.hosts.map((h) => hostStatus(st, h)));
  let vipHolders: string[];
  if (st.info.haproxy) {
    const sock = st.info.haproxy.runtimeApi.replace(/^unix:/, '');
    vipHolders = await enabledServers(sock, st.info.haproxy.backend).catch(() => []);
    for (const h of hosts) h.holdsVip = vipHolders.includes(h.name);
  } else vipHolders = hosts.filter((h) => h.holdsVip).map((h) => h.name);
  const helpers = st.processes.filter((p) => p.role !== 'mariadbd');
  return {
    ...st.info,
    hosts,
    vipHolders,
    up: st.complete && helpers.every((p) => isOurs(p.pid, st.dir)),
  };
}

/** For tests and tools: the lab's state as recorded (what exists, not what answers). */
export function labState(dir?: string): LabState | undefined {
  const d = labDir(dir);
  return existsSync(d) ? readState(d) : undefined;
}
