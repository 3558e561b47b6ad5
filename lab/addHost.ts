// `lab add-host NAME`: an empty server joins a running lab, as configuration management hands a
// DBA a fresh machine: its own namespace and sshd (pinned host key) in netns mode, a mariadbd from
// a fresh install (read-only, accounts made without binlog events, so its GTID state is empty), no
// application database and no replication. Provisioning fills it. Every resource is recorded in
// state.json as it is made, so `lab down` removes it with the rest; a failed add removes its own.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findCluster, type Host } from '../domain/inventory';
import { SshPool } from '../activities/ssh';
import { backendServers, haproxyCommand } from './runtimeApi';
import { writeHaproxyConfig } from './haproxy';
import { ACCOUNT_NAMES, SQL_PORT } from './defaults';
import { withInventoryHost, writeInventory } from './labInventory';
import {
  createAccounts,
  facts,
  installTemplate,
  startServer,
  successoverOptionFile,
  waitServer,
  withRoot,
  type ServerConfig,
} from './mariadb';
import * as net from './net';
import { portFree } from './ports';
import { runningPid, writeServiceScripts } from './service';
import { killHard, waitFor } from './sh';
import { keygen, pinnedKey, startSshd, writeSshdConfig } from './sshd';
import { labDir, readState, requireState, withLock, writeState } from './state';
import type { LabHost, LabState } from './types';

const NAME = /^[a-z][a-z0-9]*$/;
/** Entries of the lab dir that are not hosts. */
const RESERVED = ['secrets', 'ssh', 'alerting', 'temporal', 'haproxy', 'inventory', 'state'];
/** netns mode: host addresses .11-.99 of the /24 (.1 is the bridge, .100 the VIP). */
const FIRST_HOST_INDEX = 1;
const LAST_HOST_INDEX = 89;
/** loopback mode: ports base+0 .. base+99 (base+100 is the HAProxy writer). */
const LOOPBACK_PORTS = 100;

function checkName(st: LabState, dir: string, name: string): void {
  if (!NAME.test(name))
    throw new Error(
      `host name "${name}": expected lowercase letters and digits starting with a letter, e.g. db4`,
    );
  if (st.servers[name] || st.info?.hosts.some((h) => h.name === name))
    throw new Error(
      `host name "${name}" is taken: the lab has ${Object.keys(st.servers).join(', ')}; choose another name`,
    );
  if (RESERVED.includes(name) || existsSync(join(dir, name)))
    throw new Error(`host name "${name}" is taken by ${join(dir, name)} in the lab dir; choose another name`);
  const link = net.vethName(st.options.prefix, name);
  // Linux link names are at most 15 characters.
  if (st.options.mode === 'netns' && link.length > 15)
    throw new Error(
      `host name "${name}" is too long: its link would be ${link} (${link.length} characters, at most 15); ` +
        `use at most ${15 - st.options.prefix.length - 1} characters`,
    );
  const sock = join(dir, name, 'mysqld.sock');
  if (sock.length > 100)
    throw new Error(`host name "${name}": its socket ${sock} is too long; use a shorter name`);
}

function nextAddress(st: LabState): string {
  const subnet = net.parseSubnet(st.options.subnet);
  const used = new Set((st.info as NonNullable<LabState['info']>).hosts.map((h) => h.address));
  for (let i = FIRST_HOST_INDEX; i <= LAST_HOST_INDEX; i++) {
    const a = net.hostAddress(subnet, i);
    if (!used.has(a)) return a;
  }
  throw new Error(
    `no free address in ${st.options.subnet}: hosts use .${10 + FIRST_HOST_INDEX}-.${10 + LAST_HOST_INDEX} and all are taken`,
  );
}

async function nextPort(st: LabState): Promise<number> {
  const used = new Set((st.info as NonNullable<LabState['info']>).hosts.map((h) => h.port));
  for (let i = 0; i < LOOPBACK_PORTS; i++) {
    const p = st.options.basePort + i;
    if (!used.has(p) && p !== 3306 && (await portFree(p))) return p;
  }
  throw new Error(
    `no free port in ${st.options.basePort}-${st.options.basePort + LOOPBACK_PORTS - 1} on 127.0.0.1 for another host`,
  );
}

/** Adds an empty, read-only, never-replicated host to the running lab; see the file comment. */
export async function labAddHost(
  name: string,
  opts: {
    dir?: string;
    log?: (l: string) => void;
    /** false: the host is made but left out of the lab inventory, for a run's `newHost` to add it. */
    inventory?: boolean;
  } = {},
): Promise<LabHost & { entry: Host }> {
  const dir = labDir(opts.dir);
  const log = opts.log ?? (() => undefined);
  if (!existsSync(dir) || !readState(dir))
    throw new Error(`no lab in ${dir}: run \`successover lab up\` first`);
  return withLock(dir, `lab add-host ${name}`, async () => {
    const st = requireState(dir);
    if (!st.complete || !st.info)
      throw new Error(
        `the lab in ${dir} is half-built: run \`successover lab up\` to repair it or \`lab down\``,
      );
    if (st.options.clusters)
      throw new Error(
        'lab add-host works on the lab `lab`, not on a fleet (`lab up --clusters`): a fleet cluster has no room for more hosts',
      );
    checkName(st, dir, name);
    if (st.options.mode === 'netns' && !(st.bridge && (await net.linkExists(st.bridge))))
      throw new Error(
        `the lab in ${dir} is not running (its bridge ${st.bridge ?? '?'} is gone): \`successover lab down\`, then \`lab up\``,
      );
    const before = snapshot(st);
    try {
      const inInventory = opts.inventory ?? true;
      const host = await addHost(st, name, inInventory, log);
      log(
        `${name} added: ${host.address}:${host.port}, read-only, empty, no replication${inInventory ? '' : ', not in the inventory'}`,
      );
      return host;
    } catch (e) {
      if (!st.info.hosts.some((h) => h.name === name)) {
        log(`adding ${name} failed (${(e as Error).message}); removing what it made`);
        await undo(st, before, log).catch((u: Error) => log(`cleanup failed too: ${u.message}`));
      }
      throw e;
    }
  });
}

type Snapshot = Pick<LabState, 'netns' | 'links' | 'processes' | 'paths'> & { servers: string[] };

const snapshot = (st: LabState): Snapshot => ({
  netns: [...st.netns],
  links: [...st.links],
  processes: [...st.processes],
  paths: [...st.paths],
  servers: Object.keys(st.servers),
});

/** Removes what a failed add made (what the state gained since `before`), then the records. */
async function undo(st: LabState, before: Snapshot, log: (l: string) => void): Promise<void> {
  for (const p of st.processes.filter((x) => !before.processes.includes(x)).reverse())
    await killHard(p.pid, st.dir);
  for (const [host, s] of Object.entries(st.servers))
    if (!before.servers.includes(host)) {
      await killHard(runningPid(s.config, undefined) ?? undefined, st.dir);
      await removeHaproxyServer(st, host).catch(() => undefined);
    }
  for (const ns of st.netns.filter((n) => !before.netns.includes(n))) await net.delNetns(ns);
  for (const l of st.links.filter((n) => !before.links.includes(n))) await net.delLink(l);
  for (const p of st.paths.filter((n) => !before.paths.includes(n)).reverse())
    rmSync(join(st.dir, p), { recursive: true, force: true });
  st.netns = before.netns;
  st.links = before.links;
  st.processes = before.processes;
  st.paths = before.paths;
  for (const host of Object.keys(st.servers)) if (!before.servers.includes(host)) delete st.servers[host];
  writeState(st);
  log('removed');
}

async function addHost(
  st: LabState,
  name: string,
  inInventory: boolean,
  log: (l: string) => void,
): Promise<LabHost & { entry: Host }> {
  const info = st.info as NonNullable<LabState['info']>;
  const netns = st.options.mode === 'netns';
  const save = () => writeState(st);
  const made = (p: string) => {
    st.paths.push(p);
    save();
    return join(st.dir, p);
  };

  const address = netns ? nextAddress(st) : '127.0.0.1';
  const port = netns ? SQL_PORT : await nextPort(st);
  const ns = netns ? net.nsName(st.options.prefix, name) : null;
  if (ns) {
    const veth = net.vethName(st.options.prefix, name);
    if ((await net.listNetns()).includes(ns))
      throw new Error(
        `network namespace ${ns} exists and this lab did not make it (remove it: ip netns del ${ns})`,
      );
    if (await net.linkExists(veth)) throw new Error(`link ${veth} exists and this lab did not make it`);
  }

  const hostDir = made(name);
  mkdirSync(hostDir, { mode: 0o700 });
  log(`${name}: installing an empty MariaDB data directory`);
  const install = installTemplate(join(hostDir, 'data'));
  // Never left unobserved: a failure below (network, sshd) must not leave it rejecting unhandled.
  install.catch(() => undefined);

  let hostKey: string | null = null;
  if (ns) {
    const veth = net.vethName(st.options.prefix, name);
    log(`${name}: namespace ${ns}, ${address} on ${st.bridge}`);
    st.netns.push(ns);
    st.links.push(veth);
    save();
    await net.addNetns(ns);
    await net.plugHost(ns, veth, st.bridge as string, address);
    const sshDir = join(st.dir, 'ssh');
    const keyFile = join(sshDir, `${name}_host_ed25519`);
    made(`ssh/${name}_host_ed25519`);
    made(`ssh/${name}_host_ed25519.pub`);
    hostKey = pinnedKey(await keygen(keyFile, `${name}-host`));
    const cfg = {
      configFile: join(hostDir, 'sshd_config'),
      hostKey: keyFile,
      pidFile: join(hostDir, 'sshd.pid'),
      authorizedKeys: join(sshDir, 'authorized_keys'),
    };
    writeSshdConfig(cfg);
    const pid = startSshd(cfg.configFile, ns, join(hostDir, 'sshd.log'), join(hostDir, 'home'));
    st.processes.push({ role: 'sshd', host: name, pid });
    save();
  }
  await install;

  const serverIds = Object.values(st.servers).map((s) => s.config.serverId);
  const cfg: ServerConfig = {
    serverId: Math.max(0, ...serverIds) + 1,
    optionFile: join(hostDir, 'my.cnf'),
    optionDir: join(hostDir, 'conf.d'),
    datadir: join(hostDir, 'data'),
    socket: join(hostDir, 'mysqld.sock'),
    pidFile: join(hostDir, 'mysqld.pid'),
    logError: join(hostDir, 'mysqld.err'),
    bindAddress: netns ? '0.0.0.0' : '127.0.0.1',
    port,
    reportHost: address,
    semiSync: st.options.semiSync,
  };
  st.servers[name] = { config: cfg, netns: ns };
  const service = writeServiceScripts(name, hostDir, cfg, ns);
  log(`${name}: mariadbd (server_id ${cfg.serverId}, read_only=1)`);
  const pid = startServer(cfg, ns);
  st.processes.push({ role: 'mariadbd', host: name, pid });
  save();
  await waitServer(cfg.socket, pid, st.dir);

  const secret = (f: string) => readFileSync(f, 'utf8').trim();
  await withRoot(cfg.socket, async (c) => {
    await createAccounts(c, {
      admin: { user: ACCOUNT_NAMES.admin, password: secret(info.secrets.mysqlPasswordFile) },
      replication: {
        user: ACCOUNT_NAMES.replication,
        password: secret(info.secrets.replicationPasswordFile),
      },
      app: {
        user: ACCOUNT_NAMES.app,
        password: secret(info.app.passwordFile),
        database: ACCOUNT_NAMES.database,
      },
    });
    // What makes it "unprovisioned" to the runbooks: nothing in its GTID state, no source, read-only.
    const f = await facts(c);
    const [[gtid]] = (await c.query('SELECT @@global.gtid_slave_pos AS slave')) as unknown as [
      { slave: string }[],
    ];
    if (f.gtidBinlogPos !== '' || f.gtidCurrentPos !== '' || gtid.slave !== '' || f.replica || !f.readOnly)
      throw new Error(
        `${name} is not an empty read-only server after install (gtid_binlog_pos "${f.gtidBinlogPos}", ` +
          `gtid_current_pos "${f.gtidCurrentPos}", read_only ${f.readOnly}, replica ${f.replica ? 'yes' : 'no'}): a bug`,
      );
  });

  if (info.haproxy) await addHaproxyServer(st, name, port);

  const { doc, inventory } = withInventoryHost(info.inventory, {
    name,
    address,
    port,
    hostKey,
    service,
    ...(hostKey ? { optionFile: successoverOptionFile(cfg) } : {}),
  });
  if (hostKey && info.secrets.sshPrivateKeyFile) {
    // The host is usable only when a runbook can log in with the pinned key, as it will.
    const pool = new SshPool({
      user: 'root',
      privateKey: readFileSync(info.secrets.sshPrivateKeyFile),
      connectTimeoutMs: 3000,
    });
    const h = findCluster(inventory, 'lab').hosts.find((x) => x.name === name);
    try {
      await waitFor(
        `sshd on ${name} (pinned key)`,
        async () =>
          (await pool.exec(h as NonNullable<typeof h>, 'true', { timeoutMs: 3000 })).code === 0
            ? true
            : undefined,
        10_000,
        100,
      );
    } finally {
      await pool.close();
    }
  }

  // Last: once the inventory names the host, it is complete.
  if (inInventory) writeInventory(info.inventory, doc);
  const host: LabHost = { name, address, port, netns: ns, pid, socket: cfg.socket };
  info.hosts.push(host);
  info.clusters?.[0]?.hosts.push(host);
  save();
  const entry = findCluster(inventory, 'lab').hosts.find((x) => x.name === name) as Host;
  return { ...host, entry };
}

/**
 * Loopback mode: the HAProxy writer backend learns the host (in maintenance, as every replica is),
 * so a runbook can later move the writer to it. Added at runtime, and written into haproxy.cfg.
 */
async function addHaproxyServer(st: LabState, name: string, port: number): Promise<void> {
  const info = st.info as NonNullable<LabState['info']>;
  const ha = info.haproxy as NonNullable<typeof info.haproxy>;
  const socket = ha.runtimeApi.replace(/^unix:/, '');
  const out = await haproxyCommand(
    socket,
    `add server ${ha.backend}/${name} 127.0.0.1:${port} on-marked-down shutdown-sessions disabled`,
  );
  if (!/New server registered/i.test(out))
    throw new Error(`HAProxy refused the new server ${name}: ${out.trim() || '(no answer)'}`);
  // From what HAProxy runs now, so a pair's `backup` standby stays one in the rewritten file.
  const now = new Map((await backendServers(socket, ha.backend)).map((s) => [s.name, s]));
  writeHaproxyConfig({
    configFile: join(st.dir, 'haproxy.cfg'),
    pidFile: join(st.dir, 'haproxy.pid'),
    socket,
    writerPort: info.writer.port,
    servers: [...info.hosts, { name, address: '127.0.0.1', port }].map((h) => ({
      name: h.name,
      address: h.address,
      port: h.port,
      enabled: now.get(h.name)?.enabled ?? false,
      backup: now.get(h.name)?.backup ?? false,
    })),
  });
}

/** Undoes addHaproxyServer (a failed add); nothing when the server is not there. */
async function removeHaproxyServer(st: LabState, name: string): Promise<void> {
  const ha = st.info?.haproxy;
  if (!ha) return;
  const socket = ha.runtimeApi.replace(/^unix:/, '');
  await haproxyCommand(socket, `set server ${ha.backend}/${name} state maint`);
  await haproxyCommand(socket, `del server ${ha.backend}/${name}`);
}
