// Every change to a workflow's commands, listed once (README "Upgrading the workers").
//
// Temporal replays a run's history on whatever worker picks it up next: after a worker upgrade,
// code that issues a different command (an activity, timer, child, signal, search-attribute upsert
// or local activity added, removed or moved) than the history recorded stops that run with a
// non-determinism error. So such a change ships one of two ways:
//   1. behind `changed(id)` below, with the id listed here: runs that reached this point before
//      the change keep the old commands, every later run takes the new ones; or
//   2. with a release that records the replay suite's histories again (scripts/record-histories.sh),
//      when the change may wait for a release and its note tells operators to let open runs end.
// The replay suite (test/unit/workflows/replay.test.ts) fails on a change made neither way.
//
// Ask `changed(id)` before a local activity of the same workflow task, never in the activation
// that a local activity's result starts: a history whose task ended right after that result
// holds the marker in the next task, and replay meets the marker before the code that asks for
// it (non-determinism; seen with emergency-last-recovery-beside in 1 of 12 runs of a test).
//
// A patch's life: added as `changed(id)`; once no run that started before every worker ran the
// patched release can still be open (the runbooks' longest life: the 24 h rollback window, plus
// margin), marked `deprecated` with the old branch deleted from the code (deprecatePatch keeps
// the marker for runs recorded with it); a release later, removed from this list and from the
// code. Ids are never reused.
import { deprecatePatch, patched } from '@temporalio/workflow';

export interface Patch {
  /** When the change was made (YYYY-MM-DD). */
  date: string;
  /** The workflow functions whose commands change. */
  workflows: string[];
  /** What changes, and why it could not wait for a release. */
  reason: string;
  /** The old branch is gone from the code; the marker stays for histories that have it. */
  deprecated?: string;
}

export const PATCHES = {
  'emergency-traffic-at-promotion': {
    date: '2026-12-06',
    workflows: ['emergencyRecovery'],
    reason:
      'the traffic moves at the promotion: the fence leaves it on an old primary whose mysqld is down (clients refused at once, not a SYN lost for a second), and the promotion, the traffic to the new primary and off the old one run at once (issue 18)',
  },
  'emergency-freeze-and-read': {
    date: '2026-12-06',
    workflows: ['emergencyRecovery'],
    reason:
      "the replicas' IO threads stop and the positions are read in one step (inspectCluster with freeze) instead of two: one engine round trip less before the promotion (issue 18)",
  },
  'emergency-last-recovery-beside': {
    date: '2026-12-06',
    workflows: ['emergencyRecovery'],
    reason:
      "the anti-flapping record (Temporal's visibility) is read by an ordinary activity scheduled after the discovery, not a local activity: a local activity held the first workflow task's commands (lock, discovery, probe) until visibility had answered (issue 18)",
  },
} as const satisfies Record<string, Patch>;

export type PatchId = keyof typeof PATCHES;

/**
 * Whether this run takes the changed commands: always for runs started on a worker that has the
 * patch, never for runs that passed this point on an older worker.
 */
export function changed(id: PatchId): boolean {
  const patch: Patch = PATCHES[id];
  if (patch.deprecated) {
    deprecatePatch(id);
    return true;
  }
  return patched(id);
}
