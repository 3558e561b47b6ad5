// Emergency recovery's own activities: probing a primary that may be dead, fencing it as far as it
// can be reached, moving traffic, the anti-flapping record and the notification hooks. Fencing and
// notifications are best effort by design: each outcome is returned and recorded, never thrown.
import { execFile } from 'node:child_process';
import { Context } from '@temporalio/activity';
import { dialectFor } from '../domain/dialects';
import type { PrimaryProbe } from '../domain/emergency';
import { fenceHeld, trafficMayWait, type FenceOutcome, type FenceReport } from '../domain/emergency/fence';
import type { Cluster, Host } from '../domain/inventory';
import { RUNBOOKS, type EmergencyRecoveryInput } from '../domain/runbook';
import type { ActivityDeps } from './deps';
import { probeOnce } from './probe';
import { FailureType, classifySqlError, nonRetryable } from './errors';
import { clusterOf as inventoryCluster, hostOf } from './lookup';
import { execute } from './sql/run';
import type { SqlPools } from './sql/pools';
import type { createReadOnlyFileActivities } from './readOnlyFile';
import type { RouterResult, TrafficRouter } from './traffic/router';

export interface EmergencyShared {
  pools: SqlPools;
  routerFor(cluster: Cluster): TrafficRouter;
  persistReadOnly: ReturnType<typeof createReadOnlyFileActivities>['persist'];
}

export interface ProbeInput {
  cluster: string;
  host: string;
  probes: number;
  intervalMs: number;
  /** Each probe's connect bound. */
  timeoutMs?: number;
}

export type HookEvent = 'detected' | 'succeeded' | 'failed';
export interface NotifyInput {
  cluster: string;
  event: HookEvent;
  /** Flat facts of the run, passed as SUCCESSOVER_<KEY> variables and in the POST body. */
  facts: Record<string, string>;
}

const FENCE_COMMAND_TIMEOUT_MS = 30_000;
/** A dead host's SSH would take the router's whole command timeout to fail. */
const FENCE_TRAFFIC_TIMEOUT_MS = 3000;
const HOOK_TIMEOUT_MS = 10_000;
/** A mysqld that is down on a host that answers refuses the connection in a millisecond or two. */
const REFUSED_WITHIN_MS = 200;

export function createEmergencyActivities(deps: ActivityDeps, shared: EmergencyShared) {
  const clusterOf = (name: string): Cluster => inventoryCluster(deps.inventory, name);

  return {
    /** `probes` attempts `intervalMs` apart; stops at the first answer (one answer is enough). */
    async probePrimary(input: ProbeInput): Promise<PrimaryProbe[]> {
      const host = hostOf(clusterOf(input.cluster), input.host);
      const out: PrimaryProbe[] = [];
      for (let i = 0; i < input.probes; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, input.intervalMs));
        const p = await probeOnce(host, deps.secrets.mysql, input.timeoutMs ?? 1000);
        out.push(p);
        Context.current().heartbeat({ probe: i + 1, ok: p.ok });
        if (p.ok) break;
      }
      return out;
    },

    /**
     * Fence the old primary as far as it can be reached: read_only if it answers, the writer
     * traffic taken off it, then the inventory's STONITH command. Never throws for a host that
     * does not answer: that is the expected case, recorded as such. With `trafficMayWait`, the
     * traffic stays on a host whose mysqld is down and read-only at its next start
     * (domain trafficMayWait), and the recovery takes it off when the new primary takes it.
     */
    async fenceOldPrimary({
      cluster: name,
      host: hostName,
      trafficMayWait: mayWait = false,
    }: {
      cluster: string;
      host: string;
      trafficMayWait?: boolean;
    }) {
      const cluster = clusterOf(name);
      const host = hostOf(cluster, hostName);
      const d = dialectFor(cluster.flavor);
      const router = shared.routerFor(cluster);
      // The fences are independent and run together, each bounded; only a traffic move that may
      // wait first hears how read_only and the option file went.
      const readOnlyAttempt = shared.pools
        .with(host, (c) => execute(c, d.readOnlyOn(2), 5000))
        .then(() => ({
          outcome: { status: 'done', detail: `read_only set on ${host.name}` } as FenceOutcome,
          mysqldRefused: false,
        }))
        .catch((e) => ({
          outcome: {
            status: 'failed',
            detail: classifySqlError(host.name, 'set read_only', e).message,
          } as FenceOutcome,
          mysqldRefused: (e as { code?: string }).code === 'ECONNREFUSED',
        }));
      // The host may answer SSH while its mysqld is dead (OOM, crash): then a restart stays fenced.
      const optionFileFence = shared.persistReadOnly(cluster, host, {
        cluster: name,
        host: hostName,
        readOnly: true,
        reason: `${host.name} fenced as a failed primary; it must not take writes when it starts`,
      });
      const detach = () =>
        bounded(
          router.detach(host.name, { bestEffort: true }).then(outcome),
          FENCE_TRAFFIC_TIMEOUT_MS,
          `no answer from ${host.name} within ${FENCE_TRAFFIC_TIMEOUT_MS} ms`,
        );
      const trafficFence = async (): Promise<FenceOutcome> => {
        if (router.type === 'none') return { status: 'skipped', detail: 'no traffic router configured' };
        // A refused connection comes back at once; a host that does not answer is not waited for.
        const mysqldRefused = mayWait && (await within(readOnlyAttempt, REFUSED_WITHIN_MS))?.mysqldRefused;
        if (!mysqldRefused) return detach();
        const optionFile = await within(optionFileFence, FENCE_TRAFFIC_TIMEOUT_MS);
        if (!trafficMayWait({ mysqldRefused, optionFile })) return detach();
        return {
          status: 'deferred',
          detail: `left on ${host.name} until the new primary takes it: its mysqld is down (connection refused, so clients are refused at once rather than waiting on a VIP no host holds) and comes back read-only`,
        };
      };
      const [readOnly, traffic, command, optionFile] = await Promise.all([
        readOnlyAttempt.then((a) => a.outcome),
        trafficFence(),
        cluster.policy.fenceCommand
          ? runCommand(cluster.policy.fenceCommand, fenceEnv(cluster, host), FENCE_COMMAND_TIMEOUT_MS)
          : ({ status: 'skipped', detail: 'no policy.fenceCommand configured' } as FenceOutcome),
        optionFileFence,
      ]);
      const report = { readOnly, traffic, command, optionFile };
      return { host: host.name, ...report, fenced: fenceHeld(report) } satisfies FenceReport;
    },

    /** Gives the writer traffic to the new primary (idempotent: a retry finds it there). */
    async attachTraffic({ cluster, host }: { cluster: string; host: string }): Promise<RouterResult | null> {
      const spec = clusterOf(cluster);
      hostOf(spec, host);
      const router = shared.routerFor(spec);
      return router.type === 'none' ? null : router.attach(host);
    },

    /** Takes the writer traffic off a host (idempotent: a retry finds it gone). */
    async detachTraffic({ cluster, host }: { cluster: string; host: string }): Promise<RouterResult | null> {
      const spec = clusterOf(cluster);
      hostOf(spec, host);
      const router = shared.routerFor(spec);
      return router.type === 'none' ? null : router.detach(host);
    },

    /**
     * When the last completed recovery of the cluster ended (the anti-flapping record): the close
     * time of the newest emergency-recovery run that recovered, read from Temporal's visibility.
     */
    async lastRecovery({
      cluster,
    }: {
      cluster: string;
    }): Promise<{ endedAt: string; workflowId: string } | null> {
      if (!deps.temporal)
        throw nonRetryable(
          FailureType.BadConfiguration,
          'lastRecovery needs a Temporal client: build the worker with createWorker',
        );
      const self = Context.current().info.workflowExecution?.runId;
      const query = `Runbook = '${RUNBOOKS.emergency}' AND Cluster = '${cluster.replace(/'/g, "''")}' AND RunbookPhase = 'recovered' AND ExecutionStatus = 'Completed'`;
      let best: { endedAt: string; workflowId: string } | null = null;
      for await (const w of deps.temporal.client.workflow.list({ query, pageSize: 20 })) {
        if (w.runId === self || !w.closeTime) continue;
        if (!best || w.closeTime.toISOString() > best.endedAt)
          best = { endedAt: w.closeTime.toISOString(), workflowId: w.workflowId };
      }
      return best;
    },

    /** The detector's trigger: the same start (and join) as the webhook's. */
    async startRecovery(input: EmergencyRecoveryInput) {
      if (!deps.temporal)
        throw nonRetryable(
          FailureType.BadConfiguration,
          'startRecovery needs a Temporal client: build the worker with createWorker',
        );
      return deps.temporal.startEmergencyRecovery(input);
    },

    /** Runs the inventory's hooks for this event; every outcome is returned, none thrown. */
    async notify(input: NotifyInput): Promise<FenceOutcome[]> {
      const cluster = clusterOf(input.cluster);
      const env = Object.fromEntries(
        Object.entries({ ...input.facts, cluster: input.cluster, event: input.event }).map(([k, v]) => [
          `SUCCESSOVER_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`,
          v,
        ]),
      );
      const body = JSON.stringify({ cluster: input.cluster, event: input.event, ...input.facts });
      const results: FenceOutcome[] = [];
      for (const hook of cluster.hooks.filter((h) => h.on.includes(input.event))) {
        if (hook.command) results.push(await runCommand(hook.command, env, HOOK_TIMEOUT_MS));
        if (hook.url) results.push(await post(hook.url, body));
      }
      return results;
    },
  };
}

function outcome(r: RouterResult): FenceOutcome {
  return { status: r.ok ? 'done' : 'failed', detail: r.detail };
}

/** p's value if it settles within ms, else undefined (p goes on). */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The outcome, or "failed" once `ms` pass (the late answer is ignored: a detach is harmless). */
async function bounded(p: Promise<FenceOutcome>, ms: number, why: string): Promise<FenceOutcome> {
  return (await within(p, ms)) ?? { status: 'failed', detail: why };
}

function fenceEnv(cluster: Cluster, host: Host): Record<string, string> {
  return {
    SUCCESSOVER_CLUSTER: cluster.name,
    SUCCESSOVER_HOST: host.name,
    SUCCESSOVER_ADDRESS: host.address,
    SUCCESSOVER_PORT: String(host.port),
  };
}

/** Runs an argv on the worker (no shell: nothing to quote), bounded, output kept short. */
function runCommand(argv: string[], env: Record<string, string>, timeoutMs: number): Promise<FenceOutcome> {
  return new Promise((resolve) => {
    execFile(
      argv[0],
      argv.slice(1),
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`.trim().slice(-500);
        if (!err) resolve({ status: 'done', detail: `${argv[0]} succeeded${out ? `: ${out}` : ''}` });
        else
          resolve({
            status: 'failed',
            detail: `${argv[0]} failed (${err.killed ? `timed out after ${timeoutMs} ms` : `exit ${err.code}`})${out ? `: ${out}` : ''}`,
          });
      },
    );
  });
}

async function post(url: string, body: string): Promise<FenceOutcome> {
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(HOOK_TIMEOUT_MS),
    });
    return r.ok
      ? { status: 'done', detail: `POST ${new URL(url).host} answered ${r.status}` }
      : { status: 'failed', detail: `POST ${new URL(url).host} answered ${r.status}` };
  } catch (e) {
    return { status: 'failed', detail: `POST ${new URL(url).host} failed: ${(e as Error).message}` };
  }
}
