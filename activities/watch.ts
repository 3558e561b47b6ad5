// The built-in detector's watch. One activity holds a connection to the primary and asks it
// every interval, so a mysqld that dies is seen at once: its kernel closes the connection, and a
// new one is refused. A failure is then put to the replicas in the same moment, as emergency
// recovery's confirmation does (domain/emergency/confirm.ts): when every reachable replica's IO
// thread lost the primary too, the watch ends at the first failed probe instead of waiting out
// `probes` intervals. Without that agreement it falls back to `probes` failures in a row.
import { Context } from '@temporalio/activity';
import { createConnection, type Connection } from 'mysql2/promise';
import { confirmFailure, type Evidence, type PrimaryProbe } from '../domain/emergency';
import type { Host } from '../domain/inventory';
import { toNodeState } from '../domain/topology';
import type { ActivityDeps } from './deps';
import { clusterOf, hostOf } from './lookup';
import { failedProbe } from './probe';
import type { SqlActivities } from './sql';

export interface WatchInput {
  cluster: string;
  host: string;
  intervalMs: number;
  /** Failed probes in a row that end the watch when the replicas cannot confirm the failure. */
  probes: number;
  /** Carried from an earlier watch: its failures in a row. */
  failures?: number;
  /** The watch returns after this long with the primary alive (history: 3 events per watch). */
  watchSeconds: number;
  /** Bound on each probe's connect and query. */
  timeoutMs?: number;
}

export type WatchResult =
  | {
      down: false;
      /** The primary turned read-only (a planned successover, a fence): find the primary again. */
      demoted: boolean;
      failures: number;
    }
  | {
      down: true;
      /** The replicas' IO threads lost the primary too (else: `probes` failures in a row). */
      confirmedByReplicas: boolean;
      failures: number;
      probes: PrimaryProbe[];
      reason: string;
      evidence: Evidence[];
    };

/** SSH to every host is warmed this often while a watch runs: a recovery then opens none (~0.8 s each). */
const WARM_EVERY_MS = 60_000;

export interface WatchShared {
  sql: SqlActivities;
  /** Opens (or checks) the SSH connections of these hosts; best effort. */
  warmSsh(hosts: Host[]): Promise<void>;
}

export function createWatchActivities(deps: ActivityDeps, shared: WatchShared) {
  const warm = (hosts: Host[]) => shared.warmSsh(hosts.filter((h) => h.ssh)).catch(() => undefined);
  return {
    /**
     * Opens the SSH connections a recovery of the cluster will use (fence, traffic, salvage), so
     * none of its steps pays a handshake. Best effort: a host that does not answer is the fence's
     * business, not this one's.
     */
    async warmConnections({ cluster }: { cluster: string }): Promise<void> {
      await warm(clusterOf(deps.inventory, cluster).hosts);
    },

    async watchPrimary(input: WatchInput): Promise<WatchResult> {
      const spec = clusterOf(deps.inventory, input.cluster);
      const host = hostOf(spec, input.host);
      const ctx = Context.current();
      const timeoutMs = input.timeoutMs ?? 1000;
      const until = Date.now() + input.watchSeconds * 1000;
      const probe = new HeldProbe(host, deps, timeoutMs);
      let failures = input.failures ?? 0;
      const streak: PrimaryProbe[] = [];
      let warmed = 0;
      try {
        while (Date.now() < until) {
          if (Date.now() - warmed > WARM_EVERY_MS) {
            warmed = Date.now();
            void warm(spec.hosts);
          }
          const p = await probe.ask();
          ctx.heartbeat({ failures: p.ok ? 0 : failures + 1 });
          if (p.ok && p.readOnly) return { down: false, demoted: true, failures: 0 };
          if (p.ok) {
            failures = 0;
            streak.length = 0;
            await ctx.sleep(input.intervalMs);
            continue;
          }
          failures++;
          streak.push(p);
          const seen = await shared.sql.discoverTopology({ cluster: input.cluster });
          const verdict = confirmFailure({
            cluster: spec,
            nodes: seen.hosts.map(toNodeState),
            primary: host.name,
            probes: streak,
            minProbes: 1,
          });
          if (verdict.verdict === 'confirmed')
            return down(true, failures, streak, 'the replicas lost it too', verdict.evidence);
          if (failures >= input.probes)
            return down(false, failures, streak, verdict.reason, verdict.evidence);
          await ctx.sleep(input.intervalMs);
        }
        return { down: false, demoted: false, failures };
      } finally {
        probe.close();
      }
    },
  };
}

function down(
  confirmedByReplicas: boolean,
  failures: number,
  probes: PrimaryProbe[],
  reason: string,
  evidence: Evidence[],
): WatchResult {
  return { down: true, confirmedByReplicas, failures, probes: probes.slice(-5), reason, evidence };
}

/** A probe on a held connection, opened again when it fails: a restarted server is not dead. */
class HeldProbe {
  private conn: Connection | undefined;

  constructor(
    private readonly host: Host,
    private readonly deps: ActivityDeps,
    private readonly timeoutMs: number,
  ) {}

  async ask(): Promise<PrimaryProbe & { readOnly?: boolean }> {
    const at = new Date().toISOString();
    if (this.conn) {
      try {
        return { ok: true, at, readOnly: await this.readOnly(this.conn) };
      } catch {
        this.close(); // then one fresh connection: an idle connection dropped is not a dead server
      }
    }
    try {
      this.conn = await createConnection({
        host: this.host.address,
        port: this.host.port,
        user: this.deps.secrets.mysql.user,
        password: this.deps.secrets.mysql.password,
        connectTimeout: this.timeoutMs,
      });
      // A failed connection must not crash the worker with an unhandled 'error' event.
      this.conn.on('error', () => this.close());
      return { ok: true, at, readOnly: await this.readOnly(this.conn) };
    } catch (e) {
      this.close();
      return failedProbe(at, e);
    }
  }

  private async readOnly(c: Connection): Promise<boolean> {
    const [rows] = await c.query({ sql: 'SELECT @@global.read_only AS ro', timeout: this.timeoutMs });
    return Number((rows as { ro: number | string }[])[0]?.ro) === 1;
  }

  close(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }
}
