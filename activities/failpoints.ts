// Fault injection for the resumability and compensation tests. SUCCESSOVER_FAILPOINTS is a comma
// list of `<name>` (the worker process dies with SIGKILL, as a crash would) or `<name>=fail`
// (the step throws a non-retryable failure). Unset in production; reading one environment
// variable is all it costs.
import { Context } from '@temporalio/activity';
import { FailureType, nonRetryable } from './errors';

export function failpoint(name: string): void {
  const armed = process.env.SUCCESSOVER_FAILPOINTS;
  if (!armed) return;
  for (const entry of armed.split(',')) {
    const [point, action = 'crash'] = entry.split('=');
    if (point !== name) continue;
    if (action === 'fail') throw nonRetryable(FailureType.SqlError, `failpoint ${name}: injected failure`);
    process.kill(process.pid, 'SIGKILL');
  }
}

/**
 * `<name>=hold`: the activity waits there, heartbeating, until it is cancelled or `maxMs` passed
 * (then it goes on): a test holds a runbook at a known step, e.g. a planned successover before its
 * critical section while an emergency recovery pre-empts it.
 */
export async function holdpoint(name: string, maxMs = 15_000): Promise<void> {
  const armed = process.env.SUCCESSOVER_FAILPOINTS;
  if (!armed || !armed.split(',').includes(`${name}=hold`)) return;
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat({ holding: name }), 200);
  try {
    await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, maxMs))]);
  } finally {
    clearInterval(beat);
  }
}
