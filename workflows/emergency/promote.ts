// Steps 9 and 10 of emergency recovery: promote the candidate and give it the writer traffic.
//
// Since patch emergency-traffic-at-promotion both happen at once, and the traffic the fence left
// on the old primary (its mysqld down: domain trafficMayWait) comes off it at the same moment. The
// candidate holds everything by now (caught up, salvaged), so a client that reaches it before the
// promotion is refused by read_only and retries; until then, one that reaches the old primary is
// refused at once instead of sending a SYN to an address no host holds.
import { acts, call } from '../activities';
import type { Runbook } from '../runbook';

export interface TrafficMove {
  primary: string;
  candidate: string;
  /** Patch emergency-traffic-at-promotion: everything at once; else one after the other. */
  atOnce: boolean;
  /** The fence left the traffic on the old primary: take it off now. */
  oldHoldsTraffic: boolean;
  /** Called once the promotion succeeded (the run's failure report names the new primary). */
  promoted: () => void;
}

export interface Promoted {
  /** When the new primary took writes with the traffic (workflow time): the recovery's end. */
  writableAt: number;
  warnings: string[];
}

/** Promotes and moves the traffic. Throws what the promotion threw. */
export async function promoteWithTraffic(run: Runbook, m: TrafficMove): Promise<Promoted> {
  const { cluster } = run;
  const { primary, candidate } = m;
  const promote = () =>
    run
      .step('promote', candidate, () =>
        call(acts.promote, `promote ${candidate}`, { cluster, host: candidate }),
      )
      .then(m.promoted);
  const attach = () =>
    run.step(
      'traffic to new primary',
      candidate,
      () => call(acts.attachTraffic, `writer traffic to ${candidate}`, { cluster, host: candidate }),
      (r) => r?.detail ?? 'no traffic router',
    );
  if (!m.atOnce) {
    await promote();
    await attach();
    return { writableAt: Date.now(), warnings: [] };
  }
  const warnings: string[] = [];
  const detachOld = m.oldHoldsTraffic
    ? run
        .step(
          'traffic off old primary',
          primary,
          () => call(acts.detachTraffic, `writer traffic off ${primary}`, { cluster, host: primary }),
          (r) => r?.detail ?? 'no traffic router',
        )
        .catch((e: unknown) => {
          warnings.push(
            `the writer traffic could not be taken off ${primary} (${String((e as Error).message)}): it answers for the VIP beside ${candidate} until its fence watch takes it off; its mysqld is down and comes back read-only`,
          );
        })
    : Promise.resolve();
  // The old primary's traffic may come off after the new one took writes: not waited for here.
  const [promoted, attached] = await Promise.allSettled([promote(), attach()]);
  const writableAt = Date.now();
  await detachOld;
  if (promoted.status === 'rejected') {
    // A candidate that could not be promoted does not keep the traffic: a later run may promote
    // another replica, and the VIP must not stay on this one beside it.
    if (attached.status === 'fulfilled')
      await run
        .step('traffic off the unpromoted candidate', candidate, () =>
          call(acts.detachTraffic, `writer traffic off ${candidate}`, { cluster, host: candidate }),
        )
        .catch(() => undefined);
    throw promoted.reason;
  }
  if (attached.status === 'rejected') throw attached.reason;
  return { writableAt, warnings };
}
