// `successover topology`: the replication tree, as orchestrator-client -c topology prints it; a
// master-master pair's writer line ends with `<-> standby`.
import type { Command } from 'commander';
import type { InspectResult } from '../../domain/topology';
import { connectClient } from '../../temporal/connection';
import { failureReason } from '../runbooks';
import { DEFAULT_TASK_QUEUE } from '../../worker/taskQueue';
import { topologyWorkflowId } from '../../workflows/api';
import { topology } from '../../workflows/topology';

export function registerTopology(program: Command): void {
  program
    .command('topology')
    .description('show who replicates from whom, read-only flags, lag, GTIDs and traffic (through a worker)')
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .option('--task-queue <name>', 'task queue of the workers', DEFAULT_TASK_QUEUE)
    .option('--json', 'print {primary, hosts:[...]}')
    .action(async (o: { cluster: string; json?: boolean; taskQueue: string }) => {
      const client = await connectClient();
      try {
        const r = await client.workflow.execute(topology, {
          workflowId: topologyWorkflowId(o.cluster, Date.now()),
          taskQueue: o.taskQueue,
          args: [{ cluster: o.cluster }],
          staticSummary: `topology of ${o.cluster}`,
        });
        const primary = r.view.find((n) => n.role === 'primary')?.name ?? null;
        if (o.json)
          console.log(JSON.stringify({ primary, hosts: r.view, trafficHolders: r.trafficHolders }, null, 2));
        else console.log(renderTree(r, primary));
      } catch (e) {
        console.error(`topology of ${o.cluster} failed: ${failureReason(e).message}`);
        process.exitCode = 1;
      } finally {
        await client.connection.close();
      }
    });
}

export function renderTree(r: Omit<InspectResult, 'relay'>, primary: string | null): string {
  const lines: string[] = [];
  const label = (name: string) => {
    const n = r.view.find((x) => x.name === name)!;
    const traffic = r.trafficHolders?.includes(name) ? ',writer-traffic' : '';
    const repl = n.source
      ? `,io:${n.ioRunning},sql:${n.sqlRunning ? 'yes' : 'no'},lag:${n.lagSeconds ?? '?'}s`
      : '';
    return `${name} [${n.role},${n.readOnly === null ? '?' : n.readOnly ? 'ro' : 'rw'},${n.version ?? '?'}${repl}${traffic}]${n.error ? ` ERROR: ${n.error}` : ''}`;
  };
  // A master-master pair: the writer replicates from its standby, which replicates from it.
  const writerSource = r.view.find((x) => x.name === primary)?.source;
  const standby = r.view.find((x) => x.name === writerSource && x.source === primary)?.name;
  const walk = (name: string, depth: number, seen: Set<string>) => {
    seen.add(name);
    const pair = name === primary && standby ? ` <-> ${standby}` : '';
    lines.push(`${'  '.repeat(depth)}${depth ? '+ ' : ''}${label(name)}${pair}`);
    for (const c of r.view.filter((x) => x.source === name && !seen.has(x.name)))
      walk(c.name, depth + 1, seen);
  };
  const seen = new Set<string>();
  if (primary) walk(primary, 0, seen);
  for (const n of r.view) if (!seen.has(n.name)) walk(n.name, 0, seen);
  return lines.join('\n');
}
