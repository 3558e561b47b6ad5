// Replica provisioning's decisions: pure, so the workflow replays them deterministically.
export * from './donor';
export * from './lastLook';
export * from './method';
export * from './preflight';
export * from './progress';
export * from './unprovisioned';
export * from './verify';
