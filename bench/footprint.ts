// What a worker costs per configured cluster (issue 19): one worker process per inventory size,
// its memory once polling and after a look at every reachable cluster (`topology`, which opens
// the SQL pools and the SSH connections that cluster's runbooks use), and the connections it then
// holds. The first clusters are a real lab fleet; beyond it, clusters are configured on addresses of
// the benchmarking range 198.18.0.0/15 that nothing answers and nothing contacts (no runbook or
// detector runs on them): they cost what a configured, idle cluster costs.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { labDown, labUp } from '../lab/index';
import { freePort, startDevServer, stopDevServer } from '../temporal/devserver';
import { topologyWorkflowId } from '../workflows/api';
import { topology } from '../workflows/topology';
import { freeSubnet } from './harness';
import { memoryMb, startWorkerProcess } from './workerProcess';

export interface FootprintOptions {
  /** Configured clusters per measurement, e.g. [1, 20, 200]. */
  counts: number[];
  /** Real lab clusters (the first ones of each inventory). */
  labClusters: number;
  log?: (line: string) => void;
}

export interface FootprintSample {
  configured: number;
  /** Of them, real lab clusters looked at once each. */
  looked: number;
  rssPollingMb: number;
  rssAfterMb: number;
  peakRssMb: number;
  /** Established TCP connections of the worker after the looks, by what they reach. */
  connections: { sql: number; ssh: number; temporal: number; other: number };
}

const run = promisify(execFile);

export async function runFootprintBench(o: FootprintOptions): Promise<FootprintSample[]> {
  const log = o.log ?? (() => undefined);
  const labDir = mkdtempSync(join(tmpdir(), 'sofoot-'));
  const work = mkdtempSync(join(tmpdir(), 'sofoot-work-'));
  try {
    const t0 = Date.now();
    const [info, server] = await Promise.all([
      labUp({
        clusters: o.labClusters,
        hosts: 2,
        mode: 'netns',
        prefix: `sfp${randomBytes(2).toString('hex')}`,
        subnet: await freeSubnet(),
        dir: labDir,
      }),
      startDevServer({ dataDir: work, port: await freePort(), headless: true, tiedToProcess: true }),
    ]);
    log(`lab of ${o.labClusters} clusters and dev server up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const base = parse(readFileSync(info.inventory, 'utf8')) as { clusters: Record<string, unknown>[] };
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const temporalPort = Number(server.address.split(':').pop());
    const samples: FootprintSample[] = [];
    try {
      for (const n of o.counts) {
        const clusters = Array.from({ length: n }, (_, i) =>
          i < base.clusters.length ? base.clusters[i] : synthetic(base.clusters[0], i),
        );
        const inventory = join(work, `inventory-${n}.yaml`);
        // No YAML aliases for the shared parts: the loader rightly refuses hundreds of them.
        writeFileSync(inventory, stringify({ ...base, clusters }, { aliasDuplicateObjects: false }), {
          mode: 0o600,
        });
        const taskQueue = `footprint-${randomUUID()}`;
        const worker = await startWorkerProcess({
          inventory,
          taskQueue,
          address: server.address,
          logFile: join(work, `worker-${n}.log`),
        });
        try {
          await new Promise((r) => setTimeout(r, 2000));
          const rssPollingMb = memoryMb(worker.pid, 'VmRSS');
          const real = clusters.slice(0, Math.min(n, base.clusters.length)).map((c) => String(c.name));
          for (const cluster of real)
            await client.workflow.execute(topology, {
              workflowId: topologyWorkflowId(cluster, Date.now()),
              taskQueue,
              args: [{ cluster }],
            });
          const sample: FootprintSample = {
            configured: n,
            looked: real.length,
            rssPollingMb,
            rssAfterMb: memoryMb(worker.pid, 'VmRSS'),
            peakRssMb: memoryMb(worker.pid, 'VmHWM'),
            connections: await connectionsOf(worker.pid, temporalPort),
          };
          samples.push(sample);
          log(
            `${n} configured (${real.length} looked at): RSS ${sample.rssPollingMb} → ${sample.rssAfterMb} MB (peak ${sample.peakRssMb}); connections ${JSON.stringify(sample.connections)}`,
          );
        } finally {
          await worker.stop();
        }
      }
    } finally {
      await connection.close();
    }
    return samples;
  } finally {
    await stopDevServer(work).catch(() => undefined);
    await labDown({ dir: labDir }).catch((e: Error) => log(`lab down: ${e.message}`));
    rmSync(labDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

/** A configured cluster nobody answers for: the first one's shape on unused addresses. */
function synthetic(model: Record<string, unknown>, i: number): Record<string, unknown> {
  const hosts = (model.hosts as Record<string, unknown>[]).map((h, j) => ({
    ...h,
    address: `198.18.${(i * 4 + j) >> 8}.${(i * 4 + j) & 255}`,
    machine: `idle-${i}`,
  }));
  return {
    ...model,
    name: `idle${String(i).padStart(4, '0')}`,
    labels: { fleet: 'idle' },
    hosts,
  };
}

/** Established TCP connections of a process (ss sees into its network namespace: the host's). */
async function connectionsOf(pid: number, temporalPort: number): Promise<FootprintSample['connections']> {
  const { stdout } = await run('ss', ['-tnpH', 'state', 'established']);
  const out = { sql: 0, ssh: 0, temporal: 0, other: 0 };
  for (const line of stdout.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const peer = line.trim().split(/\s+/)[3] ?? '';
    const port = Number(peer.slice(peer.lastIndexOf(':') + 1));
    if (port === 3306) out.sql++;
    else if (port === 22) out.ssh++;
    else if (port === temporalPort) out.temporal++;
    else out.other++;
  }
  return out;
}
