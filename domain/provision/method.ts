// Logical or physical copy, and the policy numbers provisioning decides with.
//
// Why size decides: a logical copy (mariadb-dump | mariadb) replays the data as SQL on one thread
// and rebuilds every index on the target, so it runs at tens of MB/s; for a small data set that
// is seconds to a minute, and it needs nothing else: the target's server keeps running, and the
// donor and target may run different versions (blue/green). A physical copy (mariadb-backup
// --stream) moves pages at disk or network speed and rebuilds nothing, which wins by hours on
// large data sets, but it stops the target's server (so the inventory must say how: `service`),
// needs the backup tool on the donor and the same major version on both sides. Above about a
// GiB the time saved outweighs those conditions.
import { formatBytes } from './progress';

export const PROVISION_METHODS = ['logical', 'physical'] as const;
export type ProvisionMethod = (typeof PROVISION_METHODS)[number];

export interface ProvisionPolicy {
  /** Data size from which the default method is physical. */
  physicalThresholdBytes: number;
  /**
   * Free disk the target needs, as a multiple of the donor's data size: a physical copy holds
   * the streamed files plus the redo log applied at prepare; a logical restore writes the tables
   * and rebuilds their indexes.
   */
  diskMargin: Record<ProvisionMethod, number>;
}

export const GiB = 1024 ** 3;

export const DEFAULT_PROVISION_POLICY: ProvisionPolicy = {
  physicalThresholdBytes: 1 * GiB,
  diskMargin: { logical: 1.1, physical: 1.2 },
};

export interface MethodChoice {
  method: ProvisionMethod;
  /** Why: "asked for" or the size against the threshold. */
  reason: string;
}

export function chooseMethod(
  dataBytes: number,
  requested?: ProvisionMethod,
  thresholdBytes: number = DEFAULT_PROVISION_POLICY.physicalThresholdBytes,
): MethodChoice {
  if (!Number.isFinite(dataBytes) || dataBytes < 0)
    throw new Error(`chooseMethod: data size ${dataBytes}: expected a number of bytes >= 0`);
  if (requested) return { method: requested, reason: `${requested}, as asked` };
  const size = formatBytes(dataBytes);
  const limit = formatBytes(thresholdBytes);
  return dataBytes >= thresholdBytes
    ? { method: 'physical', reason: `physical: ${size} of data, at least the ${limit} threshold` }
    : { method: 'logical', reason: `logical: ${size} of data, under the ${limit} threshold` };
}
