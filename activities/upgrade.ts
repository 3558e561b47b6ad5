// Blue/green upgrade activities. Reading facts only: safe to retry, changes nothing. The facts are
// recorded in history, so they carry names and settings, never password hashes or secret values.
import type { ActivityDeps } from './deps';
import { classifySqlError } from './errors';
import { clusterOf, hostOf } from './lookup';
import { probe } from './sql/run';
import type { SqlPools } from './sql/pools';
import { dialectFor } from '../domain/dialects';
import type { CompatFacts } from '../domain/upgrade/facts';
import { watchedWords } from '../domain/upgrade/versions';

export interface CollectCompatFactsInput {
  cluster: string;
  host: string;
}

export function createUpgradeActivities(deps: ActivityDeps, shared: { pools: SqlPools }) {
  return {
    /** Configuration, accounts and schema names of one host, for checkCompatibility. */
    async collectCompatFacts(input: CollectCompatFactsInput): Promise<CompatFacts> {
      const cluster = clusterOf(deps.inventory, input.cluster);
      const host = hostOf(cluster, input.host);
      const p = dialectFor(cluster.flavor).compatFacts(watchedWords());
      try {
        return await shared.pools.with(host, (c) => probe(c, p));
      } catch (err) {
        throw classifySqlError(host.name, 'collect compatibility facts', err);
      }
    },
  };
}

export type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;
