// Where writer traffic goes: one interface over the VIP, HAProxy and "nothing configured", chosen by
// the inventory's traffic.type. Every method is idempotent so a retried activity is harmless.
import type { Cluster } from '../../domain/inventory';
import { FailureType, nonRetryable } from '../errors';
import type { SshPool } from '../ssh';
import type { TrafficRouter } from './types';
import { HaproxyRouter } from './haproxy';
import { NoneRouter } from './none';
import { VipRouter } from './vip';

export * from './types';

export interface RouterDeps {
  ssh?: SshPool;
  /** Bound on each remote command / runtime API call. */
  commandTimeoutMs?: number;
}

export function createRouter(cluster: Cluster, deps: RouterDeps = {}): TrafficRouter {
  const t = cluster.traffic;
  switch (t.type) {
    case 'vip':
      if (!deps.ssh)
        throw nonRetryable(
          FailureType.BadConfiguration,
          `cluster ${cluster.name} moves a VIP over SSH, but no SSH pool was given: add credentials.ssh to the inventory`,
        );
      return new VipRouter(cluster, t, deps.ssh, deps.commandTimeoutMs);
    case 'haproxy':
      return new HaproxyRouter(cluster, t, deps.commandTimeoutMs);
    case 'none':
      return new NoneRouter();
  }
}
