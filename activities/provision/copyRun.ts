// What one copyBackup attempt carries through its phases, whichever the method.
import type { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { Dialect } from '../../domain/dialects';
import type { ClientEndpoint } from '../../domain/dialects/backup';
import type { Host } from '../../domain/inventory';
import type { AccountsCopied } from './accounts';
import type { ProvisionHosts } from './hosts';

export interface CopyPhase {
  name: string;
  ms: number;
}

export interface CopyProgress {
  phase: string;
  bytesCopied: number;
  totalBytesEstimate: number;
}

export interface CopyRun {
  hosts: ProvisionHosts;
  donor: Host;
  target: Host;
  dialect: Dialect;
  /** The run's directory beside the target's datadir (workdir.ts). */
  workdir: string;
  donorEndpoint: ClientEndpoint;
  targetEndpoint: ClientEndpoint;
  /** Runs one named phase: timed, reported in the heartbeat, refused once the copy is cancelled. */
  phase<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Counts the bytes of the stream. */
  counted(chunk: Buffer): void;
  signal: AbortSignal;
  stallMs: number;
}

/** What a method leaves for the result besides bytes and times. */
export interface CopyOutcome {
  position: string;
  rows: number | null;
  accounts: AccountsCopied | null;
}

/**
 * The copy's heartbeat: every second and at each phase, so a stuck command is told from a long
 * one, and the phases' times for the result. Call stop() when the copy ends.
 */
export function trackPhases(ctx: Context) {
  const progress: CopyProgress = { phase: 'inspect', bytesCopied: 0, totalBytesEstimate: 0 };
  const beat = () => ctx.heartbeat({ ...progress });
  beat();
  const beating = setInterval(beat, 1000);
  const phases: CopyPhase[] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
    progress.phase = name;
    beat();
    const t0 = Date.now();
    const r = await fn();
    phases.push({ name, ms: Date.now() - t0 });
    return r;
  };
  return { progress, phases, phase, stop: () => clearInterval(beating) };
}
