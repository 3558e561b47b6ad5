// Provision a replica: copy a consistent backup from a donor to an empty host, start replication
// from the primary, wait until it has caught up, and prove its data equals another replica's at
// one GTID position (DESIGN.md "Replica provisioning", seed 000 "Provisioning a New Replica").
//
// Nothing changes before step 4 (copy): a refusal leaves the target as it was (and the inventory:
// a host the input added in step 2 is taken out again). The copy may take
// hours and holds no cluster lock; only the short span "find the primary now -> start replication"
// does (step 5). Until replication runs the target carries the copy's in-progress marker: it is a
// half-restored server, never a replica, and a retried or repeated copy wipes it and starts over.
import {
  ApplicationFailure,
  CancellationScope,
  sleep,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { gtidOps } from '../domain/gtid';
import {
  chooseChecksumReference,
  chooseDonor,
  describeMismatches,
  formatBytes,
  formatCatchUp,
  formatCopyResult,
  mbPerSecond,
  preexistingProblems,
  preflightProvision,
  rowsPerSecond,
  unknownTarget,
} from '../domain/provision';
import {
  ProvisionReplicaInputSchema,
  RUNBOOKS,
  type ProvisionChecksumReport,
  type ProvisionReplicaInput,
  type ProvisionReplicaRequest,
  type ProvisionReplicaResult,
} from '../domain/runbook';
import { findPrimary, withLaterPosition } from '../domain/topology';
import type { AddInventoryHostResult } from '../domain/provision/newHost';
import { acts, call } from './activities';
import { FailureType } from './api';
import { waitInChild } from './historyBound';
import { provisionCatchUp } from './provisionCatchUp';
import { failureMessage, failureType, refused, type Runbook } from './runbook';
import { releaseClusterLock, runbook } from './scaffold';
import { verifyInvariants } from './verify';

/** How often the catch-up is polled (each poll is one activity and one durable timer, in the child run). */
const CATCH_UP_POLL_MS = 2000;
/** How often a taken cluster lock is tried again. */
const LOCK_RETRY_MS = 5000;

/**
 * The copy heartbeats every second with {phase, bytesCopied, totalBytesEstimate}: a worker that
 * dies is noticed within 15 s and the copy starts again on another (it finds its marker, wipes the
 * partial restore and copies again). A copy that fails for a retryable reason (a broken SSH
 * channel, a stall) is retried the same way; a refusal is not.
 */
const copyOptions = (seconds: number): ActivityOptions => ({
  startToCloseTimeout: `${Math.ceil(seconds)} seconds`,
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
  },
});

/**
 * The comparison stops both replicas at one position and checksums every table: bounded by the
 * data size like the copy. It heartbeats every second, also during one long CHECKSUM TABLE, so a
 * dead worker is noticed in 30 s; the retry stops both replicas again and restarts them at its end.
 */
const checksumOptions = (seconds: number): ActivityOptions => ({
  startToCloseTimeout: `${Math.ceil(seconds)} seconds`,
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 3,
  },
});

export async function provisionReplica(raw: ProvisionReplicaInput): Promise<ProvisionReplicaResult> {
  // 1. Validate the input (the scaffold: a BadInput failure names the field).
  return runbook(RUNBOOKS.provision, ProvisionReplicaInputSchema, raw, async (run, input) => {
    const { cluster, host } = input;
    // An upgrade window (workflows/window.ts), when this runbook takes one, is waited for here:
    // before anything is read or changed, and without the lock.
    run.enterPhase('preflight', `provision ${host}`);

    // 2. A host given in the input joins the worker's inventory, so every step below knows it.
    // Until the copy changes the target, a refusal or failure takes it out again.
    const added = input.newHost ? await addNewHost(run, input, input.newHost) : null;
    const target = { touched: false };
    try {
      const r = await provision(run, input, target);
      return added ? { ...r, inventory: added } : r;
    } catch (e) {
      if (added?.added && (!target.touched || failureType(e) === FailureType.Refused))
        await CancellationScope.nonCancellable(() =>
          run.step('remove host', host, () =>
            call(acts.removeInventoryHost, `remove ${host} from ${added.inventoryFile}`, { cluster, host }),
          ),
        );
      throw e;
    }
  });
}

async function addNewHost(
  run: Runbook,
  input: ProvisionReplicaRequest,
  entry: NonNullable<ProvisionReplicaRequest['newHost']>,
): Promise<AddInventoryHostResult> {
  const { cluster, host } = input;
  try {
    return await run.step(
      'add host',
      host,
      () =>
        call(acts.addInventoryHost, `add ${host} to the inventory`, {
          cluster,
          host: { name: host, ...entry },
        }),
      (r) => (r.added ? `added to ${r.inventoryFile}` : `already in ${r.inventoryFile}, as given`),
    );
  } catch (e) {
    if (failureType(e) === FailureType.Refused) throw refused(run.runbook, cluster, [failureMessage(e)]);
    throw e;
  }
}

async function provision(
  run: Runbook,
  input: ProvisionReplicaRequest,
  target: { touched: boolean },
): Promise<ProvisionReplicaResult> {
  const { cluster, host } = input;
  // 3. Inspect the cluster, the target and the donor, and refuse before anything changes.
  const spec = await run.step('load cluster spec', undefined, () =>
    call(acts.loadClusterSpec, `load the spec of ${cluster}`, { cluster }),
  );
  const unknown = unknownTarget(spec, host);
  if (unknown) throw refused(run.runbook, cluster, [unknown]);
  const gtid = gtidOps(spec.flavor);
  const [seen, targetFacts] = await Promise.all([
    run.step('discover', undefined, () =>
      call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
    ),
    run.step(
      'inspect target',
      host,
      () => call(acts.inspectProvisionTarget, `inspect ${host}`, { cluster, host }),
      (t) =>
        t.reachable
          ? `${t.version}, ${t.userSchemas.length ? `schemas ${t.userSchemas.join(', ')}` : 'no user schema'}, GTID ${t.gtidCurrentPos || 'empty'}, ${t.diskFreeBytes === null ? 'free disk unknown' : `${formatBytes(t.diskFreeBytes)} free`}${t.inProgressMarker ? `, unfinished ${t.inProgressMarker.method} copy from ${t.inProgressMarker.donor}` : ''}`
          : 'does not answer',
    ),
  ]);
  const found = findPrimary(spec, seen.topology);
  let observed = seen.topology;
  if ('primary' in found) {
    // Read after the replicas, so nothing the donor received from it looks errant.
    const now = await run.step('primary position', found.primary, () =>
      call(acts.gtidPosition, `read the GTID state of ${found.primary}`, { cluster, host: found.primary }),
    );
    observed = withLaterPosition(observed, found.primary, now.current, now.binlogState ?? now.current);
  }
  const request = {
    host,
    donor: input.donor,
    method: input.method,
    allowPrimaryDonor: input.allowPrimaryDonor,
    wipe: input.wipe,
  };
  const choice = chooseDonor(
    {
      cluster: spec,
      topology: observed,
      primary: 'primary' in found ? found.primary : undefined,
      target: host,
    },
    { requested: input.donor, allowPrimary: input.allowPrimaryDonor },
  );
  const donorFacts = choice.ok
    ? await run.step(
        'inspect donor',
        choice.donor,
        () => call(acts.inspectDonor, `inspect the donor ${choice.donor}`, { cluster, host: choice.donor }),
        (d) =>
          `${formatBytes(d.dataBytes)} in ${d.tables} tables (~${d.rowsEstimate} rows), ${d.version}${d.hasMariadbBackup ? ', backup tool installed' : ''}`,
      )
    : undefined;
  const preflight = preflightProvision({
    cluster: spec,
    topology: observed,
    request,
    target: targetFacts,
    donor: donorFacts,
    gtid,
  });
  if (!preflight.ok) throw refused(run.runbook, cluster, preflight.refusals);
  const { donor, method, methodReason } = preflight.decision;
  const warnings = [...preflight.decision.warnings];
  // Problems elsewhere in the cluster are not this run's: named now, left out of its final check.
  const elsewhere = preexistingProblems(observed, preflight.decision.primary, host);
  for (const p of elsewhere)
    warnings.push(`${p.name} was already unhealthy before the run (${p.problem}): not checked`);

  // 4. Copy. No lock: a copy may take hours, and an emergency recovery must never wait for it.
  // While it copies, the target replicates from no one and (its binlog reset, its replica position
  // set only at the end) has an empty GTID state, so a runbook that runs meanwhile takes it for
  // unprovisioned and leaves it alone (domain/provision/unprovisioned.ts).
  run.enterPhase(
    'copy',
    `${method} copy ${donor} → ${host} (${methodReason}). Bytes copied and the rate are the copy activity's heartbeat details, under Pending Activities: a workflow cannot read them.`,
  );
  let copy;
  target.touched = true;
  try {
    copy = await run.step(
      'copy',
      host,
      () =>
        call(
          acts.copyBackup,
          `${method} copy ${donor} → ${host}`,
          { cluster, donor, target: host, method, wipe: input.wipe },
          copyOptions(input.copyTimeoutSeconds),
        ),
      formatCopyResult,
    );
  } catch (e) {
    // The copy's own last look found a reason to refuse: nothing was changed on the target.
    if (failureType(e) === FailureType.Refused) throw refused(run.runbook, cluster, [failureMessage(e)]);
    throw e;
  }

  // 5. Start replication from the primary of NOW (it may have moved during the copy), under the
  // cluster lock so no successover moves it between the look and the start.
  run.enterPhase('start replication', `${host} from ${copy.gtidPosition}`);
  await lockWaiting(run, input);
  let primary: string;
  try {
    const now = await run.step('find primary', undefined, () =>
      call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
    );
    const current = findPrimary(spec, now.topology);
    if ('refusal' in current)
      throw ApplicationFailure.create({
        type: FailureType.NoPrimary,
        message: `${host} holds a complete copy at ${copy.gtidPosition}, but ${cluster} has no primary to replicate from: ${current.refusal}; then run provision-replica for ${host} again (the copy is made again)`,
        nonRetryable: true,
      });
    primary = current.primary;
    if (primary !== preflight.decision.primary)
      warnings.push(`the primary moved from ${preflight.decision.primary} to ${primary} during the copy`);
    const primaryGtid = now.topology.nodes.find((n) => n.name === primary)?.gtidExecuted ?? '';
    if (!gtid.contains(primaryGtid, copy.gtidPosition))
      throw ApplicationFailure.create({
        type: FailureType.Diverged,
        message: `the copy's position ${copy.gtidPosition} has transactions the primary ${primary} lacks (it is at ${primaryGtid || 'nothing'}, missing ${gtid.missing(primaryGtid, copy.gtidPosition)}): the donor ${donor} was ahead of the primary (a recovery lost them?); run provision-replica for ${host} again with another donor`,
        nonRetryable: true,
      });
    await run.step(
      'start replication',
      host,
      () =>
        call(acts.startReplica, `${host} replicates from ${primary}`, {
          cluster,
          host,
          source: primary,
          gtidPosition: copy.gtidPosition,
        }),
      (r) => `replicates from ${r.source} from ${copy.gtidPosition}`,
    );
  } finally {
    await releaseClusterLock(run);
  }

  // 6. Wait until it has caught up: a child run polls with a durable timer and continues as new
  // when its history is full (workflows/provisionCatchUp.ts), so hours of catch-up stay bounded.
  const catchUpId = `${workflowInfo().workflowId}/catch-up`;
  run.enterPhase(
    'catch-up',
    `${host} replicates from ${primary}; the lag and the polls are the current details of ${catchUpId}`,
  );
  const started = Date.now();
  await run.step(
    'catch up',
    host,
    async () => {
      const r = await waitInChild(provisionCatchUp, 'catch-up', {
        cluster,
        host,
        primary,
        maxLagSeconds: input.maxLagSeconds,
        deadlineIso: new Date(Date.now() + input.catchUpTimeoutSeconds * 1000).toISOString(),
        timeoutSeconds: input.catchUpTimeoutSeconds,
        pollMs: CATCH_UP_POLL_MS,
      });
      primary = r.primary;
      return r;
    },
    (r) => `${formatCatchUp(r.progress, r.primary)} after ${r.polls} poll(s)`,
  );
  const catchUpMs = Date.now() - started;

  // 7. Compare every table with another replica at one GTID position.
  let checksum: ProvisionChecksumReport;
  if (input.verify === 'none') {
    checksum = { reference: null, position: null, equal: null, tables: [], skipped: 'verify: none' };
  } else {
    run.enterPhase('verify data', `${host} against another replica at one GTID position`);
    const now = await run.step('discover', undefined, () =>
      call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
    );
    const reference = chooseChecksumReference({
      cluster: spec,
      topology: now.topology,
      primary,
      target: host,
      donor,
    });
    if (!reference) {
      const why = `no other healthy replica of ${primary} to compare ${host} with: its data was not verified`;
      warnings.push(why);
      checksum = { reference: null, position: null, equal: null, tables: [], skipped: why };
    } else {
      run.enterPhase(
        'verify data',
        `${host} against ${reference}: both stop at one GTID position, every table is checksummed`,
      );
      let c;
      try {
        c = await run.step(
          'checksum',
          host,
          () =>
            call(
              acts.checksumAtCommonPosition,
              `compare ${host} with ${reference}`,
              { cluster, host, reference },
              checksumOptions(input.copyTimeoutSeconds),
            ),
          (r) =>
            `${r.tables.length} tables ${r.equal ? 'equal' : 'DIFFER'} to ${reference}'s at ${r.position}`,
        );
      } catch (e) {
        // 7b. The checksum stopped both replicas; its own last step starts them again, but an
        // attempt whose worker died (the retries used up) never ran it: start them here.
        await restartAfterChecksum(run, cluster, host, reference);
        throw e;
      }
      checksum = { reference, position: c.position, equal: c.equal, tables: c.tables };
      if (!c.equal)
        throw ApplicationFailure.create({
          type: FailureType.ChecksumMismatch,
          message: `${host} replicates from ${primary}, but at ${c.position} its data differs from ${reference}'s: ${describeMismatches(c.tables, reference, host)}; do not use it: run provision-replica for ${host} again with wipe: true`,
          nonRetryable: true,
          details: [checksum],
        });
    }
  }

  // 8. Verify the invariants and return.
  run.enterPhase('verify');
  const last = await run.step('find primary', undefined, () =>
    call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
  );
  const finalPrimary = findPrimary(spec, last.topology);
  const after = await verifyInvariants(
    run,
    cluster,
    'primary' in finalPrimary ? finalPrimary.primary : primary,
    elsewhere.map((p) => p.name),
  );
  run.enterPhase(
    'done',
    `${host} replicates from ${primary}: ${formatCopyResult(copy)}${checksum.equal ? `; ${checksum.tables.length} tables equal to ${checksum.reference}'s` : ''}`,
  );
  return {
    ok: true,
    cluster,
    host,
    donor,
    primary,
    method: copy.method,
    methodReason,
    bytes: copy.bytes,
    rows: copy.rows,
    copyMs: copy.ms,
    mbPerSecond: mbPerSecond(copy.bytes, copy.ms),
    rowsPerSecond: rowsPerSecond(copy.rows, copy.ms),
    phases: copy.phases,
    gtidPosition: copy.gtidPosition,
    catchUpMs,
    checksum,
    warnings,
    timeline: run.timeline,
    topology: after.view,
  };
}

/**
 * Takes the cluster lock, waiting while another runbook holds it: after a copy of hours, a
 * planned successover under way is no reason to fail. Bounded by lockTimeoutSeconds.
 */
async function lockWaiting(run: Runbook, input: ProvisionReplicaRequest): Promise<void> {
  const { cluster } = input;
  const deadline = Date.now() + input.lockTimeoutSeconds * 1000;
  await run.step('lock', undefined, async () => {
    for (;;) {
      try {
        return await call(acts.acquireClusterLock, `lock cluster ${cluster}`, {
          cluster,
          runbook: RUNBOOKS.provision,
        });
      } catch (e) {
        if (failureType(e) !== FailureType.Refused) throw e;
        if (Date.now() >= deadline)
          throw ApplicationFailure.create({
            type: FailureType.LockTimeout,
            message: `${input.host} holds a complete copy, but the cluster lock stayed taken for ${input.lockTimeoutSeconds} s (${failureMessage(e)}): run provision-replica for ${input.host} again once it is free (the copy is made again)`,
            nonRetryable: true,
          });
        run.showDetails(
          `waiting for the cluster lock until ${new Date(deadline).toISOString()}: ${failureMessage(e)}`,
        );
        await sleep(LOCK_RETRY_MS);
      }
    }
  });
}

/**
 * Starts replication again on the checksum's two replicas, whatever happened to it (cancellation
 * included): the reference is a serving replica of the cluster, never to be left stopped. The
 * activity is idempotent; its own failure is recorded on the timeline and never hides the
 * checksum's, which the caller throws.
 */
async function restartAfterChecksum(
  run: Runbook,
  cluster: string,
  host: string,
  reference: string,
): Promise<void> {
  await CancellationScope.nonCancellable(() =>
    run
      .step(
        'restart replication',
        reference,
        () =>
          call(acts.restartChecksumReplicas, `start replication on ${reference} and ${host} again`, {
            cluster,
            host,
            reference,
          }),
        (r) => r.map((h) => `${h.host}: ${h.detail}`).join('; '),
      )
      .catch(() => undefined),
  );
}
