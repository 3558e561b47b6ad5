// Every workflow the worker registers (the bundler starts here). One export line per runbook.
export { describeCluster } from './describeCluster';
export { clusterLock } from './clusterLock';
export { plannedSuccessover } from './plannedSuccessover';
export { emergencyRecovery } from './emergencyRecovery';
export { fenceWatch } from './fenceWatch';
export { detector } from './detector';
export { topology } from './topology';
export { provisionReplica } from './provisionReplica';
export { blueGreenUpgrade } from './blueGreenUpgrade';
export { rejoin } from './rejoin';
export { provisionCatchUp } from './provisionCatchUp';
export { blueGreenSoak } from './blueGreenSoak';
export { fleet, drainHost } from './fleet';
