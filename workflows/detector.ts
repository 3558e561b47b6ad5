// The built-in detector (opt-in per cluster): probes the primary every few seconds and, after
// `probes` failures in a row, starts emergency recovery itself (which confirms with the replicas
// before changing anything). It continues as new when its history is full (./historyBound),
// carrying the primary and the failures in a row: a failure streak that spans two runs still
// counts whole, so a dead primary is never given `probes` more chances at each continue-as-new.
import { continueAsNew, setCurrentDetails, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { writableNodes } from '../domain/topology';
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
  let primary = input.primary;
  let failures = input.failures ?? 0;
  for (;;) {
    if (!primary) {
      const seen = await call(acts.inspectCluster, `find the primary of ${cluster}`, { cluster });
      const writers = writableNodes(seen.topology).filter((n) => !n.replication);
      primary = writers.length === 1 ? writers[0].name : undefined;
      setCurrentDetails(
        primary
          ? `watching **${primary}**`
          : `no single primary in ${cluster} (${writers.length} writable): waiting`,
      );
    }
    if (primary) {
      const [probe] = await call(acts.probePrimary, `probe ${primary}`, {
        cluster,
        host: primary,
        probes: 1,
        intervalMs: 0,
      });
      failures = probe.ok ? 0 : failures + 1;
      if (failures > 0)
        setCurrentDetails(`**${primary}** failed ${failures} of ${needed} probes: ${probe.error ?? ''}`);
      if (failures >= needed) {
        const started = await call(acts.startRecovery, `start emergency recovery of ${cluster}`, {
          cluster,
          primary,
          reason: `detector: ${primary} failed ${failures} probes in a row (${probe.error ?? 'no answer'})`,
          source: { kind: 'detector', receivedAt: new Date().toISOString() },
        });
        setCurrentDetails(
          `started ${started.workflowId} (run ${started.runId}); watching again in ${input.cooldownSeconds ?? 30} s`,
        );
        await sleep((input.cooldownSeconds ?? 30) * 1000);
        primary = undefined;
        failures = 0;
        if (historyFull(input.continueAsNewAfterEvents))
          return continueAsNew<typeof detector>({ ...input, primary, failures });
        continue;
      }
    }
    await sleep(intervalMs);
    // After a round, never before: a run always probes, whatever the threshold.
    if (historyFull(input.continueAsNewAfterEvents))
      return continueAsNew<typeof detector>({ ...input, primary, failures });
  }
}
