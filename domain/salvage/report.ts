// What the emergency recovery's salvage step says it did: the run's result, the timeline and the
// UI show it, and the data-compensation report then lists only what it could not salvage.
import type { GtidSummary } from './summary';

export interface SalvageReport {
  /**
   * - salvaged: transactions the candidate lacked were applied to it with their GTIDs;
   * - nothing: the candidate already had every complete transaction of the log;
   * - partial: some applied, some not (deadline, a failed statement, withheld, cut);
   * - skipped: not tried or not possible (policy off, host down, mysqld alive, log unreadable);
   * - refused: applying would have reordered or duplicated history (the candidate has some).
   */
  status: 'salvaged' | 'nothing' | 'partial' | 'skipped' | 'refused';
  /** In words: for the timeline, the UI and the warnings. */
  detail: string;
  /** Applied, as ranges and a count. */
  salvaged: GtidSummary | null;
  /** What the failed primary holds that the candidate still lacks, as far as the log showed it. */
  notSalvaged: string[];
  /** Complete transactions read after the candidate's position, and transactions cut by the crash. */
  complete: number;
  cut: number;
  seconds: number;
}

export const skippedSalvage = (detail: string, seconds = 0): SalvageReport => ({
  status: 'skipped',
  detail,
  salvaged: null,
  notSalvaged: [],
  complete: 0,
  cut: 0,
  seconds,
});
