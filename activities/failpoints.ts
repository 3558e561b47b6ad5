// Fault injection for the resumability tests: SUCCESSOVER_FAILPOINTS=critical:promote,... makes
// the worker process die (SIGKILL, as a crash would) right after the named step. Unset in
// production; reading one environment variable is all it costs.
export function failpoint(name: string): void {
  const armed = process.env.SUCCESSOVER_FAILPOINTS;
  if (armed && armed.split(',').includes(name)) process.kill(process.pid, 'SIGKILL');
}
