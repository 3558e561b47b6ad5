// Fleets: which clusters a fleet runs on (selectors, lists, limits) and which a machine drain moves.
export * from './select';
export * from './drain';
