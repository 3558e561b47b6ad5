// Rejoin: after an emergency recovery the old primary comes back fenced (read-only, no traffic).
// It is taken back as a replica of the new primary, and when it was one side of a master-master
// pair, as the standby again in both directions. Never when it holds a transaction the primary
// lacks: replicating on top would bury it; the run refuses and lists the GTIDs instead (the
// data-compensation report says how to recover them).
import { lostTransactions } from '../domain/emergency';
import { gtidOps } from '../domain/gtid';
import { decideRejoin } from '../domain/rejoin';
import { RejoinInputSchema, RUNBOOKS, type RejoinInput, type RejoinResult } from '../domain/runbook';
import { acts, boundedWait, call } from './activities';
import { persistRoles } from './persistRoles';
import { refused } from './runbook';
import { runbook, withClusterLock } from './scaffold';
import { verifyInvariants } from './verify';
import { loadAndDiscover } from './discover';

export async function rejoin(raw: RejoinInput): Promise<RejoinResult> {
  return runbook(RUNBOOKS.rejoin, RejoinInputSchema, raw, async (run, input) => {
    const { cluster, host } = input;
    // 1. Lock the cluster: no other runbook moves the primary meanwhile.
    return withClusterLock(
      run,
      async () => {
        // Nothing changes before step 4: an emergency recovery may take the cluster until then.
        run.preemptible = true;

        // 2. Discover: the primary, the host, and whether they were a pair.
        run.enterPhase('preflight');
        const { spec, before } = await loadAndDiscover(run);
        const decision = decideRejoin({ cluster: spec, topology: before.topology, host, pair: input.pair });
        if (!decision.ok) throw refused(run.runbook, cluster, decision.refusals);
        const { primary, pair, pairReason } = decision;
        run.enterPhase('preflight', `${host} ${pair ? '<->' : '→'} ${primary} (${pairReason})`);

        // 3. What the host holds that the primary lacks: anything, and it stays out.
        // The host first, then the primary: the host may be replicating from the primary already,
        // and a primary read before it would lack what the host received since and look behind.
        const mine = await run.step('host history', host, () =>
          call(acts.gtidPosition, `read the GTID state of ${host}`, { cluster, host }),
        );
        const theirs = await run.step('primary history', primary, () =>
          call(acts.gtidPosition, `read the GTID state of ${primary}`, { cluster, host: primary }),
        );
        const lost = lostTransactions({
          gtid: gtidOps(spec.flavor),
          oldPrimary: host,
          oldPrimaryHistory: mine.binlogState ?? mine.current,
          newPrimary: primary,
          newPrimaryHistory: theirs.binlogState ?? theirs.current,
        });
        if (lost.known && lost.lost)
          throw refused(run.runbook, cluster, [
            `${host} holds transactions ${primary} lacks, which replication would bury: ${lost.summary}. ${lost.compensation}; then rejoin it, or rebuild it with provision-replica --wipe`,
          ]);

        // 4. The host replicates from the primary, read-only, and starts read-only after a restart.
        run.preemptible = false;
        run.enterPhase('rejoin');
        await run.step('repoint', host, () =>
          call(acts.repoint, `repoint ${host} to ${primary}`, {
            cluster,
            host,
            source: primary,
            demote: true,
          }),
        );
        const persisting = persistRoles(run, {
          primary,
          readOnly: [host],
          why: `${host} rejoined ${primary}`,
        });

        // 5. A pair's way back: once the host has what the primary wrote, the primary replicates
        // from it again (writable: the one writer allowed a source). Events it wrote itself come
        // back with its own server id and are skipped, so nothing is applied twice.
        if (pair) {
          await run.step('catch up', host, () =>
            call(
              acts.waitUntilApplied,
              `${host} applies ${primary}'s position`,
              { cluster, host, position: theirs.position, timeoutSeconds: input.waitTimeoutSeconds },
              boundedWait(input.waitTimeoutSeconds),
            ),
          );
          await run.step('way back', primary, () =>
            call(acts.repoint, `${primary} replicates from ${host}`, {
              cluster,
              host: primary,
              source: host,
              writer: true,
            }),
          );
        }
        const warnings = await persisting;

        // 6. Verify the invariants (a pair must be one again).
        run.enterPhase('verify');
        const after = await verifyInvariants(run, cluster, primary, [], pair ? host : undefined);
        run.enterPhase('done', `${host} rejoined ${primary}${pair ? ' as its master-master standby' : ''}`);
        return {
          ok: true,
          cluster,
          host,
          primary,
          pair,
          pairReason,
          lost: lost.summary,
          warnings,
          timeline: run.timeline,
          topology: after.view,
        };
      },
      { waitSeconds: input.lockWaitSeconds },
    );
  });
}
