// Provisioning a replica, phase by phase: inspect the target and the donor (inspect.ts), copy a
// consistent backup from one to the other over SSH (copyBackup.ts, then copyLogical.ts or
// copyPhysical.ts, through streams.ts; accounts.ts after a logical copy), give the target the
// backup's position and start replication (restorePosition.ts), and compare it with another
// replica at one GTID position (checksum.ts). workdir.ts holds the in-progress marker that makes
// a half-restored target recognisable to the next attempt.
import type { ActivityDeps } from '../deps';
import { createSqlActivities } from '../sql';
import { createChecksumActivities } from './checksum';
import { createCopyActivities } from './copyBackup';
import { provisionHosts, type ProvisionShared } from './hosts';
import { createInspectActivities } from './inspect';
import { createRestorePositionActivities } from './restorePosition';

export type { AccountsCopied } from './accounts';
export type { ChecksumResult, TableComparison } from './checksum';
export type { CopyBackupInput, CopyBackupResult } from './copyBackup';
export type { CopyPhase, CopyProgress } from './copyRun';
export type { ProvisionShared } from './hosts';
export type { DonorState, ProvisionTargetState } from './inspect';
export type { ReplicationProgress } from './restorePosition';
export type { ProvisionMarker } from './workdir';

export function createProvisionActivities(deps: ActivityDeps, shared: ProvisionShared) {
  const hosts = provisionHosts(deps, shared);
  const sql = createSqlActivities(deps, { pools: shared.pools }).activities;
  return {
    ...createInspectActivities(hosts),
    ...createCopyActivities(deps, hosts),
    ...createRestorePositionActivities(hosts, sql.repoint),
    ...createChecksumActivities(hosts),
  };
}
