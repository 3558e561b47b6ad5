// Reading the failed primary's binary log over SSH, the decisions: what a read yields, and after
// each attempt whether to read older files too. The attempts start with the newest file and
// double: a caught-up candidate needs the last file alone whatever the retention, and no attempt
// reads more than twice what was needed.
import type { SalvageReadOutcome } from '../dialects/salvage';
import type { Flavor } from '../inventory';
import { lackedBeforeFiles } from './coverage';
import { holdingsOf } from './holdings';
import type { ParsedBinlog } from './types';

export type SalvageReadFailure = 'unreachable' | 'no-index' | 'unreadable' | 'missing-history' | 'deadline';

export type SalvageRead =
  | {
      readonly ok: true;
      /** Files read, oldest first, and how many the index lists. */
      readonly files: readonly string[];
      readonly filesInIndex: number;
      readonly parsed: ParsedBinlog;
      /** complete: every file to its end; partial: the tool stopped early (unreadable event, deadline). */
      readonly outcome: 'complete' | 'partial';
      /** The tool reported a torn event (the crash cut the log's last event). */
      readonly torn: boolean;
      /** The output was longer than the bytes kept: transactions past them were not read. */
      readonly outputTruncated: boolean;
      readonly messages: readonly string[];
      readonly seconds: number;
    }
  | {
      readonly ok: false;
      readonly failure: SalvageReadFailure;
      readonly message: string;
      readonly messages: readonly string[];
      readonly seconds: number;
    };

export type ReadVerdict =
  | { readonly next: 'read-more' }
  | { readonly next: 'fail'; readonly failure: SalvageReadFailure; readonly message: string }
  | { readonly next: 'done'; readonly outcome: 'complete' | 'partial' };

/** Files to read in the attempt after one that read `count` of `total` (the newest ones). */
export function nextFileCount(count: number, total: number): number {
  return Math.min(total, count * 2);
}

/**
 * After one attempt: `outcome` is the dialect's reading of the tool's exit and stderr, `stoppedAt
 * Deadline` whether the attempt was cut by its time bound, `more` whether older files remain.
 */
export function readVerdict(a: {
  flavor: Flavor;
  startPosition: string;
  outcome: SalvageReadOutcome;
  parsed: ParsedBinlog;
  stoppedAtDeadline: boolean;
  more: boolean;
  tool: string;
}): ReadVerdict {
  if (a.stoppedAtDeadline) return { next: 'done', outcome: 'partial' };
  if (a.outcome.kind === 'failed')
    return { next: 'fail', failure: 'unreadable', message: `${a.tool} could not read the binary logs` };
  if ((a.outcome.kind === 'missing-history' || !reachesStart(a)) && a.more) return { next: 'read-more' };
  if (a.outcome.kind === 'missing-history')
    return {
      next: 'fail',
      failure: 'missing-history',
      message: `the binary logs no longer hold what follows ${a.startPosition || 'the start'}`,
    };
  // Files that start after the position with no older ones left: selectSalvage refuses it with
  // the GTIDs the candidate lacks, which is what the report needs.
  return { next: 'done', outcome: a.outcome.kind === 'complete' ? 'complete' : 'partial' };
}

function reachesStart(a: { flavor: Flavor; startPosition: string; parsed: ParsedBinlog }): boolean {
  try {
    const lacked = lackedBeforeFiles(a.parsed, holdingsOf(a.flavor, [a.startPosition]));
    return lacked === null || lacked === '';
  } catch {
    return true; // an unreadable starting state: selectSalvage refuses it with the reason
  }
}
