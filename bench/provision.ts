// `successover bench provision`: provisioning throughput on a generated data set. A bench lab of
// its own gets `sizeMb` of data through the primary, then one empty host per method (db4, db5, …)
// is provisioned by the real provisionReplica workflow while the bench writer keeps writing.
import { readFileSync } from 'node:fs';
import { labAddHost } from '../lab/addHost';
import { ACCOUNT_NAMES } from '../lab/index';
import type { ProvisionReplicaInput } from '../domain/runbook';
import type { ProvisionMethod } from '../domain/provision/method';
import { provisionWorkflowId } from '../workflows/api';
import { provisionReplica } from '../workflows/provisionReplica';
import { generateData, type GeneratedData } from './datagen';
import { withBenchLab } from './harness';

export interface ProvisionBenchOptions {
  sizeMb: number;
  tables?: number;
  methods: ProvisionMethod[];
  keepLab?: boolean;
  log?: (line: string) => void;
}

export interface ProvisionBenchSample {
  method: ProvisionMethod;
  host: string;
  donor: string;
  ok: boolean;
  error?: string;
  bytes: number | null;
  rows: number | null;
  copyMs: number | null;
  mbPerSecond: number | null;
  rowsPerSecond: number | null;
  catchUpMs: number | null;
  /** The whole run, start to verified. */
  totalMs: number | null;
  checksumsEqual: boolean | null;
  tablesChecked: number | null;
  /** The copy's own phases, then the workflow's steps, each with its milliseconds. */
  phases: { name: string; ms: number }[];
  steps: { step: string; ms: number }[];
}

export interface ProvisionBenchResult {
  data: GeneratedData;
  ackedWrites: number;
  samples: ProvisionBenchSample[];
}

export async function runProvisionBench(o: ProvisionBenchOptions): Promise<ProvisionBenchResult> {
  const log = o.log ?? (() => undefined);
  if (!(o.sizeMb >= 1)) throw new Error(`--size-mb ${o.sizeMb}: expected at least 1`);
  if (o.methods.length === 0) throw new Error('--method: give logical, physical or both');
  const hosts = o.methods.map((_, i) => `db${4 + i}`);
  let data: GeneratedData | undefined;
  return withBenchLab(
    {
      hosts: 3,
      keepLab: o.keepLab,
      log,
      prepare: async (info, labDir) => {
        log(`generating ${o.sizeMb} MB through the primary`);
        data = await generateData({
          host: info.writer.host,
          port: info.writer.port,
          user: ACCOUNT_NAMES.admin,
          password: readFileSync(info.secrets.mysqlPasswordFile, 'utf8').trim(),
          database: 'bench',
          sizeMb: o.sizeMb,
          ...(o.tables ? { tables: o.tables } : {}),
          log,
        });
        log(`generated ${data.rows} rows, ${Math.round(data.bytes / 2 ** 20)} MB in ${data.ms} ms`);
        const added = [];
        for (const name of hosts) added.push(await labAddHost(name, { dir: labDir }));
        return { ...info, hosts: [...info.hosts, ...added] };
      },
    },
    async ({ client, taskQueue, writer }) => {
      const samples: ProvisionBenchSample[] = [];
      for (const [i, method] of o.methods.entries()) {
        const host = hosts[i];
        const input: ProvisionReplicaInput = { cluster: 'lab', host, method };
        const t0 = Date.now();
        log(`provisioning ${host} (${method})`);
        try {
          const r = await client.workflow.execute(provisionReplica, {
            taskQueue,
            workflowId: provisionWorkflowId('lab', host),
            args: [input],
          });
          samples.push({
            method,
            host,
            donor: r.donor,
            ok: true,
            bytes: r.bytes,
            rows: r.rows,
            copyMs: r.copyMs,
            mbPerSecond: r.mbPerSecond,
            rowsPerSecond: r.rowsPerSecond,
            catchUpMs: r.catchUpMs,
            totalMs: Date.now() - t0,
            checksumsEqual: r.checksum.equal,
            tablesChecked: r.checksum.tables.length,
            phases: r.phases,
            steps: r.timeline.filter((s) => s.ms !== undefined).map((s) => ({ step: s.step, ms: s.ms! })),
          });
          log(`${host} (${method}): ${r.mbPerSecond} MB/s, copy ${r.copyMs} ms, catch-up ${r.catchUpMs} ms`);
        } catch (e) {
          samples.push({
            method,
            host,
            donor: '',
            ok: false,
            error: (e as { cause?: Error }).cause?.message ?? (e as Error).message,
            bytes: null,
            rows: null,
            copyMs: null,
            mbPerSecond: null,
            rowsPerSecond: null,
            catchUpMs: null,
            totalMs: null,
            checksumsEqual: null,
            tablesChecked: null,
            phases: [],
            steps: [],
          });
          log(`${host} (${method}) FAILED: ${samples.at(-1)!.error}`);
        }
      }
      await writer.stop();
      return { data: data!, ackedWrites: writer.acked.length, samples };
    },
  );
}
