// Applying salvaged transactions, the decisions: whether the candidate may take them at all,
// what a failed statement means for the session, and what the result reports.
import type { Flavor } from '../inventory';
import { gtidKey, has, holdingsOf } from './holdings';
import { selectSalvage, type CandidateGtidState } from './select';
import type { GtidSummary } from './summary';
import type { BinlogTransaction } from './types';

export interface SalvageApplyFailure {
  readonly gtid: string | null;
  readonly message: string;
  /** The driver's code (ER_..., PROTOCOL_...), or the salvage's own: already-applied, unreplayable, gtid-mismatch... */
  readonly code: string | null;
  readonly errno: number | null;
}

export interface SalvageApplyResult {
  /** GTIDs applied, in order. */
  readonly applied: readonly string[];
  /** done: all applied; deadline: time ran out; failed: a statement failed; refused: none tried. */
  readonly stoppedBy: 'done' | 'deadline' | 'failed' | 'refused';
  readonly failure: SalvageApplyFailure | null;
  /**
   * Its last statement (COMMIT, DDL) was sent and the connection lost before the answer: it may
   * be on the candidate. Read the candidate's position on a new connection to know.
   */
  readonly uncertain: string | null;
  /** Not applied (the uncertain one excepted), in order. */
  readonly notApplied: readonly string[];
  readonly positionBefore: string | null;
  readonly positionAfter: string | null;
  /** The position read after contains every applied GTID. */
  readonly verified: boolean;
  readonly summary: GtidSummary;
  readonly seconds: number;
}

/** The candidate's texts selection reads: MariaDB binlog and replica positions, MySQL gtid_executed. */
export function candidateState(flavor: Flavor, position: string, replica: string | null): CandidateGtidState {
  return flavor === 'mysql'
    ? { flavor, gtidExecuted: position }
    : { flavor, binlogPos: position, slavePos: replica ?? '' };
}

/**
 * Refuses a list the candidate must not take: one it cannot replay, or one it already has any of
 * (checked on the candidate right before applying: it may have changed since the selection).
 */
export function applyPrecheck(
  flavor: Flavor,
  transactions: readonly BinlogTransaction[],
  candidate: CandidateGtidState,
): SalvageApplyFailure | null {
  const unreplayable = transactions.find((t) => t.unreplayable !== null);
  if (unreplayable)
    return salvageFailure(
      unreplayable.gtid,
      `cannot be replayed as SQL: ${unreplayable.unreplayable}`,
      'unreplayable',
    );
  const check = selectSalvage({ flavor, transactions, fileStarts: [] }, candidate);
  if (!check.ok) return salvageFailure(check.gtids[0] ?? null, check.message, check.reason);
  const had = transactions.length - check.apply.length;
  if (had > 0)
    return salvageFailure(
      transactions.find((t) => !check.apply.includes(t))?.gtid ?? null,
      `the candidate already has ${had} of these transactions`,
      'already-applied',
    );
  return null;
}

/** Whether every applied GTID is in the candidate's position read after (texts as candidateState). */
export function appliedAreIn(flavor: Flavor, applied: readonly string[], after: CandidateGtidState): boolean {
  const h = holdingsOf(
    flavor,
    after.flavor === 'mysql' ? [after.gtidExecuted] : [after.binlogPos, after.slavePos],
  );
  return applied.every((g) => has(h, gtidKey(flavor, g)));
}

interface DriverError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  message?: string;
}

/**
 * A server error (an errno, not fatal) leaves the session usable and the transaction undone once
 * rolled back; a lost connection or a timeout does not, and then a commit sent may have happened.
 */
export function sessionSurvives(e: unknown): boolean {
  const err = e as DriverError;
  return !err.fatal && typeof err.errno === 'number';
}

export function timedOut(e: unknown): boolean {
  return (e as DriverError).code === 'PROTOCOL_SEQUENCE_TIMEOUT';
}

/** A failed statement, named by its first words only: replayed text can hold data or a password hash. */
export function statementFailure(gtid: string | null, e: unknown, statement?: string): SalvageApplyFailure {
  const err = e as DriverError;
  const head = statement?.split(/['"`\n(=]/)[0].trim();
  const what = head === undefined ? '' : ` (in ${head.length > 40 ? `${head.slice(0, 40)}…` : head})`;
  return {
    gtid,
    message: `${err.message ?? String(e)}${what}`,
    code: err.code ?? null,
    errno: err.errno ?? null,
  };
}

export function salvageFailure(gtid: string | null, message: string, code: string): SalvageApplyFailure {
  return { gtid, message, code, errno: null };
}
