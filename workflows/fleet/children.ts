// One cluster of a fleet: its runbook as a child workflow under the ordinary workflow id, so the
// one-runbook-per-cluster rule holds against any other starter (a second start is refused).
//
// parentClosePolicy ABANDON, and started in a non-cancellable scope: whatever ends the fleet
// (terminated by hand, cancelled, a bug), a child is never terminated or cancelled with it. A
// planned child inside its critical section must finish or compensate on its own; killing it
// there would leave a read-only primary and no writer.
import { CancellationScope, ParentClosePolicy, startChild } from '@temporalio/workflow';
import {
  fillTemplate,
  type FleetItem,
  type FleetOutcome,
  type FleetRunbook,
  type PlannedTemplate,
  type UpgradeTemplate,
} from '../../domain/fleet/input';
import { RUNBOOKS, type BlueGreenUpgradeInput, type PlannedSuccessoverInput } from '../../domain/runbook';
import { runSearchAttributes, workflowIdFor } from '../api';
import { blueGreenUpgrade } from '../blueGreenUpgrade';
import { plannedSuccessover } from '../plannedSuccessover';
import { failedOutcome, plannedOutcome, upgradeOutcome } from './outcome';

/** What every child of one fleet shares. */
export interface ChildPlan {
  runbook: FleetRunbook;
  /** The fleet's workflow id, in each child's summary. */
  fleet: string;
  dryRun: boolean;
  window?: string;
  planned: PlannedTemplate;
  upgrade?: UpgradeTemplate;
  /** drain-host: the machine no target may be on (each child's preflight checks it again). */
  avoidMachine?: string;
}

export function plannedChildInput(plan: ChildPlan, item: FleetItem): PlannedSuccessoverInput {
  return {
    ...plan.planned,
    cluster: item.cluster,
    dryRun: plan.dryRun,
    ...(plan.window ? { window: plan.window } : {}),
    ...(item.candidates ? { candidates: item.candidates } : {}),
    ...(plan.avoidMachine ? { avoidMachine: plan.avoidMachine } : {}),
  };
}

export function upgradeChildInput(plan: ChildPlan, item: FleetItem): BlueGreenUpgradeInput {
  if (!plan.upgrade) throw new Error('an upgrade fleet without upgrade options'); // the schema refuses it first
  const { greenHost, donor, ...rest } = plan.upgrade;
  return {
    ...rest,
    cluster: item.cluster,
    greenHost: fillTemplate(greenHost, item.cluster),
    ...(donor ? { donor: fillTemplate(donor, item.cluster) } : {}),
    ...(plan.window ? { window: plan.window } : {}),
  };
}

/** Runs the cluster's child to its end; never throws: every end is an outcome. */
export function runChild(plan: ChildPlan, item: FleetItem): Promise<FleetOutcome> {
  const { cluster } = item;
  const common = {
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: `${plan.dryRun ? 'dry run: ' : ''}${plan.runbook} on ${cluster}, child of ${plan.fleet}`,
  };
  return CancellationScope.nonCancellable(async () => {
    try {
      if (plan.runbook === 'planned') {
        const child = await startChild(plannedSuccessover, {
          ...common,
          workflowId: workflowIdFor(RUNBOOKS.planned, cluster),
          typedSearchAttributes: runSearchAttributes(cluster, RUNBOOKS.planned),
          args: [plannedChildInput(plan, item)],
        });
        return plannedOutcome(await child.result());
      }
      const child = await startChild(blueGreenUpgrade, {
        ...common,
        workflowId: workflowIdFor(RUNBOOKS.upgrade, cluster),
        typedSearchAttributes: runSearchAttributes(cluster, RUNBOOKS.upgrade),
        args: [upgradeChildInput(plan, item)],
      });
      return upgradeOutcome(await child.result());
    } catch (e) {
      return failedOutcome(cluster, e);
    }
  });
}
