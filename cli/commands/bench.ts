// `successover bench planned|emergency`: the benchmarks, each on a lab of its own.
import type { Command } from 'commander';
import { runEmergencyBench, type EmergencyBenchResult, type EmergencyTrigger } from '../../bench/emergency';
import { runPlannedBench, type PlannedBenchResult } from '../../bench/planned';
import { runProvisionBench, type ProvisionBenchResult } from '../../bench/provision';
import { PROVISION_METHODS, type ProvisionMethod } from '../../domain/provision/method';
import { registerFleetBench, registerFootprintBench } from './benchFleet';

const positiveInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: expected a positive integer, got ${v}`);
  return n;
};
const nonNegativeInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: expected 0 or a positive integer, got ${v}`);
  return n;
};
const FLOOR_RUNS_HELP =
  'runs of the direct-script floor (a DBA script doing the same switch) after the project runs, on the same lab under the same writer; default: --runs, 0 for none';
const ratioText = (x: number | null) => (x === null ? '?' : `${x}×`);

interface PlannedOptions {
  runs: number;
  hosts: number;
  masterMaster?: boolean;
  floorRuns?: number;
  json?: boolean;
  keepLab?: boolean;
}

function printSummary(r: PlannedBenchResult): void {
  const f = (s: { p50: number; p95: number; max: number }) =>
    `p50 ${s.p50} ms, p95 ${s.p95} ms, max ${s.max} ms`;
  console.log(
    `planned successover bench${r.masterMaster ? ' (master-master pair)' : ''}: ${r.runs} runs (${r.failedRuns} failed)`,
  );
  console.log(`  write blackout (workflow):  ${f(r.blackoutMs)}`);
  console.log(`  client gap (longest between two acknowledged writes): ${f(r.clientGapMs)}`);
  if (r.floor)
    console.log(
      `  direct-script floor, ${r.floor.runs} runs (${r.floor.failedRuns} failed): blackout ${f(r.floor.blackoutMs)}; client gap ${f(r.floor.clientGapMs)}\n` +
        `  ratio project / floor: client gap p50 ${ratioText(r.ratio?.clientGapP50 ?? null)}, blackout p50 ${ratioText(r.ratio?.blackoutP50 ?? null)}`,
    );
  console.log(
    `  acknowledged writes: ${r.ackedWrites}, lost: ${r.lostWrites}${r.floor ? ` (of which during the floor's runs: ${r.floor.lostWrites ?? '?'})` : ''} (checked on ${r.finalPrimary ?? '?'})`,
  );
  for (const p of r.perRun)
    console.log(
      `  #${String(p.run).padStart(2)} ${p.from}→${p.to} ` +
        (p.ok
          ? `blackout ${String(p.blackoutMs).padStart(4)} ms, gap ${String(p.clientGapMs).padStart(4)} ms` +
            (p.gap ? ` [${p.gap.fromMs}..${p.gap.toMs} ms after read-only]` : '') +
            `, activity start ${p.criticalStartMs ?? '?'} ms, steps ${Object.entries(p.steps)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`
          : `FAILED: ${p.error}`),
    );
  for (const p of r.floor?.perRun ?? [])
    console.log(
      `  floor #${String(p.run).padStart(2)} ${p.from}→${p.to} ` +
        (p.ok
          ? `blackout ${String(p.blackoutMs).padStart(4)} ms, gap ${String(p.clientGapMs).padStart(4)} ms, steps ${Object.entries(
              p.steps,
            )
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`
          : `FAILED: ${p.error}`),
    );
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks on a lab of their own (needs root: netns)');
  registerProvisionBench(bench);
  registerFleetBench(bench);
  registerFootprintBench(bench);
  bench
    .command('planned')
    .description(
      'alternate planned successovers db1 → db2 → db1 … under a writer committing every 2 ms through the VIP; ' +
        'report the blackout, the longest client gap and lost acknowledged writes',
    )
    .option('--runs <n>', 'number of successovers', positiveInt('--runs'), 20)
    .option('--hosts <n>', 'lab hosts', positiveInt('--hosts'), 3)
    .option('--master-master', 'on a master-master pair (2 hosts, replication kept both ways)')
    .option('--floor-runs <n>', FLOOR_RUNS_HELP, nonNegativeInt('--floor-runs'))
    .option(
      '--json',
      'print {runs, blackoutMs, clientGapMs, ackedWrites, lostWrites, perRun, floor, ratio} as JSON',
    )
    .option('--keep-lab', 'leave the bench lab up at the end (its directory is printed)')
    .action(async (o: PlannedOptions) => {
      const r = await runPlannedBench({
        runs: o.runs,
        hosts: o.hosts,
        masterMaster: o.masterMaster,
        floorRuns: o.floorRuns,
        keepLab: o.keepLab,
        log: (l) => console.error(l),
      });
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else printSummary(r);
      // Non-zero when the bench proves something wrong, so CI can run it.
      process.exit(r.failedRuns > 0 || r.lostWrites > 0 ? 1 : 0);
    });
  bench
    .command('emergency')
    .description(
      'kill -9 the primary under a writer committing every 2 ms through the VIP, let emergency recovery ' +
        'promote a replica, bring the old primary back as a replica, repeat; report recovery time and lost acknowledged writes',
    )
    .option('--runs <n>', 'number of recoveries', positiveInt('--runs'), 10)
    .option('--hosts <n>', 'lab hosts', positiveInt('--hosts'), 3)
    .option(
      '--trigger <how>',
      'direct (the CLI path) | detector | webhook (an Alertmanager alert posted to the receiver) | alertmanager (the real chain: exporter, Prometheus, Alertmanager)',
      'direct',
    )
    .option('--no-semi-sync', 'asynchronous replication (reports what is lost without semi-sync)')
    .option(
      '--replicas-behind',
      "stop the replicas' IO threads for a second before each kill: writes only the primary's binary log holds",
    )
    .option('--no-salvage', "policy.salvageSeconds 0: the dead primary's binary log is not salvaged")
    .option('--floor-runs <n>', FLOOR_RUNS_HELP, nonNegativeInt('--floor-runs'))
    .option('--json', 'print {runs, recoveryMs, detectionMs, lostAckedWrites, perRun, floor, ratio} as JSON')
    .option('--keep-lab', 'leave the bench lab up at the end (its directory is printed)')
    .action(async (o: EmergencyOptions) => {
      const r = await runEmergencyBench({
        runs: o.runs,
        hosts: o.hosts,
        trigger: o.trigger,
        semiSync: o.semiSync,
        replicasBehind: o.replicasBehind,
        salvage: o.salvage,
        floorRuns: o.floorRuns,
        keepLab: o.keepLab,
        log: (l) => console.error(l),
      });
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else printEmergency(r);
      // Lost writes fail the bench where nothing acknowledged may be lost: semi-sync, or salvage
      // on with the primary's host up.
      const mustKeep = r.semiSync || r.salvage;
      process.exit(r.failedRuns > 0 || (mustKeep && (r.lostAckedWrites ?? 0) > 0) ? 1 : 0);
    });
}

interface EmergencyOptions {
  runs: number;
  hosts: number;
  trigger: EmergencyTrigger;
  semiSync: boolean;
  replicasBehind?: boolean;
  salvage: boolean;
  floorRuns?: number;
  json?: boolean;
  keepLab?: boolean;
}

function printEmergency(r: EmergencyBenchResult): void {
  console.log(
    `emergency recovery bench (${r.trigger}, ${r.semiSync ? 'semi-sync' : 'async'}${r.replicasBehind ? ', replicas behind' : ''}, salvage ${r.salvage ? 'on' : 'off'}): ${r.runs} runs (${r.failedRuns} failed)`,
  );
  console.log(
    `  salvaged: ${r.salvagedTransactions} transactions; salvage step p50 ${r.salvageMs.p50} ms, max ${r.salvageMs.max} ms`,
  );
  console.log(
    `  recovery (trigger → first acknowledged write): p50 ${r.recoveryMs.p50} ms, max ${r.recoveryMs.max} ms`,
  );
  console.log(
    `  detection (kill → recovery started): p50 ${r.detectionMs.p50} ms, max ${r.detectionMs.max} ms`,
  );
  console.log(
    `  acknowledged writes: ${r.ackedWrites}, lost: ${r.lostAckedWrites ?? 'not counted (no single primary)'} (checked on ${r.finalPrimary ?? '?'})`,
  );
  if (r.killToAlertMs && r.killToFirstAckMs)
    console.log(
      `  kill → alert p50 ${r.killToAlertMs.p50} ms${r.killToFiringMs ? ` (rule fired p50 ${r.killToFiringMs.p50} ms)` : ''}; kill → first acknowledged write p50 ${r.killToFirstAckMs.p50} ms, max ${r.killToFirstAckMs.max} ms`,
    );
  if (r.floor)
    console.log(
      `  direct-script floor, ${r.floor.runs} runs (${r.floor.failedRuns} failed, no salvage): kill → first acknowledged write p50 ${r.floor.killToFirstAckMs.p50} ms, max ${r.floor.killToFirstAckMs.max} ms; detection p50 ${r.floor.detectionMs.p50} ms; lost ${r.floor.lostWrites ?? 'not counted'}\n` +
        `  ratio project / floor: kill → first acknowledged write p50 ${ratioText(r.ratio?.killToFirstAckP50 ?? null)} (project p50 ${r.killToFirstAckMs.p50} ms)`,
    );
  for (const p of r.perRun)
    console.log(
      `  #${String(p.run).padStart(2)} killed ${p.killed} → ${p.promoted ?? '?'} ` +
        (p.ok
          ? `recovery ${p.recoveryMs} ms (workflow ${p.workflowRecoveryMs} ms), detection ${p.detectionMs} ms`
          : `FAILED: ${p.error}`),
    );
  for (const p of r.floor?.perRun ?? [])
    console.log(
      `  floor #${String(p.run).padStart(2)} killed ${p.killed} → ${p.promoted ?? '?'} ` +
        (p.ok
          ? `kill → first ack ${p.killToFirstAckMs} ms (script ${p.scriptMs} ms), detection ${p.detectionMs} ms${p.relayWaitTimedOut ? ', relay-log wait ran out' : ''}, steps ${Object.entries(
              p.steps,
            )
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`
          : `FAILED: ${p.error}`),
    );
}

function registerProvisionBench(bench: Command): void {
  bench
    .command('provision')
    .description(
      'generate a data set through the primary, then provision one empty host per method with the ' +
        'provisionReplica workflow under write load; report MB/s, rows/s and the time of each phase',
    )
    .option('--size-mb <n>', 'data set size in MB', positiveInt('--size-mb'), 1024)
    .option('--tables <n>', 'tables in the data set', positiveInt('--tables'))
    .option('--method <m>', 'logical, physical or both', 'both')
    .option('--json', 'print {data, ackedWrites, samples} as JSON')
    .option('--keep-lab', 'leave the bench lab up at the end (its directory is printed)')
    .action(
      async (o: { sizeMb: number; tables?: number; method: string; json?: boolean; keepLab?: boolean }) => {
        const methods: ProvisionMethod[] =
          o.method === 'both' ? [...PROVISION_METHODS] : [o.method as ProvisionMethod];
        if (!methods.every((m) => PROVISION_METHODS.includes(m)))
          throw new Error(`--method ${o.method}: expected logical, physical or both`);
        const r = await runProvisionBench({
          sizeMb: o.sizeMb,
          tables: o.tables,
          methods,
          keepLab: o.keepLab,
          log: (l) => console.error(l),
        });
        if (o.json) console.log(JSON.stringify(r, null, 2));
        else printProvision(r);
        process.exit(r.samples.every((s) => s.ok && s.checksumsEqual !== false) ? 0 : 1);
      },
    );
}

function printProvision(r: ProvisionBenchResult): void {
  console.log(
    `provisioning bench: ${r.data.rows} rows, ${Math.round(r.data.bytes / 2 ** 20)} MB in ${r.data.tables.length} tables`,
  );
  for (const s of r.samples)
    console.log(
      s.ok
        ? `  ${s.method.padEnd(8)} ${s.host} from ${s.donor}: ${s.mbPerSecond} MB/s, ${s.rowsPerSecond ?? '-'} rows/s; copy ${s.copyMs} ms, catch-up ${s.catchUpMs} ms, total ${s.totalMs} ms; checksums ${s.checksumsEqual ? 'equal' : 'DIFFER'} (${s.tablesChecked} tables)\n` +
            `           phases: ${s.phases.map((p) => `${p.name} ${p.ms}`).join(', ')}`
        : `  ${s.method.padEnd(8)} ${s.host} FAILED: ${s.error}`,
    );
}
