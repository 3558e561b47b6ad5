// `successover detector start|stop|status`: the built-in detector of a cluster, a long-running
// workflow (id detector/<cluster>) that starts emergency recovery when the primary stops answering.
import type { Command } from 'commander';
import { connectClient } from '../../temporal/connection';
import { startDetector } from '../../triggers/detectors';
import { DEFAULT_TASK_QUEUE } from '../../worker/taskQueue';
import { detectorId } from '../../workflows/api';
import { failureReason, uiLink } from '../runbooks';

/** How long `status` waits for a worker to answer the current-details query. */
const DETAILS_TIMEOUT_MS = 3000;

export function registerDetector(program: Command): void {
  const detector = program
    .command('detector')
    .description('the built-in detector: probes the primary, starts emergency recovery when it fails');
  detector
    .command('start')
    .description('start the detector of a cluster (does nothing when it already runs)')
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .option('--interval <seconds>', 'between probes (default: policy.detector.intervalSeconds)')
    .option('--probes <n>', 'failed probes in a row that start a recovery (default: policy.detector.probes)')
    .option('--task-queue <name>', 'task queue of the workers', DEFAULT_TASK_QUEUE)
    .action(async (o: { cluster: string; interval?: string; probes?: string; taskQueue: string }) => {
      const input = {
        cluster: o.cluster,
        ...(o.interval !== undefined ? { intervalSeconds: number('--interval', o.interval, 0.2) } : {}),
        ...(o.probes !== undefined ? { probes: number('--probes', o.probes, 1, true) } : {}),
      };
      await withClient(`detector start on ${o.cluster}`, async (client) => {
        const d = await startDetector(client, o.taskQueue, input);
        console.log(
          `${d.workflowId} ${d.started ? 'started' : 'was already running (unchanged)'}: run ${d.runId} (${uiLink(d.workflowId, d.runId)})`,
        );
      });
    });
  detector
    .command('stop')
    .description('stop (terminate) the detector of a cluster; a recovery it started goes on')
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .action(async (o: { cluster: string }) => {
      await withClient(`detector stop on ${o.cluster}`, async (client) => {
        const handle = client.workflow.getHandle(detectorId(o.cluster));
        const d = await handle.describe().catch(() => null);
        if (d?.status.name !== 'RUNNING') {
          console.log(`${detectorId(o.cluster)} is not running: nothing to stop`);
          return;
        }
        await handle.terminate(`stopped with successover detector stop by ${process.env.USER ?? 'unknown'}`);
        console.log(`${detectorId(o.cluster)} stopped (run ${d.runId})`);
      });
    });
  detector
    .command('status')
    .description('is the detector of a cluster running, and what is it watching')
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .option('--json', 'print {workflowId, running, status, runId, startTime, details}')
    .action(async (o: { cluster: string; json?: boolean }) => {
      await withClient(`detector status on ${o.cluster}`, async (client) => {
        const workflowId = detectorId(o.cluster);
        const handle = client.workflow.getHandle(workflowId);
        const d = await handle.describe().catch(() => null);
        const running = d?.status.name === 'RUNNING';
        const details = running
          ? await currentDetails(() => handle.query('__temporal_workflow_metadata'))
          : null;
        const status = {
          workflowId,
          running,
          status: d?.status.name ?? 'NEVER_STARTED',
          runId: d?.runId ?? null,
          startTime: d?.startTime.toISOString() ?? null,
          details,
        };
        if (o.json) console.log(JSON.stringify(status, null, 2));
        else
          console.log(
            running
              ? `${workflowId} is running since ${status.startTime} (run ${status.runId}): ${details}`
              : `${workflowId} is not running (${status.status.toLowerCase().replace(/_/g, ' ')})`,
          );
      });
    });
}

async function withClient(
  what: string,
  fn: (client: Awaited<ReturnType<typeof connectClient>>) => Promise<void>,
) {
  const client = await connectClient();
  try {
    await fn(client);
  } catch (e) {
    console.error(`${what} failed: ${failureReason(e).message}`);
    process.exitCode = 1;
  } finally {
    await client.connection.close();
  }
}

/** The run's current details as plain text, or why they could not be read (no worker answering). */
async function currentDetails(query: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`details not readable: no worker answered within ${DETAILS_TIMEOUT_MS} ms`),
      DETAILS_TIMEOUT_MS,
    );
  });
  const read = query().then(
    (m) => ((m as { currentDetails?: string }).currentDetails ?? '').replace(/\*\*/g, '') || 'no details yet',
    (e: unknown) => `details not readable: ${failureReason(e).message}`,
  );
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function number(flag: string, text: string, min: number, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    throw new Error(`${flag}: expected ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${text}"`);
  return n;
}
