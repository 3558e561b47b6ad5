// `successover run planned|provision`: start a runbook, wait, print the timeline (or JSON).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatCopyResult } from '../../domain/provision/progress';
import type {
  PlannedSuccessoverResult,
  ProvisionReplicaResult,
  RejoinResult,
  TimelineStep,
} from '../../domain/runbook';
import {
  parseInput,
  PlannedSuccessoverInputSchema,
  ProvisionReplicaInputSchema,
  RejoinInputSchema,
  RUNBOOKS,
} from '../../domain/runbook';
import { provisionWorkflowId } from '../../workflows/api';
import { plannedSuccessover } from '../../workflows/plannedSuccessover';
import { provisionReplica } from '../../workflows/provisionReplica';
import { rejoin } from '../../workflows/rejoin';
import { runAndPrint } from '../runbooks';

interface PlannedOptions {
  cluster: string;
  target?: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
  maxLag?: string;
  waitTimeout?: string;
  taskQueue?: string;
}

export function registerRun(program: Command): void {
  const run = program.command('run').description('run a runbook on a cluster and wait for it');
  run
    .command('planned')
    .description('planned successover: move the primary role to a replica with a sub-second write blackout')
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .option('--target <host>', 'replica to promote (default: the best-ranked candidate)')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--force', 'override the lag and long-transaction checks (never errant GTIDs or two writers)')
    .option('--max-lag <seconds>', 'refuse when the target lags more than this')
    .option('--wait-timeout <seconds>', 'bound on waiting for the target to apply the primary position')
    .option('--task-queue <name>', 'task queue of the workers')
    .option('--json', 'print {ok, workflowId, runId, blackoutMs, timeline, topology}')
    .action(async (o: PlannedOptions) => {
      const input = parseInput(PlannedSuccessoverInputSchema, RUNBOOKS.planned, {
        cluster: o.cluster,
        ...(o.target ? { target: o.target } : {}),
        ...(o.dryRun ? { dryRun: true } : {}),
        ...(o.force ? { force: true } : {}),
        ...(o.maxLag !== undefined ? { maxLagSeconds: Number(o.maxLag) } : {}),
        ...(o.waitTimeout !== undefined ? { waitTimeoutSeconds: Number(o.waitTimeout) } : {}),
      });
      await runAndPrint<PlannedSuccessoverResult>(
        {
          runbook: RUNBOOKS.planned,
          workflow: plannedSuccessover,
          cluster: o.cluster,
          input,
          summary: `${o.dryRun ? 'dry run: ' : ''}planned successover ${o.target ? `→ ${o.target} ` : ''}on ${o.cluster}`,
          taskQueue: o.taskQueue,
        },
        { json: o.json, failed: `planned successover on ${o.cluster} failed`, human: printPlanned },
      );
    });
  registerProvision(run);
  registerRejoin(run);
}

interface RejoinOptions {
  cluster: string;
  host: string;
  pair?: boolean;
  waitTimeout?: string;
  taskQueue?: string;
  json?: boolean;
}

function registerRejoin(run: Command): void {
  run
    .command('rejoin')
    .description(
      'take a fenced old primary back as a replica (and as the standby of its master-master pair); refused, with the GTIDs, when it holds what the primary lacks',
    )
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .requiredOption('--host <name>', 'the node to take back')
    .option('--pair', 'make it the standby of a master-master pair (default: read from its configuration)')
    .option('--no-pair', 'only a replica, even if it was one side of a pair')
    .option('--wait-timeout <seconds>', 'bound on the wait for it to apply the primary position (pair)')
    .option('--task-queue <name>', 'task queue of the workers')
    .option('--json', 'print the result as JSON')
    .action(async (o: RejoinOptions) => {
      const input = parseInput(RejoinInputSchema, RUNBOOKS.rejoin, {
        cluster: o.cluster,
        host: o.host,
        ...(o.pair !== undefined ? { pair: o.pair } : {}),
        ...(o.waitTimeout !== undefined ? { waitTimeoutSeconds: Number(o.waitTimeout) } : {}),
      });
      await runAndPrint<RejoinResult>(
        {
          runbook: RUNBOOKS.rejoin,
          workflow: rejoin,
          cluster: o.cluster,
          input,
          summary: `rejoin ${o.host} on ${o.cluster}`,
          taskQueue: o.taskQueue,
        },
        {
          json: o.json,
          failed: `rejoining ${o.host} on ${o.cluster} failed`,
          human: (r) => {
            console.log(
              `${r.host} rejoined ${r.primary} on ${r.cluster}${r.pair ? ' as its master-master standby' : ' as a replica'} (${r.pairReason}); ${r.lost}`,
            );
            printTimeline(r.timeline);
            for (const w of r.warnings) console.log(`  warning: ${w}`);
          },
        },
      );
    });
}

interface ProvisionOptions {
  cluster: string;
  host: string;
  donor?: string;
  method?: string;
  wipe?: boolean;
  allowPrimaryDonor?: boolean;
  verify?: string;
  maxLag?: string;
  catchUpTimeout?: string;
  copyTimeout?: string;
  newHost?: string;
  taskQueue?: string;
  json?: boolean;
}

/**
 * `--new-host FILE`: the host's inventory entry in YAML, as it would go under the cluster's hosts
 * (its name optional, and then --host's). Read here; the run checks it against the cluster.
 */
function readNewHost(file: string, host: string): Record<string, unknown> {
  let doc: unknown;
  try {
    // yaml is loaded only here: `run planned` does not pay for it.
    doc = (require('yaml') as typeof import('yaml')).parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--new-host ${file}: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new Error(
      `--new-host ${file}: expected one host entry (address, port, ssh: {hostKey}, service), as under the cluster's hosts in the inventory`,
    );
  const { name, ...entry } = doc as Record<string, unknown>;
  if (name !== undefined && name !== host)
    throw new Error(
      `--new-host ${file} names the host ${String(name)}, but --host is ${host}: make them equal`,
    );
  return entry;
}

function registerProvision(run: Command): void {
  run
    .command('provision')
    .description('provision a replica: copy a backup from a donor to an empty host, replicate, verify')
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .requiredOption(
      '--host <name>',
      'the host to provision (in the inventory, or given with --new-host; its server empty)',
    )
    .option('--donor <host>', 'server to copy from (default: the healthy replica lagging least)')
    .option('--method <logical|physical>', 'copy method (default: by data size, physical from 1 GiB)')
    .option('--wipe', 'drop what the host holds instead of refusing')
    .option('--allow-primary-donor', 'the primary may be the donor')
    .option('--verify <checksum|none>', 'compare every table with another replica (default checksum)')
    .option('--max-lag <seconds>', 'lag at which the new replica counts as caught up (default 1)')
    .option('--catch-up-timeout <seconds>', 'bound on the wait for the catch-up')
    .option('--copy-timeout <seconds>', 'bound on one attempt of the copy')
    .option(
      '--new-host <file>',
      'a host not in the inventory yet: its entry in YAML (address, port, ssh.hostKey, service); the worker adds it to its inventory file',
    )
    .option('--task-queue <name>', 'task queue of the workers')
    .option('--json', 'print the result as JSON')
    .action(async (o: ProvisionOptions) => {
      const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      const input = parseInput(ProvisionReplicaInputSchema, RUNBOOKS.provision, {
        cluster: o.cluster,
        host: o.host,
        ...(o.donor ? { donor: o.donor } : {}),
        ...(o.method ? { method: o.method } : {}),
        ...(o.wipe ? { wipe: true } : {}),
        ...(o.allowPrimaryDonor ? { allowPrimaryDonor: true } : {}),
        ...(o.verify ? { verify: o.verify } : {}),
        ...(o.maxLag !== undefined ? { maxLagSeconds: number(o.maxLag) } : {}),
        ...(o.catchUpTimeout !== undefined ? { catchUpTimeoutSeconds: number(o.catchUpTimeout) } : {}),
        ...(o.copyTimeout !== undefined ? { copyTimeoutSeconds: number(o.copyTimeout) } : {}),
        ...(o.newHost ? { newHost: readNewHost(o.newHost, o.host) } : {}),
      });
      await runAndPrint<ProvisionReplicaResult>(
        {
          runbook: RUNBOOKS.provision,
          workflow: provisionReplica,
          cluster: o.cluster,
          workflowId: provisionWorkflowId(o.cluster, o.host),
          input,
          summary: `provision ${o.host} on ${o.cluster}${o.donor ? ` from ${o.donor}` : ''}${o.method ? ` (${o.method})` : ''}`,
          taskQueue: o.taskQueue,
        },
        {
          json: o.json,
          hint: "the copy's progress is under Pending Activities there",
          failed: `provisioning ${o.host} on ${o.cluster} failed`,
          human: printProvision,
        },
      );
    });
}

function printProvision(r: ProvisionReplicaResult): void {
  console.log(
    `${r.host} provisioned from ${r.donor} (${r.methodReason}); replicates from ${r.primary} from ${r.gtidPosition}`,
  );
  console.log(
    `  ${formatCopyResult({ method: r.method, bytes: r.bytes, rows: r.rows, ms: r.copyMs, phases: r.phases })}`,
  );
  console.log(`  caught up ${r.catchUpMs} ms after replication started`);
  const c = r.checksum;
  console.log(
    c.skipped
      ? `  data not compared: ${c.skipped}`
      : `  ${c.tables.length} tables ${c.equal ? 'equal' : 'DIFFER'} to ${c.reference}'s at ${c.position}`,
  );
  if (r.inventory)
    console.log(
      `  ${r.host} ${r.inventory.added ? 'was added to' : 'was already in'} the worker's inventory ${r.inventory.inventoryFile}`,
    );
  printTimeline(r.timeline);
  for (const w of r.warnings) console.log(`  warning: ${w}`);
}

function printPlanned(r: PlannedSuccessoverResult): void {
  if (r.dryRun) {
    console.log(`dry run: ${r.primary} → ${r.target} on ${r.cluster}; nothing was changed. Plan:`);
    for (const c of r.plan) console.log(`  [${c.step}] ${c.on}: ${c.command}`);
  } else {
    console.log(`${r.primary} → ${r.target} on ${r.cluster}: write blackout ${r.blackoutMs} ms`);
    printTimeline(r.timeline);
  }
  for (const w of [...r.warnings, ...r.forced.map((f) => `forced: ${f}`)]) console.log(`  warning: ${w}`);
}

export function printTimeline(steps: TimelineStep[]): void {
  for (const s of steps)
    console.log(
      `  ${s.start.slice(11, 23)} ${String(s.ms ?? '').padStart(6)} ms  ${s.status.padEnd(8)} ${s.step}${s.host ? ` (${s.host})` : ''}${s.detail ? `: ${s.detail}` : ''}`,
    );
}
