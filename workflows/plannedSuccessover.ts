// Planned successover: move the primary role from a live primary to a replica with a write
// blackout of well under a second and no acknowledged write lost (DESIGN.md, seed 004).
//
// Point of no return: the target's promotion (inside the critical section). Before it, every
// failure compensates back to the original state; after it, the run only rolls forward.
import { CancellationScope, ApplicationFailure } from '@temporalio/workflow';
import { gtidOps } from '../domain/gtid';
import { preflightPlanned } from '../domain/planned/preflight';
import { unfinishedSuccessover } from '../domain/planned/rollForward';
import { unprovisionedNodes } from '../domain/provision/unprovisioned';
import { findPrimary, withLaterPosition } from '../domain/topology';
import {
  PlannedSuccessoverInputSchema,
  RUNBOOKS,
  type PlannedSuccessoverInput,
  type PlannedSuccessoverResult,
} from '../domain/runbook';
import { acts, boundedWait, call, criticalOptions } from './activities';
import { FailureType } from './api';
import { failureMessage, refused } from './runbook';
import { runbook, withClusterLock } from './scaffold';
import { persistRoles } from './persistRoles';
import { rollForward, unfinishedFailure } from './plannedRollForward';
import { verifyInvariants } from './verify';
import { loadAndDiscover } from './discover';
import { waitForWindow } from './window';

export async function plannedSuccessover(raw: PlannedSuccessoverInput): Promise<PlannedSuccessoverResult> {
  return runbook(RUNBOOKS.planned, PlannedSuccessoverInputSchema, raw, async (run, input) => {
    const { cluster } = input;
    // 1. Wait for the upgrade window, when one is given (without the lock: waiting blocks nobody).
    await waitForWindow(run, input.window, { what: 'the successover' });

    // 2. Lock the cluster: one runbook per cluster at a time, released whatever happens.
    return withClusterLock(run, async () => {
      // Until the critical section nothing changes: an emergency recovery may take the cluster.
      run.preemptible = true;

      // 3. Discover and preflight: refuse before anything changes.
      run.enterPhase('preflight');
      const { spec, before } = await loadAndDiscover(run);
      // An earlier run to this target stopped after its point of no return: finish it.
      const unfinished = input.dryRun
        ? null
        : unfinishedSuccessover(before.topology, before.trafficHolders, input.target);
      if (unfinished) return rollForward(run, unfinished);
      const found = findPrimary(spec, before.topology);
      if ('refusal' in found) throw refused(run.runbook, cluster, [found.refusal]);
      // Both read the primary, at once. Its position is read after the replicas', so nothing they
      // received from it looks errant.
      const [longTransactions, primaryNow] = await Promise.all([
        run.step('long transactions', found.primary, () =>
          call(acts.longTransactions, `long transactions on ${found.primary}`, {
            cluster,
            host: found.primary,
            thresholdSeconds: spec.policy.longTransactionSeconds,
          }),
        ),
        run.step('primary position', found.primary, () =>
          call(acts.gtidPosition, `read the GTID state of ${found.primary}`, {
            cluster,
            host: found.primary,
          }),
        ),
      ]);
      const observed = withLaterPosition(
        before.topology,
        found.primary,
        primaryNow.current,
        primaryNow.binlogState ?? primaryNow.current,
      );
      const preflight = preflightPlanned({
        cluster: spec,
        topology: observed,
        request: input,
        longTransactions,
        gtid: gtidOps(spec.flavor),
      });
      if (!preflight.ok) throw refused(run.runbook, cluster, preflight.refusals);
      const { primary, target, warnings, forced, ranking, pair } = preflight.decision;
      run.enterPhase(
        'preflight',
        `${primary} ${pair ? '<->' : '→'} ${target}${forced.length ? ` (forced: ${forced.join('; ')})` : ''}`,
      );

      const planning = run.step('plan', undefined, () =>
        call(acts.planSuccessover, `plan ${primary} → ${target}`, { ...input, primary, target, pair }),
      );
      const resultOf = (plan: Awaited<typeof planning>) => ({
        ok: true as const,
        cluster,
        primary,
        target,
        warnings,
        forced,
        ranking,
        plan,
        pair,
      });
      if (input.dryRun) {
        const common = resultOf(await planning);
        run.enterPhase('done', 'dry run: nothing was changed');
        return { ...common, dryRun: true, blackoutMs: null, timeline: run.timeline, topology: before.view };
      }

      // 4. Catch up while writes still flow, so the wait inside the blackout is short: to the
      // position the preflight read (the critical section waits for the final one anyway), while
      // the plan is written.
      run.enterPhase('catch-up');
      const [plan] = await Promise.all([
        planning,
        run.step('catch up', target, () =>
          call(
            acts.waitUntilApplied,
            `${target} applies ${primary}'s position`,
            {
              cluster,
              host: target,
              position: primaryNow.position,
              timeoutSeconds: input.waitTimeoutSeconds,
            },
            boundedWait(input.waitTimeoutSeconds),
          ),
        ),
      ]);
      const common = resultOf(plan);

      // 5. The critical section, in one activity so no engine round trip lands inside the blackout:
      // 5a read-only, 5b kill loop, 5c final position, 5d wait, 5e traffic to the (read-only)
      // target alongside 5b-5d, 5f PROMOTE (point of no return), 5g traffic off the old primary
      // and stop the kill loop, 5h the new primary forgets its source. Each is idempotent: a retry
      // resumes safely. A pair's target keeps replicating from the old primary (seed 004: only
      // read_only, the kill loop and the traffic change): the way back stays open with nothing to
      // rebuild.
      run.preemptible = false; // the critical section is only ever finished or compensated
      run.enterPhase('critical-section', `${primary} read-only → ${target} writable`);
      let critical;
      try {
        critical = await call(
          acts.runCriticalSection,
          `switch writes ${primary} → ${target}`,
          {
            cluster,
            primary,
            target,
            waitTimeoutSeconds: input.waitTimeoutSeconds,
            readOnlyTimeoutSeconds: input.readOnlyTimeoutSeconds,
            killIntervalMs: input.killIntervalMs,
            keepReplication: pair,
          },
          criticalOptions,
        );
      } catch (e) {
        // Before the point of no return: put the old primary back as it was, then fail clearly.
        run.enterPhase('compensate', failureMessage(e));
        const undone = await CancellationScope.nonCancellable(() =>
          run.step('compensate', primary, () =>
            call(acts.compensateCriticalSection, `restore ${primary} as primary`, {
              cluster,
              primary,
              target,
            }),
          ),
        );
        // Promoted: never undone. The failure says what is done; a re-run finishes the rest.
        if (undone.pastPointOfNoReturn) throw await unfinishedFailure(run, primary, target, e);
        throw ApplicationFailure.create({
          type: FailureType.Compensated,
          message: `planned successover ${primary} → ${target} on ${cluster} failed before promotion and was undone (${primary} is writable again): ${failureMessage(e)}`,
          nonRetryable: true,
        });
      }
      run.record(critical.steps);

      // 6. Repoint the other replicas and the old primary (as a read-only replica) to the target.
      // In a pair the old primary already replicates from the target: the repoint only sets its
      // position by GTID (its own writes merged in), so nothing is fetched or replayed twice.
      // Never an unprovisioned node: it would replay the whole history (preflight warned of it).
      // Meanwhile the roles are made to survive a restart (the old primary starts read-only).
      run.enterPhase('repoint');
      const unprovisioned = unprovisionedNodes(observed.nodes);
      const others = spec.hosts.map((h) => h.name).filter((h) => h !== target && !unprovisioned.includes(h));
      const persisting = persistRoles(run, {
        primary: target,
        readOnly: [primary],
        why: `planned successover ${primary} → ${target}`,
      });
      try {
        await Promise.all(
          others.map((host) =>
            run.step('repoint', host, () =>
              call(acts.repoint, `repoint ${host} to ${target}`, {
                cluster,
                host,
                source: target,
                demote: host === primary,
              }),
            ),
          ),
        );
      } catch (e) {
        await persisting.catch(() => undefined);
        throw await unfinishedFailure(run, primary, target, e);
      }
      warnings.push(...(await persisting));

      // 7. Verify the invariants and return the timeline.
      run.enterPhase('verify');
      const after = await verifyInvariants(run, cluster, target, [], pair ? primary : undefined);
      run.enterPhase('done', `${primary} → ${target} in ${critical.blackoutMs} ms of write blackout`);
      return {
        ...common,
        plan: critical.commands,
        dryRun: false,
        blackoutMs: critical.blackoutMs,
        timeline: run.timeline,
        topology: after.view,
      };
    });
  });
}
