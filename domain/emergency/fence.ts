// What fencing the old primary achieved, step by step (activities/emergency.ts fences; the
// recovery and its fence watch report it): shown in the result and the UI.

export interface FenceReport {
  host: string;
  readOnly: FenceOutcome;
  traffic: FenceOutcome;
  command: FenceOutcome;
  /** read_only written to the host's optionFile, so a restart keeps it (absent: nothing to say). */
  optionFile?: FenceOutcome;
  /** At least one fence held: the host cannot take writes through successover's paths. */
  fenced: boolean;
}

/**
 * One fence (or hook): done, failed or skipped, and what happened. `deferred` (the traffic only):
 * left on a host whose mysqld is down, on purpose, until the new primary takes it.
 */
export interface FenceOutcome {
  status: 'done' | 'failed' | 'skipped' | 'deferred';
  detail: string;
}

/**
 * Whether the traffic may stay on the old primary until the new primary takes it. Taken off at
 * once, the VIP is on no host until then: a client's SYN sent meanwhile is lost, and its kernel
 * sends it again only after a second (then 3 s); left on a host whose mysqld is down, the
 * connection is refused at once and the client retries at its own pace. Only when nothing can
 * take a write there: its mysqld refused the connection (the host answers, nothing listens), and
 * read_only is in the option file it starts with, so a restart meanwhile comes back read-only.
 */
export function trafficMayWait(o: { mysqldRefused: boolean; optionFile?: FenceOutcome }): boolean {
  return o.mysqldRefused && o.optionFile?.status === 'done';
}

/** At least one fence holds; a deferred traffic move counts with the option file that allowed it. */
export function fenceHeld(r: Omit<FenceReport, 'fenced' | 'host'>): boolean {
  if ([r.readOnly, r.traffic, r.command].some((o) => o.status === 'done')) return true;
  return r.traffic.status === 'deferred' && r.optionFile?.status === 'done';
}
