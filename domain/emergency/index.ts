/**
 * Emergency recovery decisions: pure, deterministic, importable by workflows.
 *
 * - `inferDeadPrimary(nodes)`, `confirmFailure(...)`: is the primary really dead (worker probes
 *   AND the replicas' IO threads)? confirmed | false-alarm | undecidable, with evidence.
 * - `checkFlapping(...)`: the anti-flapping window (policy.recoveryBlockSeconds, --ack-flapping).
 * - `deadPrimaryIdentity(...)`, `errantAcrossReplicas(...)`, `errantDecision(...)`: errant
 *   transactions without a primary to compare with, and policy.errantGtids.
 * - `planCatchUp(...)`: relay-log wait, then replicate the candidate from more advanced replicas.
 * - `whomToPromote(...)`: never behind another replica; the most advanced allowed one instead.
 * - `lostTransactions(...)`: what the dead primary committed that the new primary lacks.
 * - `chooseCandidate(...)`: the ranking plus the errant-GTID policy: whom to promote, or why not.
 * Errors name the host and the fix: `PositionUnknown` (errors.ts), `UnreadableGtid` (../ranking).
 */
export * from './types';
export * from './errors';
export * from './confirm';
export * from './suspect';
export * from './flapping';
export * from './errant';
export * from './catchUp';
export * from './lost';
export * from './choose';
export * from './fallback';
