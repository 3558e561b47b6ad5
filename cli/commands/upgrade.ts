// `successover run upgrade` starts a blue/green upgrade and waits for it; `successover upgrade
// approve|abort|rollback|finalize` answer a running one.
import type { Command } from 'commander';
import {
  BlueGreenUpgradeInputSchema,
  parseInput,
  RUNBOOKS,
  type BlueGreenUpgradeResult,
} from '../../domain/runbook';
import { connectClient } from '../../temporal/connection';
import {
  abortUpdate,
  approveUpdate,
  finalizeSignal,
  rollbackSignal,
  workflowIdFor,
} from '../../workflows/api';
import { blueGreenUpgrade } from '../../workflows/blueGreenUpgrade';
import { failureReason, runAndPrint } from '../runbooks';
import { printTimeline } from './run';

interface UpgradeOptions {
  cluster: string;
  green: string;
  targetVersion?: string;
  soak?: string;
  rollbackWindow?: string;
  window?: string;
  approval?: boolean;
  donor?: string;
  method?: string;
  wipe?: boolean;
  taskQueue?: string;
  json?: boolean;
}

const seconds = (v: string | undefined) => (v === undefined ? undefined : Number(v));

export function registerUpgrade(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run');
  run
    .command('upgrade')
    .description(
      'blue/green upgrade: provision green, soak it, cut over in the window, keep a rollback window',
    )
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .requiredOption('--green <host>', 'the host that becomes the new primary (provisioned when empty)')
    .option('--target-version <version>', 'the version green must run, e.g. 11.4')
    .option('--soak <seconds>', 'how long green replicates under watch before the cutover (default 3600)')
    .option('--rollback-window <seconds>', 'how long blue stays ready for a rollback (default 86400)')
    .option('--window <spec>', 'cut over only inside this window, e.g. "Sun 02:00-04:00 UTC"')
    .option('--approval', 'wait for `upgrade approve` before the cutover')
    .option('--donor <host>', 'provisioning donor (default: the healthy replica lagging least)')
    .option('--method <logical|physical>', 'provisioning method (default by data size)')
    .option('--wipe', "drop what green's server holds before provisioning it")
    .option('--task-queue <name>', 'task queue of the workers')
    .option('--json', 'print the result as JSON')
    .action(async (o: UpgradeOptions) => {
      const input = parseInput(BlueGreenUpgradeInputSchema, RUNBOOKS.upgrade, {
        cluster: o.cluster,
        greenHost: o.green,
        ...(o.targetVersion ? { targetVersion: o.targetVersion } : {}),
        ...(o.soak !== undefined ? { soakSeconds: seconds(o.soak) } : {}),
        ...(o.rollbackWindow !== undefined ? { rollbackWindowSeconds: seconds(o.rollbackWindow) } : {}),
        ...(o.window ? { window: o.window } : {}),
        ...(o.approval ? { requireApproval: true } : {}),
        ...(o.donor ? { donor: o.donor } : {}),
        ...(o.method ? { method: o.method } : {}),
        ...(o.wipe ? { wipe: true } : {}),
      });
      await runAndPrint<BlueGreenUpgradeResult>(
        {
          runbook: RUNBOOKS.upgrade,
          workflow: blueGreenUpgrade,
          cluster: o.cluster,
          input,
          summary: `blue/green upgrade of ${o.cluster} to ${o.green}${o.targetVersion ? ` (${o.targetVersion})` : ''}`,
          taskQueue: o.taskQueue,
        },
        {
          json: o.json,
          hint: `during the rollback window: successover upgrade rollback|finalize --cluster ${o.cluster}`,
          failed: `blue/green upgrade of ${o.cluster} failed`,
          human: printUpgrade,
        },
      );
    });

  const upgrade = program.command('upgrade').description('answer a running blue/green upgrade');
  const answers = [
    ['approve', 'cut over now (the run waits for approval)'],
    ['abort', 'do not cut over; green stays a replica'],
    ['rollback', 'during the rollback window: planned successover back to blue'],
    ['finalize', 'during the rollback window: keep green, end the run'],
  ] as const;
  for (const [name, what] of answers)
    upgrade
      .command(name)
      .description(what)
      .requiredOption('--cluster <name>', 'cluster whose blue/green upgrade is running')
      .option('--by <name>', 'who decides (recorded in the run; default: $USER)')
      .option('--comment <text>', 'why (recorded in the run)')
      .action(async (o: { cluster: string; by?: string; comment?: string }) => {
        const by = o.by ?? process.env.USER;
        const request = { ...(by ? { by } : {}), ...(o.comment ? { comment: o.comment } : {}) };
        const client = await connectClient();
        try {
          const workflowId = workflowIdFor(RUNBOOKS.upgrade, o.cluster);
          const handle = client.workflow.getHandle(workflowId);
          const status = await handle.describe().then(
            (d) => d.status.name,
            () => 'NOT_FOUND',
          );
          if (status !== 'RUNNING')
            throw new Error(`no blue/green upgrade of ${o.cluster} is running (${workflowId}: ${status})`);
          if (name === 'approve' || name === 'abort')
            console.log(
              `${workflowId}: ${await handle.executeUpdate(name === 'approve' ? approveUpdate : abortUpdate, { args: [request] })}`,
            );
          else {
            await handle.signal(name === 'rollback' ? rollbackSignal : finalizeSignal, request);
            console.log(`${workflowId}: ${name} sent (the run's timeline and warnings say what it did)`);
          }
        } catch (e) {
          console.error(`upgrade ${name} on ${o.cluster} refused: ${failureReason(e).message}`);
          process.exitCode = 1;
        } finally {
          await client.connection.close();
        }
      });
}

function printUpgrade(r: BlueGreenUpgradeResult): void {
  console.log(
    `blue/green upgrade of ${r.cluster}: ${r.blue} (${r.blueVersion ?? '?'}) → ${r.green} (${r.greenVersion ?? '?'}): ${r.outcome}; primary now ${r.primary}`,
  );
  console.log(
    `  cutover blackout ${r.cutover.blackoutMs} ms${r.rollback ? `, rollback ${r.rollback.blackoutMs} ms` : ''}`,
  );
  for (const f of r.findings) console.log(`  ${f.severity}: ${f.check} ${f.subject}: ${f.message}`);
  if (r.decommission.length) console.log(`  decommission: ${r.decommission.join(', ')}`);
  printTimeline(r.timeline);
  for (const w of r.warnings) console.log(`  warning: ${w}`);
}
