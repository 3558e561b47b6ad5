// `successover bench fleet`: a planned fleet over N lab clusters, each under its own writer
// (bench/fleet.ts), on the dev server and on the PostgreSQL-backed server.
import type { Command } from 'commander';
import type { FleetBenchResult, FleetServer } from '../../bench/fleet';

const int = (what: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${what}: expected an integer ≥ ${min}, got ${v}`);
  return n;
};

const servers = (v: string): FleetServer[] => {
  const list = v.split(',').map((s) => s.trim());
  const bad = list.filter((s) => s !== 'dev' && s !== 'postgres');
  if (bad.length || list.length === 0)
    throw new Error(`--servers ${v}: expected dev, postgres or dev,postgres`);
  return list as FleetServer[];
};

export function registerFleetBench(bench: Command): void {
  bench
    .command('fleet')
    .description(
      'a planned fleet over N lab clusters (2 hosts each), each under its own writer, with the worker in a ' +
        'process of its own: whole fleet time, per-cluster client gap against one cluster alone, lost ' +
        'writes, worker CPU and peak RSS, history events per child; on each server given',
    )
    .option('--clusters <n>', 'lab clusters', int('--clusters', 2), 20)
    .option('--concurrency <n>', 'children at once', int('--concurrency', 1), 5)
    .option('--servers <list>', 'dev, postgres or both, in that order', servers, ['dev', 'postgres'])
    .option(
      '--single-runs <n>',
      'planned successovers of one cluster alone first',
      int('--single-runs', 1),
      3,
    )
    .option('--write-interval <ms>', "each writer's interval between commits", int('--write-interval', 1), 10)
    .option('--json', 'print the result as JSON')
    .action(
      async (o: {
        clusters: number;
        concurrency: number;
        servers: FleetServer[];
        singleRuns: number;
        writeInterval: number;
        json?: boolean;
      }) => {
        const { runFleetBench } = require('../../bench/fleet') as typeof import('../../bench/fleet');
        const r = await runFleetBench({
          clusters: o.clusters,
          concurrency: o.concurrency,
          servers: o.servers,
          singleRuns: o.singleRuns,
          writeIntervalMs: o.writeInterval,
          log: (l) => console.error(l),
        });
        if (o.json) console.log(JSON.stringify(r, null, 2));
        else printFleet(r);
        process.exit(r.lostWrites === 0 && r.perServer.every((s) => s.ok) ? 0 : 1);
      },
    );
}

export function registerFootprintBench(bench: Command): void {
  bench
    .command('footprint')
    .description(
      "a worker's memory and connections per configured cluster: one worker per inventory size, " +
        'polling, then after a topology of every lab cluster in it (the rest are configured but idle)',
    )
    .option(
      '--clusters <list>',
      'inventory sizes',
      (v: string) => v.split(',').map(int('--clusters', 1)),
      [1, 20, 200],
    )
    .option(
      '--lab-clusters <n>',
      'real lab clusters (the first of each inventory)',
      int('--lab-clusters', 1),
      20,
    )
    .option('--json', 'print the samples as JSON')
    .action(async (o: { clusters: number[]; labClusters: number; json?: boolean }) => {
      const { runFootprintBench } =
        require('../../bench/footprint') as typeof import('../../bench/footprint');
      const r = await runFootprintBench({
        counts: o.clusters,
        labClusters: o.labClusters,
        log: (l) => console.error(l),
      });
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else
        for (const s of r)
          console.log(
            `${s.configured} clusters configured (${s.looked} looked at): RSS polling ${s.rssPollingMb} MB, after ${s.rssAfterMb} MB, peak ${s.peakRssMb} MB; connections SQL ${s.connections.sql}, SSH ${s.connections.ssh}, Temporal ${s.connections.temporal}`,
          );
    });
}

function printFleet(r: FleetBenchResult): void {
  console.log(
    `fleet bench: ${r.clusters} clusters at concurrency ${r.concurrency}, a write every ${r.writeIntervalMs} ms each; ` +
      `${r.ackedWrites} acknowledged, ${r.lostWrites} lost`,
  );
  for (const s of r.perServer) {
    if (!s.ok && s.error) {
      console.log(`  ${s.server}: FAILED: ${s.error}`);
      continue;
    }
    const f = s.fleet;
    console.log(
      `  ${s.server}: fleet ${f.ended} in ${f.wholeMs} ms (${JSON.stringify(f.counts)}); client gap p50 ${f.clientGapMs.p50} / p99 ${f.clientGapMs.p99} ms, ` +
        `alone p50 ${s.single.clientGapMs.p50} ms (×${f.gapRatioP50 ?? '?'}); blackout p50 ${f.blackoutMs.p50} ms; ` +
        `history events per child p50 ${f.historyEventsPerChild.p50}, fleet ${f.fleetHistoryEvents}; ` +
        `worker ${s.worker.cpuSeconds} CPU s, peak RSS ${s.worker.peakRssMb} MB`,
    );
  }
}
