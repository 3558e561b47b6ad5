// The built-in detector (opt-in per cluster): watches the primary and, once it is down, starts
// emergency recovery itself (which confirms with the replicas before changing anything).
//
// The watching is one long activity (activities/watch.ts) holding a connection to the primary:
// a mysqld that dies is seen within milliseconds, and when its replicas lost it too the recovery
// starts at the first failed probe; without their agreement, after `probes` failures in a row.
// A watch returns after `watchSeconds` with the primary alive, so the history grows by three
// events per watch; it continues as new when full (./historyBound), carrying the primary and the
// failures in a row: a streak spanning two runs still counts whole.
import { continueAsNew, setCurrentDetails, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { findPrimary } from '../domain/topology';
import { acts, call } from './activities';
import { runSearchAttributes, SUPPORT_WORKFLOWS } from './api';
import { historyFull } from './historyBound';

export interface DetectorInput {
  cluster: string;
  /** Default: the cluster's policy.detector. */
  intervalSeconds?: number;
  probes?: number;
  /** After starting a recovery, wait this long before watching the (new) primary. */
  cooldownSeconds?: number;
  /** How long one watch activity runs before it reports the primary alive (default 300). */
  watchSeconds?: number;
  /** Default CONTINUE_AS_NEW_AFTER_EVENTS (tests pass a low one). */
  continueAsNewAfterEvents?: number;
  /** Carried across continue-as-new. */
  primary?: string;
  /** Carried across continue-as-new: failed probes of `primary` in a row. */
  failures?: number;
}

export async function detector(input: DetectorInput): Promise<never> {
  const { cluster } = input;
  upsertSearchAttributes(runSearchAttributes(cluster, SUPPORT_WORKFLOWS.detector));
  const spec = await call(acts.loadClusterSpec, `load the spec of ${cluster}`, { cluster });
  const intervalMs = (input.intervalSeconds ?? spec.policy.detector.intervalSeconds) * 1000;
  const needed = input.probes ?? spec.policy.detector.probes;
  const watchSeconds = input.watchSeconds ?? 300;
  let primary = input.primary;
  let failures = input.failures ?? 0;
  for (;;) {
    if (!primary) {
      const seen = await call(acts.inspectCluster, `find the primary of ${cluster}`, { cluster });
      const found = findPrimary(spec, seen.topology);
      primary = 'primary' in found ? found.primary : undefined;
      setCurrentDetails(
        primary ? `watching **${primary}**` : `no single primary: ${'refusal' in found ? found.refusal : ''}`,
      );
      if (!primary) await sleep(intervalMs);
    }
    if (primary) {
      const watched = await call(
        acts.watchPrimary,
        `watch ${primary}`,
        { cluster, host: primary, intervalMs, probes: needed, failures, watchSeconds },
        {
          startToCloseTimeout: `${watchSeconds + 60} seconds`,
          // A round is a probe, a discovery and the interval: a dead worker is noticed in seconds.
          heartbeatTimeout: `${Math.max(10, Math.ceil((3 * intervalMs) / 1000))} seconds`,
          // No attempt limit: a watch that keeps failing is the worker's problem, the detector keeps watching.
          retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
        },
      );
      failures = watched.failures;
      if (!watched.down && watched.demoted) {
        setCurrentDetails(`**${primary}** turned read-only: finding the primary again`);
        primary = undefined;
      }
      if (watched.down) {
        const why = watched.confirmedByReplicas
          ? `failed a probe and its replicas lost it too`
          : `failed ${failures} probes in a row`;
        const last = watched.probes[watched.probes.length - 1]?.error ?? 'no answer';
        const started = await call(acts.startRecovery, `start emergency recovery of ${cluster}`, {
          cluster,
          primary,
          reason: `detector: ${primary} ${why} (${last})`,
          source: { kind: 'detector', receivedAt: new Date().toISOString() },
          // The replicas' agreement was just seen: the recovery asks them again, and one probe suffices.
          ...(watched.confirmedByReplicas ? { probes: 1 } : {}),
        });
        setCurrentDetails(
          `started ${started.workflowId} (run ${started.runId}); watching again in ${input.cooldownSeconds ?? 30} s`,
        );
        await sleep((input.cooldownSeconds ?? 30) * 1000);
        primary = undefined;
        failures = 0;
      }
    }
    // After a round, never before: a run always watches, whatever the threshold.
    if (historyFull(input.continueAsNewAfterEvents))
      return continueAsNew<typeof detector>({ ...input, primary, failures });
  }
}
