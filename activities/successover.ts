// The planned successover's own activities. The critical section runs in ONE activity so no
// engine round trip lands inside the write blackout; each of its steps is idempotent, reported
// as a heartbeat while it runs and as a timeline entry when done, so a retry after a worker
// crash resumes safely and the UI shows where it is.
import { Context } from '@temporalio/activity';
import type { PoolConnection } from 'mysql2/promise';
import { dialectFor, killableSessions, type Dialect, type Statement } from '../domain/dialects';
import type { Cluster, Host } from '../domain/inventory';
import type { PlannedCommandView, TimelineStep } from '../domain/runbook';
import { relayFacts, toNodeState, toView, type InspectResult, type RelayFacts } from '../domain/topology';
import type { ActivityDeps } from './deps';
import { FailureType, classifySqlError, nonRetryable } from './errors';
import { clusterOf as inventoryCluster, hostOf } from './lookup';
import { failpoint, holdpoint } from './failpoints';
import type { SqlActivities } from './sql';
import type { SqlPools } from './sql/pools';
import { execute, probe, redacted } from './sql/run';
import type { TrafficRouter } from './traffic/router';

export interface SuccessoverShared {
  pools: SqlPools;
  sql: SqlActivities;
  routerFor(cluster: Cluster): TrafficRouter;
  /** Opens SSH connections ahead of the critical section (a new one costs a handshake). */
  warmSsh(hosts: Host[]): Promise<void>;
}

export interface CriticalSectionInput {
  cluster: string;
  primary: string;
  target: string;
  waitTimeoutSeconds: number;
  readOnlyTimeoutSeconds: number;
  killIntervalMs: number;
  /**
   * A master-master pair: promotion only lifts read_only on the target, whose replication from
   * the old primary (read-only, its sessions killed) keeps running for the way back.
   */
  keepReplication?: boolean;
}

export interface CriticalSectionResult {
  steps: TimelineStep[];
  blackoutMs: number;
  kills: number;
  commands: PlannedCommandView[];
  /** True when a retry found the target already promoted and only rolled forward. */
  resumed: boolean;
}

const ER_NO_SUCH_THREAD = 1094;
const POSITION = '<final GTID position of the primary>';

export function createSuccessoverActivities(deps: ActivityDeps, shared: SuccessoverShared) {
  const clusterOf = (name: string): Cluster => inventoryCluster(deps.inventory, name);

  /** Runs fn on a dedicated pooled connection held for the whole critical section. */
  async function connect(host: Host, operation: string): Promise<PoolConnection> {
    try {
      return await shared.pools.connection(host);
    } catch (e) {
      throw classifySqlError(host.name, operation, e);
    }
  }

  return {
    /**
     * `traffic: false` skips asking who holds the traffic (an SSH timeout per dead host). `freeze`:
     * these replicas' IO threads stop first (emergency recovery's freeze), so the positions read
     * are what they received, in the same step.
     */
    async inspectCluster({
      cluster,
      traffic = true,
      freeze = [],
    }: {
      cluster: string;
      traffic?: boolean;
      freeze?: string[];
    }): Promise<InspectResult> {
      await Promise.all(freeze.map((host) => shared.sql.stopReceiving({ cluster, host })));
      const spec = clusterOf(cluster);
      const router = shared.routerFor(spec);
      const [seen, holders] = await Promise.all([
        shared.sql.discoverTopology({ cluster }),
        router.type === 'none' || !traffic ? Promise.resolve(null) : router.holders(),
      ]);
      const nodes = seen.hosts.map(toNodeState);
      const relay: Record<string, RelayFacts> = {};
      for (const h of seen.hosts) if (h.replication) relay[h.host] = relayFacts(h.replication);
      return {
        topology: { cluster, nodes },
        trafficHolders: holders ? holders.holders : null,
        view: nodes.map(toView),
        relay,
      };
    },

    /** Every statement and command the run would send, for dry runs and the UI. */
    async planSuccessover(
      input: {
        cluster: string;
        primary: string;
        target: string;
        pair?: boolean;
      } & Partial<CriticalSectionInput>,
    ) {
      await holdpoint('plan');
      const spec = clusterOf(input.cluster);
      const d = dialectFor(spec.flavor);
      const router = shared.routerFor(spec);
      const { primary, target } = input;
      const sql = (step: string, host: string, statements: Statement[]): PlannedCommandView[] =>
        statements.map((s) => ({ step, on: `sql ${host}`, command: s.redacted }));
      const others = spec.hosts.filter((h) => h.name !== target);
      const targetHost = hostOf(spec, target);
      return [
        ...sql('catch up: snapshot position', primary, d.gtidPosition().statements),
        ...sql(
          'catch up: wait',
          target,
          d.waitUntilApplied('<snapshot position>', input.waitTimeoutSeconds ?? 10).statements,
        ),
        ...sql('read-only', primary, d.readOnlyOn(input.readOnlyTimeoutSeconds ?? 5)),
        // Begun right after read-only, alongside the kill loop, the final position and the wait.
        ...router.plan('attach', target).map((c) => ({ step: 'traffic to target', ...c })),
        ...sql(`kill loop every ${input.killIntervalMs ?? 100} ms`, primary, d.sessions().statements),
        {
          step: `kill loop every ${input.killIntervalMs ?? 100} ms`,
          on: `sql ${primary}`,
          command: `${d.kill(1).redacted.replace(/1$/, '<id>')} for each client session (never replication, system or successover's own)`,
        },
        ...sql('final position', primary, d.gtidPosition().statements),
        ...sql(
          'wait for target',
          target,
          d.waitUntilApplied(POSITION, input.waitTimeoutSeconds ?? 10).statements,
        ),
        ...sql('promote (point of no return)', target, d.readOnlyOff()),
        ...router.plan('detach', primary).map((c) => ({ step: 'traffic off old primary', ...c })),
        ...(input.pair ? [] : sql('forget old source', target, d.stopAndForgetReplication())),
        ...others.flatMap((h) =>
          sql(
            'repoint',
            h.name,
            d.repoint({
              sourceHost: targetHost.address,
              sourcePort: targetHost.port,
              user: deps.secrets.replication.user,
              password: deps.secrets.replication.password,
              demote: h.name === primary,
              connectRetrySeconds: 1,
              heartbeatPeriodSeconds: 1,
            }),
          ),
        ),
      ];
    },

    /**
     * Step 5 of the planned successover, whole, so no engine round trip lands in the write
     * blackout: its sub-steps 5a-5h below each record a timeline entry.
     */
    async runCriticalSection(input: CriticalSectionInput): Promise<CriticalSectionResult> {
      const ctx = Context.current();
      const spec = clusterOf(input.cluster);
      const d = dialectFor(spec.flavor);
      const router = shared.routerFor(spec);
      const primary = hostOf(spec, input.primary);
      const target = hostOf(spec, input.target);
      const steps: TimelineStep[] = [];
      const commands: PlannedCommandView[] = [];

      // Prepare outside the blackout: connections open, SSH handshakes done.
      await shared.warmSsh([primary, target]);
      const p = await connect(primary, 'critical section');
      const t = await connect(target, 'critical section').catch((e) => {
        p.release();
        throw e;
      });
      // A step may block for its whole bound (the GTID wait, the read-only lock wait): keep
      // heartbeating, so only a dead worker (not a slow step) makes the server retry.
      let current = { step: 'prepare', host: primary.name };
      const beat = setInterval(() => ctx.heartbeat(current), 1000);
      const killer = new KillLoop(shared, d, primary, [
        deps.secrets.mysql.user,
        deps.secrets.replication.user,
      ]);

      async function step<T>(
        name: string,
        host: Host,
        fn: () => Promise<T>,
        detail?: (r: T) => string,
      ): Promise<T> {
        current = { step: name, host: host.name };
        ctx.heartbeat(current);
        const start = Date.now();
        let r: T;
        try {
          r = await fn();
        } catch (e) {
          steps.push({
            step: name,
            host: host.name,
            start: new Date(start).toISOString(),
            status: 'failed',
            detail: String((e as Error).message),
          });
          throw e;
        }
        const end = Date.now();
        steps.push({
          step: name,
          host: host.name,
          start: new Date(start).toISOString(),
          end: new Date(end).toISOString(),
          ms: end - start,
          status: 'done',
          ...(detail ? { detail: detail(r) } : {}),
        });
        failpoint(`critical:${name}`);
        return r;
      }
      const run = (host: Host, statements: Statement[], c: PoolConnection, op: string) => {
        commands.push(...statements.map((s) => ({ step: op, on: `sql ${host.name}`, command: s.redacted })));
        return execute(c, statements).catch((e) => {
          throw classifySqlError(host.name, op, e);
        });
      };

      try {
        // A retry after a crash past the point of no return finds the target writable (the
        // preflight saw it read-only): roll forward.
        const targetFacts = await probe(t, d.nodeFacts());
        const resumed = !targetFacts.readOnly;

        await killer.prepare();
        const blackoutStart = Date.now();
        // 5a. Old primary read-only: from here no application write commits on it.
        await step('read-only', primary, () =>
          run(primary, d.readOnlyOn(input.readOnlyTimeoutSeconds), p, 'read-only'),
        ).catch((e) => {
          if ((e as { cause?: { errno?: number } }).cause?.errno === 1205 || /lock wait/i.test(String(e)))
            throw nonRetryable(
              FailureType.Timeout,
              `read-only on ${primary.name}: the global read lock was not granted within ${input.readOnlyTimeoutSeconds} s`,
            );
          throw e;
        });
        // 5e, begun here. Traffic to the target while it is still read-only (seed 004: the VIP is
        // enabled before writes are allowed): a client that reaches it now is refused, never
        // written, and promotion is then the last step of the blackout. Both nodes are read-only
        // from here, so the move needs nothing of 5b-5d and runs alongside them: the blackout pays
        // for the longer of the two, not their sum. The VIP is added before it is removed from the
        // old primary, so it is never on no host (a SYN sent then is retried by the client's
        // kernel only after a second); the old primary is read-only and killing sessions, so
        // briefly reaching it cannot write.
        const attaching = step(
          'traffic to target',
          target,
          () => router.attach(target.name),
          (r) => r.detail,
        );
        attaching.catch(() => undefined); // awaited below, on every path
        try {
          // 5b. Kill client sessions every interval until traffic has moved: sessions that bypass
          // the VIP, and accounts read_only does not stop (SUPER / READ ONLY ADMIN).
          await step('kill loop started', primary, async () => killer.start(input.killIntervalMs));
          if (!resumed) {
            // 5c. The old primary's final position: everything any client saw acknowledged.
            const final = await step(
              'final position',
              primary,
              () => probe(p, d.gtidPosition()).then((g) => g.position),
              (pos) => pos,
            );
            // 5d. Bounded server-side wait on the target.
            await step('wait for target', target, async () => {
              const w = d.waitUntilApplied(final, input.waitTimeoutSeconds);
              commands.push(
                ...w.statements.map((s) => ({
                  step: 'wait for target',
                  on: `sql ${target.name}`,
                  command: s.redacted,
                })),
              );
              const r = await probe(t, w).catch((e) => {
                throw classifySqlError(target.name, 'wait for target', e);
              });
              if (r === 'timeout')
                throw nonRetryable(
                  FailureType.Timeout,
                  `${target.name} did not apply ${primary.name}'s final position ${final} within ${input.waitTimeoutSeconds} s`,
                  { promoted: false },
                );
              return r;
            });
          }
        } catch (e) {
          // The compensation takes the traffic off the target: it must find the move finished,
          // not still on its way (it would land after the compensation and leave the VIP there).
          await attaching.catch(() => undefined);
          throw e;
        }
        // 5e. The traffic is on the target before it is promoted.
        const attached = await attaching;
        // 5f. Promote: the point of no return. Only read_only is lifted inside the blackout; the
        // target's replication (idle: it applied the final position, and its source is
        // read-only) is stopped after it, or kept for a master-master pair's way back.
        if (!resumed) await step('promote', target, () => run(target, d.readOnlyOff(), t, 'promote'));
        // The blackout ends when the target takes writes and new connections: after the
        // promotion for a VIP, at the detach for HAProxy with the target as a `backup` (seed 003).
        let blackoutMs = Date.now() - blackoutStart;
        await step(
          'traffic off old primary',
          primary,
          () => router.detach(primary.name),
          (r) => r.detail,
        );
        if (!attached.routed && router.type !== 'none') blackoutMs = Date.now() - blackoutStart;
        // 5g. Stop the kill loop.
        const kills = await step(
          'kill loop stopped',
          primary,
          () => killer.stop(),
          (k) => `${k} sessions killed`,
        );
        // 5h. The new primary forgets its old source, outside the blackout (a pair keeps it).
        if (!input.keepReplication)
          await step('forget old source', target, () =>
            run(target, d.stopAndForgetReplication(), t, 'forget old source'),
          );
        for (const op of ['attach', 'detach'] as const)
          commands.push(
            ...router
              .plan(op, op === 'attach' ? target.name : primary.name)
              .map((c) => ({ step: `traffic ${op}`, ...c })),
          );
        return { steps, blackoutMs, kills, commands, resumed };
      } finally {
        clearInterval(beat);
        await killer.stop().catch(() => undefined);
        p.release();
        t.release();
      }
    },

    /**
     * Undo a critical section that failed before promotion: the old primary writable again
     * with the traffic. If the target was promoted, nothing is undone: past the point of no
     * return the run only rolls forward.
     */
    async compensateCriticalSection(input: { cluster: string; primary: string; target: string }) {
      const spec = clusterOf(input.cluster);
      const d = dialectFor(spec.flavor);
      const primary = hostOf(spec, input.primary);
      const target = hostOf(spec, input.target);
      const promoted = await shared.pools
        .with(target, async (c) => {
          const r = await probe(c, d.replicationStatus());
          const f = await probe(c, d.nodeFacts());
          return r === null || !f.readOnly;
        })
        .catch((e) => {
          throw classifySqlError(target.name, 'check promotion before compensating', e);
        });
      if (promoted) return { pastPointOfNoReturn: true, statements: [] as string[] };
      // The traffic may already be on the (read-only) target: take it off before giving it back.
      const router = shared.routerFor(spec);
      await router.detach(target.name, { bestEffort: true });
      const statements = d.readOnlyOff();
      await shared.pools
        .with(primary, (c) => execute(c, statements))
        .catch((e) => {
          throw classifySqlError(primary.name, 'restore writes', e);
        });
      const traffic = await router.attach(primary.name);
      return { pastPointOfNoReturn: false, statements: redacted(statements), traffic: traffic.detail };
    },
  };
}

/** The kill loop inside the critical section, on a connection of its own. */
class KillLoop {
  private kills = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Ends the pause between sweeps: stop() returns after a sweep in flight, not a whole interval. */
  private wake: (() => void) | undefined;
  private conn: PoolConnection | undefined;

  constructor(
    private readonly shared: SuccessoverShared,
    private readonly d: Dialect,
    private readonly host: Host,
    private readonly protectedUsers: string[],
  ) {}

  /** Opens the loop's own connection before the blackout starts. */
  async prepare(): Promise<void> {
    this.conn ??= await this.shared.pools.connection(this.host);
  }

  async start(intervalMs: number): Promise<void> {
    if (this.running) return;
    await this.prepare();
    const c = this.conn as PoolConnection;
    await this.sweep(c); // the first sweep happens before the step counts as done
    this.running = (async () => {
      while (!this.stopped) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, intervalMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
        if (!this.stopped) await this.sweep(c).catch(() => undefined);
      }
    })();
  }

  private async sweep(c: PoolConnection): Promise<void> {
    const list = await probe(c, this.d.sessions());
    for (const s of killableSessions(list, { protectedUsers: this.protectedUsers })) {
      try {
        await execute(c, [this.d.kill(s.id)]);
        this.kills++;
      } catch (e) {
        if ((e as { errno?: number }).errno !== ER_NO_SUCH_THREAD) throw e;
      }
    }
  }

  async stop(): Promise<number> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
    this.conn?.release();
    this.conn = undefined;
    return this.kills;
  }
}
