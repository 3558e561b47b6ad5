// What `lab up` makes, from its plan (lab/plan.ts): the same steps for the lab `lab` and for a
// fleet, each step taking the hosts of every cluster at once (one mariadb-install-db, datadirs
// copied, servers started together) or one cluster's (replication, the writer endpoint). Every
// resource is recorded in the state before it is made, so `lab down` removes it whatever fails.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRouter } from '../activities/traffic/router';
import { SshPool } from '../activities/ssh';
import { startAlerting } from './alerting';
import { ACCOUNT_NAMES, SQL_PORT } from './defaults';
import { startHaproxy, writeHaproxyRoutes } from './haproxy';
import { labInventory, writeInventory } from './labInventory';
import {
  installTemplate,
  startServer,
  successoverOptionFile,
  waitServer,
  type Accounts,
  type ServerConfig,
} from './mariadb';
import * as net from './net';
import { fileKey, type ClusterPlan, type HostPlan, type Resolved } from './plan';
import { enabledServers } from './runtimeApi';
import { writeServiceScripts, type ServiceScripts } from './service';
import { mapLimit, run, waitFor } from './sh';
import { keygen, pinnedKey, startSshd, writeSshdConfig } from './sshd';
import { writeState } from './state';
import { replicate } from './replication';
import { startTemporalHook } from './temporal';
import type { LabCluster, LabHost, LabInfo, LabState } from './types';

/** Namespaces, keys, copies and SSH handshakes at once: enough to overlap, few enough for 2 cores. */
const PARALLEL = 8;

interface Build {
  o: Resolved;
  state: LabState;
  save(): void;
  /** Records a path under the lab dir (before it is made) and returns it in full. */
  made(p: string): string;
}

type Secrets = { accounts: Accounts; files: Record<'mysql' | 'replication' | 'app' | 'webhook', string> };
type Ssh = { clientKey: string; hostKeys: Map<string, string> };

export async function build(o: Resolved, state: LabState, plan: ClusterPlan[]): Promise<LabInfo> {
  const b: Build = {
    o,
    state,
    save: () => writeState(state),
    made(p) {
      state.paths.push(p);
      writeState(state);
      return join(o.dir, p);
    },
  };
  const hosts = plan.flatMap((c) => c.hosts);
  const secrets = makeSecrets(b);
  for (const d of [...plan.flatMap((c) => (c.dir ? [c.dir] : [])), ...hosts.map((h) => h.dir)])
    mkdirSync(b.made(d), { mode: 0o700 });

  // The slow part (mariadb-install-db, ~2 s) runs once, and its copies are made for the other
  // hosts, while the network and keys are made.
  o.log(`installing the MariaDB data directory${hosts.length > 1 ? ` and ${hosts.length - 1} copies` : ''}`);
  const template = join(o.dir, hosts[0].dir, 'data');
  const data = installTemplate(template).then(() =>
    mapLimit(hosts.slice(1), 4, (h) => run(['cp', '-a', template, join(o.dir, h.dir, 'data')])),
  );
  let ssh: Ssh | null = null;
  try {
    if (o.mode === 'netns') {
      await makeNetwork(b, hosts);
      ssh = await makeSshds(b, hosts);
    }
  } catch (e) {
    // Settled before the teardown that follows removes its directories.
    await data.catch(() => undefined);
    throw e;
  }
  await data;

  const labHosts = await startServers(b, hosts);
  const clusterHosts = (c: ClusterPlan) => c.hosts.map((h) => labHosts.get(h.id) as LabHost);
  o.log(
    plan.length === 1
      ? `accounts (sql_log_bin=0) and replication from ${plan[0].hosts[0].id} (GTID slave_pos)`
      : `accounts (sql_log_bin=0) and replication in ${plan.length} clusters (GTID slave_pos)`,
  );
  // All at once; a failure rejects once the others have ended (mapLimit), not under the teardown.
  await mapLimit(plan, plan.length, (c) => replicate(clusterHosts(c), secrets.accounts, o));

  const clusters = await writerEndpoints(b, plan, clusterHosts);
  const inventoryFile = b.made('inventory.yaml');
  const { doc, inventory } = labInventory({
    clusters: plan.map((c, ci) => ({
      name: c.name,
      labels: c.labels,
      hosts: c.hosts.map((h) => ({
        name: h.name,
        address: h.address,
        port: h.port,
        hostKey: ssh ? (ssh.hostKeys.get(h.id) as string) : null,
        service: labHosts.get(h.id)?.service as ServiceScripts,
        // Written over SSH: only hosts with sshd (netns mode) get one.
        ...(ssh ? { optionFile: successoverOptionFile(state.servers[h.id].config) } : {}),
        ...(h.machine ? { machine: h.machine } : {}),
      })),
      traffic: clusters[ci].vip
        ? { type: 'vip', address: `${clusters[ci].vip.address}/32`, interface: clusters[ci].vip.interface }
        : { type: 'haproxy', runtimeApi: clusters[ci].haproxy?.runtimeApi ?? '', backend: c.backend },
    })),
    mysql: { user: secrets.accounts.admin.user, passwordFile: secrets.files.mysql },
    replication: { user: secrets.accounts.replication.user, passwordFile: secrets.files.replication },
    sshPrivateKeyFile: ssh?.clientKey ?? null,
    webhookTokenFile: secrets.files.webhook,
  });
  writeInventory(inventoryFile, doc);

  if (ssh) {
    // Exactly as a production run: the traffic router over a pinned-key SSH connection.
    o.log(
      plan.length === 1
        ? `VIP ${plan[0].vip} to ${plan[0].hosts[0].id} over SSH (gratuitous ARP)`
        : `${plan.length} VIPs to their primaries over SSH (gratuitous ARP)`,
    );
    const pool = new SshPool({
      user: 'root',
      privateKey: readFileSync(ssh.clientKey),
      connectTimeoutMs: 3000,
    });
    try {
      await mapLimit(inventory.clusters, PARALLEL, async (c) => {
        const router = createRouter(c, { ssh: pool });
        await waitFor(
          `sshd on ${c.name}'s ${c.hosts[0].name}`,
          async () => (await router.attach(c.hosts[0].name)).ok || undefined,
          10_000 + 1000 * plan.length,
          100,
        );
      });
    } finally {
      await pool.close();
    }
  }

  const first = clusters[0];
  const info: LabInfo = {
    cluster: first.name,
    inventory: inventoryFile,
    mode: o.mode,
    dir: o.dir,
    prefix: o.prefix,
    hosts: clusters.flatMap((c) => c.hosts),
    writer: first.writer,
    vip: first.vip,
    haproxy: first.haproxy,
    clusters,
    temporal: null,
    app: {
      user: secrets.accounts.app.user,
      passwordFile: secrets.files.app,
      database: secrets.accounts.app.database,
    },
    secrets: {
      mysqlPasswordFile: secrets.files.mysql,
      replicationPasswordFile: secrets.files.replication,
      sshPrivateKeyFile: ssh?.clientKey ?? null,
      webhookTokenFile: secrets.files.webhook,
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

const secret = () => randomBytes(18).toString('base64url');

/** One set of accounts for every host of the lab, their passwords in files (mode 0600). */
function makeSecrets(b: Build): Secrets {
  const dir = b.made('secrets');
  mkdirSync(dir, { mode: 0o700 });
  const accounts: Accounts = {
    admin: { user: ACCOUNT_NAMES.admin, password: secret() },
    replication: { user: ACCOUNT_NAMES.replication, password: secret() },
    app: { user: ACCOUNT_NAMES.app, password: secret(), database: ACCOUNT_NAMES.database },
  };
  const pwFile = (n: string, v: string) => {
    const f = join(dir, `${n}.pw`);
    writeFileSync(f, v + '\n', { mode: 0o600 });
    return f;
  };
  return {
    accounts,
    files: {
      mysql: pwFile('mysql', accounts.admin.password),
      replication: pwFile('replication', accounts.replication.password),
      app: pwFile('app', accounts.app.password),
      webhook: pwFile('webhook-token', secret()),
    },
  };
}

/** The bridge, and per host a namespace plugged into it (its veth's bridge side named as it). */
async function makeNetwork(b: Build, hosts: HostPlan[]): Promise<void> {
  const { o, state } = b;
  const s = net.parseSubnet(o.subnet);
  const bridge = net.bridgeName(o.prefix);
  o.log(`network: bridge ${bridge} ${o.subnet}, ${hosts.length} namespaces`);
  state.bridge = bridge;
  b.save();
  await net.addBridge(bridge, s);
  for (const h of hosts) {
    state.netns.push(h.netns as string);
    state.links.push(h.netns as string);
  }
  b.save();
  await mapLimit(hosts, PARALLEL, async (h) => {
    await net.addNetns(h.netns as string);
    await net.plugHost(h.netns as string, h.netns as string, bridge, h.address);
  });
}

/** One client key for the lab; per host a pinned host key and an sshd in its namespace. */
async function makeSshds(b: Build, hosts: HostPlan[]): Promise<Ssh> {
  const { o, state } = b;
  const sshDir = b.made('ssh');
  mkdirSync(sshDir, { mode: 0o700 });
  const clientPub = await keygen(join(sshDir, 'client_ed25519'), 'successover-lab-client');
  const keyFile = (h: HostPlan) => join(sshDir, `${fileKey(h)}_host_ed25519`);
  const hostKeys = await mapLimit(hosts, PARALLEL, (h) => keygen(keyFile(h), `${fileKey(h)}-host`));
  writeFileSync(join(sshDir, 'authorized_keys'), clientPub + '\n', { mode: 0o600 });
  // Debian's sshd needs its privilege separation dir. It is shared with the system and with
  // other labs, so it is recorded but never removed.
  if (!existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { mode: 0o755 });
    state.createdRunSshd = true;
  }
  for (const h of hosts) {
    const dir = join(o.dir, h.dir);
    const cfg = {
      configFile: join(dir, 'sshd_config'),
      hostKey: keyFile(h),
      pidFile: join(dir, 'sshd.pid'),
      authorizedKeys: join(sshDir, 'authorized_keys'),
    };
    writeSshdConfig(cfg);
    const pid = startSshd(cfg.configFile, h.netns as string, join(dir, 'sshd.log'), join(dir, 'home'));
    state.processes.push({ role: 'sshd', host: h.id, pid });
  }
  b.save();
  return {
    clientKey: join(sshDir, 'client_ed25519'),
    hostKeys: new Map(hosts.map((h, i) => [h.id, pinnedKey(hostKeys[i])])),
  };
}

/** Every mariadbd at once (read_only=1, datadirs ready), until all answer. */
async function startServers(
  b: Build,
  hosts: HostPlan[],
): Promise<Map<string, LabHost & { service: ServiceScripts }>> {
  const { o, state } = b;
  o.log(`starting mariadbd on ${hosts.length} hosts (read_only=1)`);
  const out = new Map<string, LabHost & { service: ServiceScripts }>();
  for (const h of hosts) {
    const dir = join(o.dir, h.dir);
    const cfg: ServerConfig = {
      serverId: h.serverId,
      optionFile: join(dir, 'my.cnf'),
      optionDir: join(dir, 'conf.d'),
      datadir: join(dir, 'data'),
      socket: join(dir, 'mysqld.sock'),
      pidFile: join(dir, 'mysqld.pid'),
      logError: join(dir, 'mysqld.err'),
      bindAddress: h.netns ? '0.0.0.0' : '127.0.0.1',
      port: h.port,
      reportHost: h.address,
      semiSync: o.semiSync,
      ...(h.small ? { small: true } : {}),
    };
    state.servers[h.id] = { config: cfg, netns: h.netns };
    const service = writeServiceScripts(h.id, dir, cfg, h.netns);
    const pid = startServer(cfg, h.netns);
    state.processes.push({ role: 'mariadbd', host: h.id, pid });
    b.save();
    out.set(h.id, {
      name: h.id,
      address: h.address,
      port: h.port,
      netns: h.netns,
      pid,
      socket: cfg.socket,
      ...(h.id !== h.name ? { cluster: h.cluster, machine: h.machine } : {}),
      service,
    });
  }
  // Many servers starting at once on a small machine share its cores: more time for more.
  const timeoutMs = 20_000 + 1000 * hosts.length;
  await Promise.all([...out.values()].map((h) => waitServer(h.socket, h.pid as number, o.dir, timeoutMs)));
  return out;
}

/**
 * Each cluster's writer: its VIP (netns; attached once the inventory is written), or its frontend
 * on the lab's one HAProxy (loopback), whose backend enables the primary only (a pair: db2 too,
 * as db1's `backup`, as seed 003 builds it).
 */
async function writerEndpoints(
  b: Build,
  plan: ClusterPlan[],
  hostsOf: (c: ClusterPlan) => LabHost[],
): Promise<LabCluster[]> {
  const cluster = (c: ClusterPlan, rest: Pick<LabCluster, 'writer' | 'vip' | 'haproxy'>): LabCluster => ({
    name: c.name,
    labels: c.labels,
    hosts: hostsOf(c).map(({ service: _, ...h }: LabHost & { service?: unknown }) => h),
    ...rest,
  });
  if (b.o.mode === 'netns')
    return plan.map((c) =>
      cluster(c, {
        writer: { host: c.vip as string, port: SQL_PORT },
        vip: { address: c.vip as string, interface: 'eth0' },
        haproxy: null,
      }),
    );
  const socket = b.made('haproxy.sock');
  const mm = b.o.masterMaster === true;
  const cfg = {
    configFile: b.made('haproxy.cfg'),
    pidFile: b.made('haproxy.pid'),
    socket,
    routes: plan.map((c) => ({
      frontend: c.frontend,
      port: c.writerPort as number,
      backend: c.backend,
      servers: c.hosts.map((h, i) => ({
        name: h.name,
        address: h.address,
        port: h.port,
        enabled: i === 0 || (mm && i === 1),
        backup: mm && i === 1,
      })),
    })),
  };
  writeHaproxyRoutes(cfg);
  const pid = startHaproxy(cfg, b.made('haproxy.log'));
  b.state.processes.push({ role: 'haproxy', host: null, pid });
  b.save();
  await waitFor(
    'HAProxy runtime API',
    async () => ((await enabledServers(socket, plan[0].backend)).length ? true : undefined),
    10_000,
  );
  return plan.map((c) =>
    cluster(c, {
      writer: { host: '127.0.0.1', port: c.writerPort as number },
      vip: null,
      haproxy: { runtimeApi: `unix:${socket}`, backend: c.backend, pid },
    }),
  );
}
