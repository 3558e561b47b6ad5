// Every activity the worker registers: a plain merge of the per-area factories. Add an area with
// one line. A factory that opens resources (pools, SSH connections) registers their cleanup with
// resources.onClose so the worker releases them on shutdown.
import type { ActivityDeps } from './deps';
import type { Cluster } from '../domain/inventory';
import { toNodeState } from '../domain/topology';
import { createClusterActivities } from './cluster';
import { createEmergencyActivities } from './emergency';
import { createFleetActivities } from './fleet';
import { createInventoryActivities } from './inventoryHosts';
import { FailureType, nonRetryable } from './errors';
import { createLockActivities } from './lock';
import { createProvisionActivities } from './provision';
import { createReadOnlyFileActivities } from './readOnlyFile';
import { createSalvageActivities } from './salvageStep';
import { createWatchActivities } from './watch';
import { createSqlActivities } from './sql';
import { SqlPools } from './sql/pools';
import { SshPool } from './ssh';
import { createSuccessoverActivities } from './successover';
import { createUpgradeActivities } from './upgrade';
import { createRouter, type TrafficRouter } from './traffic/router';

export type Closer = () => unknown;

export class ActivityResources {
  private readonly closers: Closer[] = [];

  onClose(fn: Closer): void {
    this.closers.push(fn);
  }

  /** Runs every cleanup, newest first, even when one fails; then reports the failures. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} activity resource(s) failed to close`);
  }
}

export function createActivities(deps: ActivityDeps, resources: ActivityResources = new ActivityResources()) {
  const pools = new SqlPools(deps.secrets.mysql);
  resources.onClose(() => pools.close());
  const ssh = deps.secrets.ssh
    ? new SshPool({ user: deps.secrets.ssh.user, privateKey: deps.secrets.ssh.privateKey })
    : undefined;
  if (ssh) resources.onClose(() => ssh.close());
  // Per cluster object: a re-read inventory (a host added) gets a router that knows the new hosts.
  const routers = new WeakMap<Cluster, TrafficRouter>();
  const routerFor = (cluster: Cluster): TrafficRouter => {
    let r = routers.get(cluster);
    if (!r) routers.set(cluster, (r = createRouter(cluster, { ssh })));
    return r;
  };
  const sql = createSqlActivities(deps, { pools });
  const readOnlyFile = createReadOnlyFileActivities(deps, { ssh });
  const lock: ReturnType<typeof createLockActivities> = deps.temporal
    ? createLockActivities(deps.temporal)
    : {
        acquireClusterLock: noTemporal('acquireClusterLock'),
        releaseClusterLock: noTemporal('releaseClusterLock'),
        preemptLockHolder: noTemporal('preemptLockHolder'),
      };
  return {
    ...createClusterActivities(deps),
    ...sql.activities,
    ...lock,
    ...readOnlyFile.activities,
    ...createEmergencyActivities(deps, { pools, routerFor, persistReadOnly: readOnlyFile.persist }),
    ...createSalvageActivities(deps, { pools, ssh }),
    ...createWatchActivities(deps, {
      sql: sql.activities,
      warmSsh: async (hosts) => {
        if (ssh) await ssh.warm(hosts);
      },
    }),
    ...createUpgradeActivities(deps, { pools }),
    ...createProvisionActivities(deps, { pools, ssh }),
    ...createInventoryActivities(deps, { ssh }),
    ...createFleetActivities(deps, {
      discover: async (cluster) =>
        (await sql.activities.discoverTopology({ cluster })).hosts.map(toNodeState),
    }),
    ...createSuccessoverActivities(deps, {
      pools,
      sql: sql.activities,
      routerFor,
      warmSsh: async (hosts) => {
        if (ssh) await ssh.warm(hosts.filter((h) => h.ssh));
      },
    }),
  };
}

function noTemporal(name: string): (arg: { cluster: string }) => Promise<never> {
  return async () => {
    throw nonRetryable(
      FailureType.BadConfiguration,
      `${name} needs a Temporal client: build the worker with createWorker`,
    );
  };
}

/** What workflows proxy: `proxyActivities<Activities>(...)` with `import type`. */
export type Activities = ReturnType<typeof createActivities>;
