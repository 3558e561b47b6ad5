// A replication topology in memory, and the activities the runbooks call, acting on it: the
// workflow tests run the real workflow code against these. Each default does what the real
// activity would do to the cluster (a promotion makes a node writable, a repoint makes it a healthy
// replica, a fence takes the traffic), so a run's own checks (preflight, invariants) pass or fail
// for the reasons they would on a lab. Every call is recorded in order; a test overrides any
// activity (`mocks`) to make it fail, time out or answer something else.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../../activities';
import { validateInventory, type Cluster } from '../../../domain/inventory';
import type { NodeState, ReplicationFacts, TopologyNodeView } from '../../../domain/topology';
import { skippedSalvage } from '../../../domain/salvage';
import type { PrimaryProbe } from '../../../domain/emergency';
import { fenceHeld, trafficMayWait } from '../../../domain/emergency/fence';

export type ActivityName = keyof Activities;
export type ActivityArg<K extends ActivityName> = Parameters<Activities[K]>[0];
export type ActivityResult<K extends ActivityName> = Awaited<ReturnType<Activities[K]>>;
/** An activity's stand-in: gets the argument and the fake cluster, answers or throws. */
export type Mock<K extends ActivityName> = (
  arg: ActivityArg<K>,
  fake: FakeCluster,
) => Promise<ActivityResult<K>> | ActivityResult<K>;
export type Mocks = { [K in ActivityName]?: Mock<K> };

export interface Call {
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  arg: any;
  /** The activity attempt (1 = first). */
  attempt: number;
  /** The workflow that called it. */
  workflowId: string;
}

export const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfATestHost';
export const VERSION = '10.11.6-MariaDB';
/** Where every node of a fresh fake starts: db1 wrote 100 transactions, all replicas applied them. */
export const START_GTID = '0-1-100';

export interface FakeClusterOptions {
  /** Hosts db1..dbN; db1 is the primary, the others replicate from it. Default 3. */
  hosts?: number;
  /** The cluster's policy (merged over the schema's defaults). */
  policy?: Record<string, unknown>;
  /** Per-host inventory fields (promotion, dataCenter, ...). */
  hostFields?: Record<string, Record<string, unknown>>;
  /** Hosts in the inventory whose server is empty (unprovisioned: read-only, no GTID, no source). */
  empty?: string[];
  /** Name prefix; a random suffix makes each cluster (and so its workflow ids) unique per test. */
  prefix?: string;
  /** A master-master pair: the writer db1 also replicates from db2, its standby. */
  pair?: boolean;
}

const healthyReplica = (source: string): ReplicationFacts => ({
  source,
  ioRunning: 'yes',
  sqlRunning: true,
  lagSeconds: 0,
  ioError: '',
  sqlError: '',
});

/** The failure a real activity raises for a bad or impossible request (non-retryable). */
export const nonRetryable = (type: string, message: string, details?: unknown) =>
  ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details === undefined ? [] : [details],
  });

export class FakeCluster {
  readonly name: string;
  spec: Cluster;
  readonly nodes = new Map<string, NodeState>();
  /** Hosts holding the writer traffic (the VIP). */
  traffic: string[];
  /** Every activity call, in the order the worker received them. */
  readonly calls: Call[] = [];
  /** The cluster lock as the real lock activities keep it (one holder per cluster). */
  lock: { workflowId: string; runId: string; runbook: string } | undefined;
  /** Hosts whose optionFile says read_only=ON (persistReadOnly), as the real activity writes it. */
  readonly startsReadOnly = new Set<string>();
  /** What lastRecovery answers (the anti-flapping record). */
  lastRecovery: { endedAt: string; workflowId: string } | null = null;
  /** Per-activity stand-ins; set or replace them at any time, also while a run waits. */
  mocks: Mocks = {};

  constructor(opts: FakeClusterOptions = {}) {
    this.name = `${opts.prefix ?? 'wf'}-${randomUUID().slice(0, 8)}`;
    const count = opts.hosts ?? 3;
    const names = Array.from({ length: count }, (_, i) => `db${i + 1}`);
    const r = validateInventory({
      clusters: [
        {
          name: this.name,
          flavor: 'mariadb',
          hosts: names.map((name, i) => ({
            name,
            address: `10.0.0.${11 + i}`,
            ssh: { hostKey: HOST_KEY },
            ...opts.hostFields?.[name],
          })),
          policy: opts.policy ?? {},
        },
      ],
      credentials: { mysql: { user: 'so', passwordEnv: 'X' }, replication: { user: 'r', passwordEnv: 'Y' } },
    });
    if (!r.ok) throw new Error(r.problems.join('\n'));
    this.spec = r.inventory.clusters[0];
    for (const name of names) {
      const primary = name === 'db1';
      this.nodes.set(name, {
        name,
        reachable: true,
        version: VERSION,
        readOnly: !primary,
        replication: primary ? null : healthyReplica('db1'),
        gtidExecuted: START_GTID,
        gtidHistory: START_GTID,
      });
    }
    if (opts.pair) this.set('db1', { replication: healthyReplica('db2') });
    for (const name of opts.empty ?? []) this.wipe(name);
    this.traffic = ['db1'];
  }

  node(name: string): NodeState {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`fake cluster ${this.name} has no node ${name}`);
    return n;
  }

  set(name: string, patch: Partial<NodeState>): void {
    this.nodes.set(name, { ...this.node(name), ...patch });
  }

  /** What persistReadOnly does on a host the fake reaches over SSH (all of them: mysqld may be dead). */
  persisted(host: string, readOnly: boolean): { status: 'done'; detail: string } {
    if (readOnly) this.startsReadOnly.add(host);
    else this.startsReadOnly.delete(host);
    return {
      status: 'done',
      detail: `read_only ${readOnly ? 'written to' : 'removed from'} ${host}'s optionFile`,
    };
  }

  /** The writable reachable nodes (one, when the cluster is healthy). */
  writers(): string[] {
    return [...this.nodes.values()].filter((n) => n.reachable && n.readOnly === false).map((n) => n.name);
  }

  /** The primary's server dies: it stops answering and its replicas' IO threads cannot reach it. */
  kill(name: string): void {
    this.set(name, { reachable: false, readOnly: undefined, error: `connect ECONNREFUSED ${name}:3306` });
    for (const n of this.nodes.values())
      if (n.replication?.source === name)
        this.set(n.name, {
          replication: {
            ...n.replication,
            ioRunning: 'connecting',
            lagSeconds: null,
            ioError: `error reconnecting to master 'repl@${name}:3306' - retry-time: 1  maximum-retries: 86400  message: Can't connect to server on '${name}' (111 "Connection refused")`,
          },
        });
  }

  /** The server is empty: read-only, no GTID state, replicates from no one. */
  wipe(name: string): void {
    this.set(name, { readOnly: true, replication: null, gtidExecuted: '', gtidHistory: '' });
  }

  /** A host the inventory gains (provisionReplica's newHost). */
  addHost(name: string, fields: Record<string, unknown>): void {
    const r = validateInventory({
      clusters: [{ ...this.spec, hosts: [...this.spec.hosts, { name, ...fields }] }],
      credentials: { mysql: { user: 'so', passwordEnv: 'X' }, replication: { user: 'r', passwordEnv: 'Y' } },
    });
    if (!r.ok) throw new Error(r.problems.join('\n'));
    this.spec = r.inventory.clusters[0];
  }

  // ---- what the tests read back ----

  /** Activity names in call order, optionally only those given. */
  names(...only: ActivityName[]): string[] {
    return this.calls
      .filter((c) => only.length === 0 || only.includes(c.name as ActivityName))
      .map((c) => c.name);
  }

  /** Activity names one workflow called (a run's own, without its children's), optionally only those given. */
  namesBy(workflowId: string, ...only: ActivityName[]): string[] {
    return this.calls
      .filter(
        (c) => c.workflowId === workflowId && (only.length === 0 || only.includes(c.name as ActivityName)),
      )
      .map((c) => c.name);
  }

  callsOf<K extends ActivityName>(name: K): ActivityArg<K>[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.arg as ActivityArg<K>);
  }

  called(name: ActivityName): boolean {
    return this.calls.some((c) => c.name === name);
  }

  // ---- the activities ----

  /** What the worker registers: every default, each call recorded, a mock replacing the default. */
  activities(): Record<string, (arg: never) => Promise<unknown>> {
    const defaults = this.defaults();
    const out: Record<string, (arg: never) => Promise<unknown>> = {};
    for (const name of Object.keys(defaults) as ActivityName[]) out[name] = this.recorded(name, defaults);
    // An activity no test expected: fail the run at once, naming it, instead of retrying.
    out.default = async () => {
      const { activityType } = Context.current().info;
      throw nonRetryable(
        'NotMocked',
        `activity ${activityType} has no fake: add it to test/unit/workflows/fakeCluster.ts`,
      );
    };
    return out;
  }

  /** What the default stand-in of `name` answers: for a mock that changes the default's answer. */
  async byDefault<K extends ActivityName>(name: K, arg: ActivityArg<K>): Promise<ActivityResult<K>> {
    const fn = this.defaults()[name] as Mock<K>;
    return fn(arg, this);
  }

  private recorded(name: ActivityName, defaults: Mocks) {
    return async (arg: never) => {
      const info = Context.current().info;
      this.calls.push({
        name,
        arg,
        attempt: info.attempt,
        workflowId: info.workflowExecution?.workflowId ?? '',
      });
      const fn = (this.mocks[name] ?? defaults[name]) as (a: never, f: FakeCluster) => unknown;
      return fn(arg, this);
    };
  }

  private view(n: NodeState): TopologyNodeView {
    return {
      name: n.name,
      role: !n.reachable
        ? 'unknown'
        : n.replication
          ? 'replica'
          : n.readOnly === false
            ? 'primary'
            : 'unknown',
      readOnly: n.readOnly ?? null,
      source: n.replication?.source ?? null,
      ioRunning: n.replication?.ioRunning ?? null,
      sqlRunning: n.replication?.sqlRunning ?? null,
      lagSeconds: n.replication?.lagSeconds ?? null,
      gtid: n.gtidExecuted ?? null,
      version: n.version ?? null,
      error: n.error ?? null,
    };
  }

  private reachable(host: string, what: string): NodeState {
    const n = this.node(host);
    if (!n.reachable) throw nonRetryable('Unreachable', `${what} on ${host}: ${n.error ?? 'no answer'}`);
    return n;
  }

  private serverId = (name: string) => Number(name.replace(/\D/g, '')) || 0;

  /** The promotion the real activities make: stop replication, forget the source, writable. */
  private promoteNode(host: string): void {
    this.set(host, { replication: null, readOnly: false });
  }

  private replicate(host: string, source: string): void {
    const s = this.node(source);
    this.set(host, {
      readOnly: true,
      replication: healthyReplica(source),
      gtidExecuted: s.gtidExecuted,
      gtidHistory: s.gtidHistory,
    });
  }

  private defaults(): Mocks {
    const change = (host: string, statements: string[]) => ({ host, changed: true, statements });
    const routed = (host: string, op: 'attach' | 'detach') => ({
      host,
      op,
      ok: true,
      changed: true,
      routed: op === 'attach',
      detail: `${op === 'attach' ? 'VIP added on' : 'VIP removed from'} ${host}`,
    });
    return {
      loadClusterSpec: () => structuredClone(this.spec),
      inspectCluster: async ({ cluster, traffic, freeze }) => {
        // As the activity: the replicas named stop receiving first (not recorded as calls of their own).
        for (const host of freeze ?? []) await this.byDefault('stopReceiving', { cluster, host });
        const nodes = [...this.nodes.values()].map((n) => structuredClone(n));
        return {
          topology: { cluster: this.name, nodes },
          trafficHolders: traffic === false ? null : [...this.traffic],
          view: nodes.map((n) => this.view(n)),
          relay: Object.fromEntries(
            nodes
              .filter((n) => n.reachable && n.replication)
              .map((n) => [
                n.name,
                { received: n.gtidExecuted ?? '', sourceServerId: this.serverId(n.replication!.source) },
              ]),
          ),
        };
      },
      gtidPosition: ({ host }) => {
        const n = this.reachable(host, 'read GTID position');
        return {
          position: n.gtidExecuted ?? '',
          current: n.gtidExecuted ?? '',
          replica: n.replication ? (n.gtidExecuted ?? '') : null,
          binlogState: n.gtidHistory ?? '',
        };
      },
      longTransactions: () => [],
      planSuccessover: ({ primary, target }) => [
        { step: 'read-only', on: primary, command: 'SET GLOBAL read_only = ON' },
        { step: 'promote', on: target, command: 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF' },
      ],
      waitUntilApplied: () => 'reached' as const,
      runCriticalSection: ({ primary, target, keepReplication }) => {
        const at = new Date().toISOString();
        this.set(primary, { readOnly: true });
        // A pair's target only loses read_only: its replication from the old primary stays.
        if (keepReplication) this.set(target, { readOnly: false });
        else this.promoteNode(target);
        this.traffic = [target];
        return {
          steps: [
            'read-only',
            'kill loop started',
            'final position',
            'wait',
            'promote',
            'traffic to target',
          ].map((step) => ({ step, start: at, end: at, ms: 0, status: 'done' as const })),
          blackoutMs: 42,
          kills: 0,
          commands: [{ step: 'promote', on: target, command: 'SET GLOBAL read_only = OFF' }],
          resumed: false,
        };
      },
      compensateCriticalSection: ({ primary, target }) => {
        const t = this.node(target);
        if (t.replication === null || t.readOnly === false)
          return { pastPointOfNoReturn: true, statements: [] as string[] };
        this.set(primary, { readOnly: false });
        this.traffic = [primary];
        return {
          pastPointOfNoReturn: false,
          statements: ['SET GLOBAL read_only = OFF'],
          traffic: `VIP on ${primary}`,
        };
      },
      repoint: ({ host, source, writer }) => {
        this.reachable(host, `repoint to ${source}`);
        // A pair's writer replicates from its standby and stays writable, with what it has.
        if (writer) this.set(host, { replication: healthyReplica(source) });
        else this.replicate(host, source);
        return change(host, [`CHANGE MASTER TO MASTER_HOST='${source}'`, 'START SLAVE']);
      },
      promote: ({ host }) => {
        this.reachable(host, 'promote');
        this.promoteNode(host);
        return change(host, ['STOP SLAVE', 'RESET SLAVE ALL', 'SET GLOBAL read_only = OFF']);
      },
      acquireClusterLock: ({ cluster, runbook }) => {
        const run = Context.current().info.workflowExecution!;
        const me = { workflowId: run.workflowId, runId: run.runId, runbook };
        if (this.lock && this.lock.runId !== me.runId)
          throw nonRetryable(
            'Refused',
            `cluster ${cluster} is locked by ${this.lock.runbook} ${this.lock.workflowId} (run ${this.lock.runId}): one runbook per cluster at a time; wait for it or cancel it`,
            { holder: this.lock },
          );
        this.lock = me;
        return me;
      },
      // The fake lock's holders are not workflows to ask: the recovery waits for them.
      preemptLockHolder: () => `${this.lock?.workflowId ?? 'nobody'} keeps the lock (a fake holder)`,
      releaseClusterLock: () => {
        const { runId } = Context.current().info.workflowExecution!;
        if (this.lock?.runId === runId) this.lock = undefined;
      },
      // ---- emergency recovery ----
      probePrimary: ({ host, probes }) => {
        const n = this.node(host);
        const at = () => new Date().toISOString();
        if (n.reachable) return [{ ok: true, at: at() }];
        return Array.from({ length: probes }, () => ({
          ok: false,
          at: at(),
          error: `ECONNREFUSED: ${n.error}`,
        }));
      },
      lastRecovery: () => this.lastRecovery,
      warmConnections: () => undefined,
      // The detector's watch, one probe per round through probePrimary (so tests mock and count
      // probes as before); the replicas' agreement is the real activity's, tested live.
      watchPrimary: async ({ cluster, host, probes, failures = 0, watchSeconds, intervalMs }) => {
        const ctx = Context.current();
        const end = Date.now() + watchSeconds * 1000;
        const probe = this.recorded('probePrimary', this.defaults());
        const streak: PrimaryProbe[] = [];
        let inARow = failures;
        while (Date.now() < end) {
          const [p] = (await probe({ cluster, host, probes: 1, intervalMs: 0 } as never)) as PrimaryProbe[];
          ctx.heartbeat();
          if (p.ok) {
            inARow = 0;
            streak.length = 0;
          } else {
            inARow++;
            streak.push(p);
            if (inARow >= probes)
              return {
                down: true as const,
                confirmedByReplicas: false,
                failures: inARow,
                probes: streak,
                reason: `${inARow} probes failed`,
                evidence: [],
              };
          }
          await ctx.sleep(intervalMs);
        }
        return { down: false as const, demoted: false, failures: inARow };
      },
      salvageBinlog: () => skippedSalvage('the fake cluster has no binary log to salvage'),
      fenceOldPrimary: ({ host, trafficMayWait: mayWait }) => {
        const n = this.node(host);
        const readOnly = n.reachable
          ? { status: 'done' as const, detail: `read_only set on ${host}` }
          : { status: 'failed' as const, detail: `${host}: ${n.error}` };
        if (n.reachable) this.set(host, { readOnly: true });
        const command = { status: 'skipped' as const, detail: 'no policy.fenceCommand configured' };
        const optionFile = this.persisted(host, true);
        // As the activity: a mysqld that refuses (down, its host up) keeps the traffic.
        const mysqldRefused = !n.reachable && /ECONNREFUSED/.test(n.error ?? '');
        const deferred = mayWait && trafficMayWait({ mysqldRefused, optionFile });
        if (!deferred) this.traffic = this.traffic.filter((h) => h !== host);
        const traffic = deferred
          ? { status: 'deferred' as const, detail: `left on ${host} until the promotion` }
          : { status: 'done' as const, detail: `VIP removed from ${host}` };
        const report = { readOnly, traffic, command, optionFile };
        return { host, ...report, fenced: fenceHeld(report) };
      },
      stopReceiving: ({ host }) => {
        this.reachable(host, 'stop receiving');
        const r = this.node(host).replication;
        if (r) this.set(host, { replication: { ...r, ioRunning: 'no' } });
        return change(host, r ? ['STOP SLAVE IO_THREAD'] : []);
      },
      startReceiving: ({ host }) => {
        this.reachable(host, 'start receiving');
        const r = this.node(host).replication;
        if (r?.ioRunning === 'no') this.set(host, { replication: { ...r, ioRunning: 'connecting' } });
        return change(host, r?.ioRunning === 'no' ? ['START SLAVE IO_THREAD'] : []);
      },
      persistReadOnly: ({ host, readOnly }) => this.persisted(host, readOnly),
      attachTraffic: ({ host }) => {
        // Added beside any holder, as a VIP is: the old one comes off with detachTraffic.
        this.traffic = [...this.traffic.filter((h) => h !== host), host];
        return routed(host, 'attach');
      },
      detachTraffic: ({ host }) => {
        this.traffic = this.traffic.filter((h) => h !== host);
        return routed(host, 'detach');
      },
      notify: () => [],
      startRecovery: ({ cluster }) => ({
        workflowId: `emergency-recovery/${cluster}`,
        runId: 'fake',
        started: true,
      }),
      // ---- provisioning ----
      addInventoryHost: ({ host }) => {
        const { name, ...fields } = host;
        this.addHost(name, fields);
        this.nodes.set(name, {
          name,
          reachable: true,
          version: VERSION,
          readOnly: true,
          replication: null,
          gtidExecuted: '',
          gtidHistory: '',
        });
        return { added: true, inventoryFile: '/etc/successover/inventory.yaml' };
      },
      removeInventoryHost: ({ host }) => {
        this.spec = { ...this.spec, hosts: this.spec.hosts.filter((h) => h.name !== host) };
        this.nodes.delete(host);
      },
      inspectProvisionTarget: ({ host }) => {
        const n = this.node(host);
        return {
          reachable: n.reachable,
          readOnly: n.readOnly ?? true,
          version: n.version ?? VERSION,
          replication: null,
          gtidCurrentPos: n.gtidExecuted ?? '',
          gtidBinlogPos: n.gtidHistory ?? '',
          userSchemas: n.gtidExecuted ? ['app'] : [],
          dataBytes: n.gtidExecuted ? 50e6 : 0,
          diskFreeBytes: 100e9,
          datadir: '/var/lib/mysql',
          serviceConfigured: false,
          inProgressMarker: null,
        };
      },
      inspectDonor: ({ host }) => ({
        dataBytes: 50e6,
        tables: 3,
        rowsEstimate: 1000,
        version: this.node(host).version ?? VERSION,
        datadir: '/var/lib/mysql',
        hasMariadbBackup: true,
      }),
      copyBackup: ({ donor, target, method }) => {
        const d = this.reachable(donor, 'copy');
        // The copy leaves the target with the donor's data and no replication yet.
        this.set(target, { readOnly: true, replication: null, gtidExecuted: '', gtidHistory: '' });
        return {
          method,
          bytes: 50e6,
          rows: method === 'logical' ? 1000 : null,
          gtidPosition: d.gtidExecuted ?? '',
          ms: 1000,
          phases: [{ name: 'stream', ms: 1000 }],
          accounts: null,
        };
      },
      startReplica: ({ host, source, gtidPosition }) => {
        this.set(host, {
          readOnly: true,
          replication: healthyReplica(source),
          gtidExecuted: gtidPosition,
          gtidHistory: gtidPosition,
        });
        return { source };
      },
      replicationProgress: () => ({
        ioRunning: 'yes',
        sqlRunning: true,
        lastError: null,
        lagSeconds: 0,
        gtidDistance: 0,
      }),
      checksumAtCommonPosition: ({ host, reference }) => ({
        position: this.node(reference).gtidExecuted ?? '',
        tables: [
          {
            name: 'app.t1',
            reference: '1234',
            host: host === reference ? null : '1234',
            equal: true,
            rows: 10,
          },
        ],
        equal: true,
      }),
      // Starts what the checksum stopped (a replica without an SQL error), as the real one does.
      restartChecksumReplicas: ({ host, reference }) =>
        [reference, host].map((name) => {
          const r = this.reachable(name, 'restart replication').replication;
          if (!r) return { host: name, restarted: false, detail: 'not a replica: nothing to start' };
          if (r.sqlError) return { host: name, restarted: false, detail: `left for a human: ${r.sqlError}` };
          this.set(name, { replication: { ...r, ioRunning: 'yes', sqlRunning: true } });
          return { host: name, restarted: true, detail: 'replicates again' };
        }),
      // ---- blue/green ----
      collectCompatFacts: ({ host }) => ({
        flavor: 'mariadb' as const,
        version: this.node(host).version ?? VERSION,
        variables: {},
        accounts: [],
        sqlMode: 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION',
        schemas: [],
      }),
    };
  }
}
