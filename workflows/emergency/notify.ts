// The recovery's hooks (policy hooks: commands and URLs). Best effort: their outcome is in the
// timeline, and a failing hook never fails the run.
import { acts, call } from '../activities';
import type { Runbook } from '../runbook';

export async function notify(
  run: Runbook,
  event: 'detected' | 'succeeded' | 'failed',
  facts: Record<string, string>,
): Promise<void> {
  await run.step(
    `notify ${event}`,
    undefined,
    () => call(acts.notify, `hooks: ${event}`, { cluster: facts.cluster, event, facts }),
    (r) => (r.length ? r.map((o) => `${o.status}: ${o.detail}`).join('; ') : 'no hooks'),
  );
}
