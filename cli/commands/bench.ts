// `successover bench planned`: the planned-successover benchmark on a lab of its own.
import type { Command } from 'commander';
import { runPlannedBench, type PlannedBenchResult } from '../../bench/planned';

const positiveInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: expected a positive integer, got ${v}`);
  return n;
};

interface PlannedOptions {
  runs: number;
  hosts: number;
  json?: boolean;
  keepLab?: boolean;
}

function printSummary(r: PlannedBenchResult): void {
  const f = (s: { p50: number; p95: number; max: number }) =>
    `p50 ${s.p50} ms, p95 ${s.p95} ms, max ${s.max} ms`;
  console.log(`planned successover bench: ${r.runs} runs (${r.failedRuns} failed)`);
  console.log(`  write blackout (workflow):  ${f(r.blackoutMs)}`);
  console.log(`  client gap (longest between two acknowledged writes): ${f(r.clientGapMs)}`);
  console.log(
    `  acknowledged writes: ${r.ackedWrites}, lost: ${r.lostWrites} (checked on ${r.finalPrimary ?? '?'})`,
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
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks on a lab of their own (needs root: netns)');
  bench
    .command('planned')
    .description(
      'alternate planned successovers db1 → db2 → db1 … under a writer committing every 2 ms through the VIP; ' +
        'report the blackout, the longest client gap and lost acknowledged writes',
    )
    .option('--runs <n>', 'number of successovers', positiveInt('--runs'), 20)
    .option('--hosts <n>', 'lab hosts', positiveInt('--hosts'), 3)
    .option('--json', 'print {runs, blackoutMs, clientGapMs, ackedWrites, lostWrites, perRun} as JSON')
    .option('--keep-lab', 'leave the bench lab up at the end (its directory is printed)')
    .action(async (o: PlannedOptions) => {
      const r = await runPlannedBench({
        runs: o.runs,
        hosts: o.hosts,
        keepLab: o.keepLab,
        log: (l) => console.error(l),
      });
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else printSummary(r);
      // Non-zero when the bench proves something wrong, so CI can run it.
      process.exit(r.failedRuns > 0 || r.lostWrites > 0 ? 1 : 0);
    });
}
