// Read-only that survives a restart (activities/readOnlyFile.ts): once the primary has changed,
// successover's read_only file is removed from the new primary and written on each node it
// demoted or fenced. Best effort, outside the write blackout; what could not be done is a warning
// in the run's result, naming the host and the fix.
import { acts, call } from './activities';
import type { Runbook } from './runbook';

export async function persistRoles(
  run: Runbook,
  { primary, readOnly, why }: { primary: string; readOnly: string[]; why: string },
): Promise<string[]> {
  const { cluster } = run;
  const outcomes = await Promise.all([
    run.step(
      'writable after a restart',
      primary,
      () =>
        call(acts.persistReadOnly, `${primary} no longer starts read-only`, {
          cluster,
          host: primary,
          readOnly: false,
          reason: `promoted: ${why}`,
        }),
      (o) => `${o.status}: ${o.detail}`,
    ),
    ...readOnly.map((host) =>
      run.step(
        'read-only after a restart',
        host,
        () =>
          call(acts.persistReadOnly, `${host} starts read-only`, {
            cluster,
            host,
            readOnly: true,
            reason: `demoted: ${why}`,
          }),
        (o) => `${o.status}: ${o.detail}`,
      ),
    ),
  ]);
  // A promoted node without a file is the usual case (its base configuration decides): not a warning.
  return outcomes.slice(1).flatMap((o) => (o.status === 'done' ? [] : [o.detail]));
}
