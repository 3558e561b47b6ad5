import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { generateData } from '../../bench/datagen';
import { facts, withRoot } from '../../lab/mariadb';
import {
  ACCOUNT_NAMES,
  labAddHost,
  labDown,
  labHeal,
  labFence,
  labKill,
  labPartition,
  labStart,
  labStatus,
  labUp,
  labState,
  localName,
  type HostStatus,
  type LabCluster,
  type LabStatus,
} from '../../lab/index';

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${what}: expected an integer, got ${v}`);
  return n;
};

interface UpOptions {
  clusters?: number;
  hosts?: number;
  mode?: 'netns' | 'loopback';
  semiSync?: boolean;
  masterMaster?: boolean;
  json?: boolean;
  prefix?: string;
  subnet?: string;
  dir?: string;
  basePort?: number;
  temporal: boolean;
  temporalPort?: number;
  temporalUiPort?: number;
  alerting?: boolean;
  webhookPort?: number;
}

type Host = { name: string; address: string; port: number; netns: string | null; pid: number | null };
const hostSummary = (h: Host & { machine?: string }) => ({
  name: h.name,
  address: h.address,
  port: h.port,
  netns: h.netns,
  pid: h.pid,
  ...(h.machine ? { machine: h.machine } : {}),
});

/** The --json shape: hosts reduced to what scripts need; `clusters` one per cluster (a fleet's). */
function summary(i: {
  cluster: string;
  inventory: string;
  mode: string;
  hosts: Host[];
  writer: { host: string; port: number };
  temporal: { address: string; ui: string } | null;
  alerting: LabStatus['alerting'];
  clusters?: LabCluster[];
}) {
  return {
    cluster: i.cluster,
    inventory: i.inventory,
    mode: i.mode,
    hosts: i.hosts.map(hostSummary),
    writer: i.writer,
    temporal: i.temporal,
    alerting: i.alerting,
    clusters: (i.clusters ?? []).map((c) => ({
      name: c.name,
      labels: c.labels,
      writer: c.writer,
      vip: c.vip?.address ?? null,
      backend: c.haproxy?.backend ?? null,
      hosts: c.hosts.map(hostSummary),
    })),
  };
}

/** What is wrong with a host, for a fleet's one line per cluster. */
function problemsOf(h: HostStatus): string[] {
  return [
    h.partitioned ? 'PARTITIONED' : '',
    h.role === 'replica' && (h.ioRunning !== 'Yes' || h.sqlRunning !== 'Yes')
      ? `io=${h.ioRunning} sql=${h.sqlRunning}`
      : '',
    // Compact: the start of it (`lab status --json` has all of it).
    h.lastError ? `error: ${h.lastError.length > 60 ? `${h.lastError.slice(0, 60)}...` : h.lastError}` : '',
  ].filter(Boolean);
}

const hostWord = (h: HostStatus) =>
  `${localName(h)} ${h.role}${problemsOf(h).length ? ` [${problemsOf(h).join(', ')}]` : ''}`;

function printFleetStatus(s: LabStatus): void {
  // Healthy: no host with a problem, and the writer on the one writable host.
  const healthy = s.clusters.filter((c) => {
    const primaries = c.hosts.filter((h) => h.role === 'primary').map(localName);
    return (
      c.hosts.every((h) => (h.role === 'primary' || h.role === 'replica') && problemsOf(h).length === 0) &&
      primaries.length === 1 &&
      c.vipHolders.join() === primaries[0]
    );
  });
  console.log(
    `lab ${s.up ? 'up' : 'DEGRADED'} (${s.mode}): ${s.clusters.length} clusters, ${healthy.length} with their writer on ` +
      `their one primary and replicas streaming; in ${s.dir}; inventory ${s.inventory}`,
  );
  for (const c of s.clusters)
    console.log(
      `  ${c.name} ${c.writer.host}:${c.writer.port} → ${c.vipHolders.join(',') || 'nobody'}  ` +
        `${c.hosts.map(hostWord).join('  ')}  gtid ${[...new Set(c.hosts.map((h) => h.gtidCurrentPos ?? '?'))].join(' / ')}`,
    );
  if (s.temporal) console.log(`temporal: ${s.temporal.address}  UI ${s.temporal.ui}`);
}

function printStatus(s: LabStatus): void {
  if (s.clusters.length > 1 || s.cluster !== 'lab') return printFleetStatus(s);
  console.log(`lab ${s.up ? 'up' : 'DEGRADED'} (${s.mode}) in ${s.dir}; inventory ${s.inventory}`);
  console.log(
    `writer: ${s.writer.host}:${s.writer.port}; traffic held by: ${s.vipHolders.join(', ') || 'nobody'}`,
  );
  for (const h of s.hosts) {
    const repl = h.ioRunning ? ` io=${h.ioRunning} sql=${h.sqlRunning}` : '';
    const flags = [h.partitioned ? 'PARTITIONED' : '', h.holdsVip ? 'holds traffic' : '']
      .filter(Boolean)
      .join(', ');
    console.log(
      `  ${h.name} ${h.address}:${h.port} pid=${h.pid ?? '-'} ${h.role} read_only=${h.readOnly ?? '?'}${repl}` +
        ` gtid=${h.gtidCurrentPos ?? '?'}${flags ? ` [${flags}]` : ''}${h.lastError ? ` error: ${h.lastError}` : ''}`,
    );
  }
  if (s.temporal) console.log(`temporal: ${s.temporal.address}  UI ${s.temporal.ui}`);
  if (s.alerting)
    console.log(
      `alerting: Prometheus ${s.alerting.prometheus}, Alertmanager ${s.alerting.alertmanager} → ${s.alerting.webhook}`,
    );
}

function printFleet(info: Awaited<ReturnType<typeof labUp>>): void {
  const clusters = info.clusters ?? [];
  console.log(
    `lab up: ${clusters.length} clusters of ${clusters[0]?.hosts.length} hosts (${info.mode}), each primary on its db1`,
  );
  console.log(
    `  inventory: ${info.inventory} (labels fleet: lab, index: "01"...; machine m1 = every db1, m2 = every db2...)`,
  );
  console.log(`  app account: ${info.app.user}, password in ${info.app.passwordFile}`);
  for (const c of clusters)
    console.log(
      `  ${c.name} writer ${c.writer.host}:${c.writer.port}  ` +
        c.hosts.map((h) => `${localName(h)} ${h.address}:${h.port}`).join('  '),
    );
  if (info.temporal) console.log(`  temporal:  ${info.temporal.address}  UI ${info.temporal.ui}`);
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('a real MariaDB GTID replication topology on this machine');
  const dirOpt = '--dir <path>';
  const dirHelp = 'lab directory (default .lab in the repository)';
  lab
    .command('up')
    .description('build the lab: namespaces, sshd, mariadbd, replication, VIP (or HAProxy), inventory')
    .option(
      '--clusters <n>',
      'a fleet: N clusters fleet01..fleetNN, each with its own VIP (netns) or HAProxy frontend (loopback), one inventory',
      int('--clusters'),
    )
    .option(
      '--hosts <n>',
      'MariaDB hosts per cluster (default 3; 2 with --master-master or --clusters)',
      int('--hosts'),
    )
    .option('--mode <mode>', 'netns (default as root) or loopback')
    .option('--semi-sync', 'enable semi-synchronous replication')
    .option(
      '--master-master',
      'a master-master pair: db1 and db2 each replicating from the other (VIP in netns mode, HAProxy with db2 as backup in loopback)',
    )
    .option('--json', 'print the lab as JSON')
    .option('--prefix <name>', 'prefix of namespaces and links', 'so')
    .option('--subnet <cidr>', 'lab bridge subnet (/24)', '10.99.0.0/24')
    .option(
      '--base-port <port>',
      'first MariaDB port in loopback mode (writer: base+100)',
      int('--base-port'),
    )
    .option(dirOpt, dirHelp)
    .option('--no-temporal', 'do not start the Temporal dev server and worker')
    .option(
      '--alerting',
      'add mysqld_exporters, Prometheus (1 s scrapes, deploy/prometheus/rules.yml) and Alertmanager posting to the webhook receiver',
    )
    .option(
      '--webhook-port <port>',
      'port of the webhook receiver (default: a free one)',
      int('--webhook-port'),
    )
    .option('--temporal-port <port>', 'Temporal gRPC port (default: a free one)', int('--temporal-port'))
    .option(
      '--temporal-ui-port <port>',
      'Temporal Web UI port (default: a free one)',
      int('--temporal-ui-port'),
    )
    .action(async (o: UpOptions) => {
      if (o.mode && o.mode !== 'netns' && o.mode !== 'loopback')
        throw new Error(`--mode ${o.mode}: expected netns or loopback`);
      const info = await labUp({
        clusters: o.clusters,
        hosts: o.hosts,
        mode: o.mode,
        semiSync: o.semiSync,
        masterMaster: o.masterMaster,
        prefix: o.prefix,
        subnet: o.subnet,
        basePort: o.basePort,
        dir: o.dir,
        temporal: o.temporal,
        temporalPort: o.temporalPort,
        temporalUiPort: o.temporalUiPort,
        alerting: o.alerting,
        webhookPort: o.webhookPort,
        log: o.json ? undefined : (l) => console.error(l),
      });
      if (o.json) return console.log(JSON.stringify(summary(info), null, 2));
      if (o.clusters) return printFleet(info);
      console.log(`lab up: ${info.hosts.length} hosts (${info.mode}), primary ${info.hosts[0].name}`);
      console.log(
        `  writer:    ${info.writer.host}:${info.writer.port} (app account: ${info.app.user}, password in ${info.app.passwordFile})`,
      );
      console.log(`  inventory: ${info.inventory}`);
      for (const h of info.hosts)
        console.log(`  ${h.name} ${h.address}:${h.port} ${h.netns ?? ''} pid ${h.pid}`);
      if (info.temporal) console.log(`  temporal:  ${info.temporal.address}  UI ${info.temporal.ui}`);
      if (info.alerting)
        console.log(
          `  alerting:  Prometheus ${info.alerting.prometheus}, Alertmanager ${info.alerting.alertmanager} → ${info.alerting.webhook}`,
        );
    });
  lab
    .command('status')
    .description('each host: role, read_only, replication, who holds the VIP / writer')
    .option('--json', 'print as JSON')
    .option(dirOpt, dirHelp)
    .action(async (o: { json?: boolean; dir?: string }) => {
      const s = await labStatus({ dir: o.dir });
      if (!o.json) return printStatus(s);
      const base = summary(s);
      const hostStatus = (h: HostStatus) => ({
        ...hostSummary(h),
        up: h.up,
        role: h.role,
        readOnly: h.readOnly,
        holdsVip: h.holdsVip,
        partitioned: h.partitioned,
        ioRunning: h.ioRunning,
        sqlRunning: h.sqlRunning,
        gtidCurrentPos: h.gtidCurrentPos,
        lastError: h.lastError,
      });
      const status = {
        ...base,
        up: s.up,
        vipHolders: s.vipHolders,
        hosts: s.hosts.map(hostStatus),
        clusters: s.clusters.map((c, i) => ({
          ...base.clusters[i],
          vipHolders: c.vipHolders,
          hosts: c.hosts.map(hostStatus),
        })),
      };
      console.log(JSON.stringify(status, null, 2));
    });
  lab
    .command('down')
    .description('remove exactly what `lab up` made (idempotent)')
    .option(dirOpt, dirHelp)
    .action(async (o: { dir?: string }) => {
      await labDown({ dir: o.dir, log: (l) => console.log(l) });
    });
  const hostCmd = (name: string, desc: string, fn: (host: string, dir?: string) => Promise<string>) =>
    lab
      .command(name)
      .argument('<host>', 'lab host, e.g. db1')
      .description(desc)
      .option(dirOpt, dirHelp)
      .action(async (host: string, o: { dir?: string }) => console.log(await fn(host, o.dir)));
  hostCmd(
    'kill',
    "kill -9 the host's mariadbd (a crash)",
    async (h, dir) => `killed mariadbd on ${h} (pid ${(await labKill(h, { dir })).pid})`,
  );
  hostCmd(
    'start',
    "start the host's mariadbd again (read-only, as configured)",
    async (h, dir) => `started mariadbd on ${h} (pid ${(await labStart(h, { dir })).pid}), read_only=ON`,
  );
  hostCmd('partition', 'cut the host off the lab network (its processes keep running)', async (h, dir) => {
    await labPartition(h, { dir });
    return `${h} partitioned`;
  });
  lab
    .command('fence')
    .argument('[host]', 'lab host, e.g. db1 (default: $SUCCESSOVER_HOST, as a fenceCommand gets it)')
    .description(
      "STONITH through the lab's out-of-band path: read_only on and the VIP removed, even when partitioned",
    )
    .option(dirOpt, dirHelp)
    .action(async (host: string | undefined, o: { dir?: string }) => {
      const h = host ?? process.env.SUCCESSOVER_HOST;
      if (!h) throw new Error('lab fence: name the host (or set SUCCESSOVER_HOST)');
      console.log((await labFence(h, { dir: o.dir })).join('; '));
    });
  hostCmd('heal', 'reconnect a partitioned host', async (h, dir) => {
    await labHeal(h, { dir });
    return `${h} healed`;
  });
  lab
    .command('add-host')
    .argument('<name>', 'name of the new host, e.g. db4')
    .description(
      'add an empty host to the running lab (namespace, sshd, empty read-only mariadbd, no replication) for provisioning',
    )
    .option('--json', 'print the host as JSON')
    .option(
      '--no-inventory',
      'leave it out of the lab inventory and print its entry: for `run provision --new-host` to add it',
    )
    .option(dirOpt, dirHelp)
    .action(async (name: string, o: { json?: boolean; dir?: string; inventory: boolean }) => {
      const h = await labAddHost(name, {
        dir: o.dir,
        inventory: o.inventory,
        log: o.json ? undefined : (l) => console.error(l),
      });
      const info = labState(o.dir)?.info;
      const { name: _, ...entry } = h.entry;
      const notes = [
        o.inventory
          ? `workers reading ${info?.inventory ?? 'the lab inventory'} know ${name} from their next activity (they re-read the file when it changes)`
          : `not in the inventory: its entry (on stdout) as a file goes to \`successover run provision --cluster lab --host ${name} --new-host FILE\``,
        ...(info?.alerting
          ? [
              `alerting: no mysqld_exporter for ${name} (not needed for provisioning; Prometheus does not watch it)`,
            ]
          : []),
      ];
      const { address, port, netns, pid } = h;
      if (o.json)
        return console.log(
          JSON.stringify(
            { name, address, port, netns, pid, inventory: info?.inventory, entry, notes },
            null,
            2,
          ),
        );
      // Without the inventory, stdout is the entry alone: `lab add-host db4 --no-inventory > db4.yaml`.
      const say = o.inventory ? console.log : console.error;
      say(
        `added ${name}: ${address}:${port}${netns ? ` (namespace ${netns}, sshd with its own pinned host key)` : ''}, ` +
          'empty, read_only=ON, no replication: ready to be provisioned',
      );
      for (const n of notes) say(`  note: ${n}`);
      if (!o.inventory) console.log(stringify(entry, { lineWidth: 0 }).trimEnd());
    });
  lab
    .command('load-data')
    .description(
      'generate a data set through the writer (primary) with the admin account, for provisioning benchmarks; waits for the replicas',
    )
    .option('--size-mb <mb>', 'about this many MB on disk', int('--size-mb'), 1024)
    .option('--tables <n>', 'number of tables', int('--tables'), 8)
    .option('--database <name>', 'database to write into (created when missing)', 'bench')
    .option('--connections <n>', 'connections inserting at once', int('--connections'), 3)
    .option('--replace', 'drop and generate again tables that already hold rows')
    .option('--json', 'print the result as JSON')
    .option(dirOpt, dirHelp)
    .action(
      async (o: {
        sizeMb: number;
        tables: number;
        database: string;
        connections: number;
        replace?: boolean;
        json?: boolean;
        dir?: string;
      }) => {
        const log = o.json ? () => undefined : (l: string) => console.error(l);
        const info = labState(o.dir)?.info;
        if (!info) throw new Error('no lab is up here: run `successover lab up` first (or give --dir)');
        const data = await generateData({
          host: info.writer.host,
          port: info.writer.port,
          user: ACCOUNT_NAMES.admin,
          password: readFileSync(info.secrets.mysqlPasswordFile, 'utf8').trim(),
          database: o.database,
          sizeMb: o.sizeMb,
          tables: o.tables,
          connections: o.connections,
          replace: o.replace,
          log,
        });
        const caughtUp = await waitForReplicas(o.dir, log);
        const mb = data.bytes / 1024 / 1024;
        const result = {
          database: o.database,
          ...data,
          mb: Number(mb.toFixed(1)),
          mbPerSecond: Number((mb / (data.ms / 1000)).toFixed(1)),
          rowsPerSecond: Math.round(data.rows / (data.ms / 1000)),
          replicasCaughtUpMs: caughtUp,
        };
        if (o.json) return console.log(JSON.stringify(result, null, 2));
        console.log(
          `${o.database}: ${data.rows} rows in ${data.tables.length} tables, ${result.mb} MB on disk, ` +
            `in ${(data.ms / 1000).toFixed(1)} s (${result.mbPerSecond} MB/s, ${result.rowsPerSecond} rows/s); ` +
            `replicas caught up ${(caughtUp / 1000).toFixed(1)} s later`,
        );
      },
    );
}

/**
 * Every host that replicates waits for the writer's GTID position (over the lab's root sockets);
 * returns how long that took.
 */
async function waitForReplicas(dir: string | undefined, log: (l: string) => void): Promise<number> {
  const t0 = Date.now();
  const s = await labStatus({ dir });
  const primaries = s.hosts.filter((h) => h.role === 'primary');
  if (primaries.length !== 1)
    throw new Error(`expected one primary, found ${primaries.length}: see lab status`);
  const pos = await withRoot(primaries[0].socket, async (c) => (await facts(c)).gtidBinlogPos);
  const replicas = s.hosts.filter((h) => h.role === 'replica');
  log(`waiting for ${replicas.map((h) => h.name).join(', ') || 'no replica'} to apply ${pos}`);
  await Promise.all(
    replicas.map((h) =>
      withRoot(h.socket, async (c) => {
        const [rows] = await c.query('SELECT MASTER_GTID_WAIT(?, 3600) AS r', [pos]);
        if (Number((rows as { r: number }[])[0].r) !== 0)
          throw new Error(`${h.name} did not reach ${pos} within an hour: see lab status`);
      }),
    ),
  );
  return Date.now() - t0;
}
