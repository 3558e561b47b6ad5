// Fault injection for the resumability and compensation tests. SUCCESSOVER_FAILPOINTS is a comma
// list of `<name>` (the worker process dies with SIGKILL, as a crash would) or `<name>=fail`
// (the step throws a non-retryable failure). Unset in production; reading one environment
// variable is all it costs.
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
