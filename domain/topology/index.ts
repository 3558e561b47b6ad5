// The cluster's topology as the decisions and the results see it:
// - nodeState.ts: each node's facts in one flavor-neutral shape, and the primary among them;
// - discovery.ts: what discovery returns (InspectResult) and how raw host facts become NodeState;
// - view.ts: the flat per-node row results and the UI show;
// - pair.ts: master-master pairs (the writer replicating from its standby).
export * from './nodeState';
export * from './discovery';
export * from './view';
export * from './pair';
