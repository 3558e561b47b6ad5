// `npm run demo`: the lab with its Temporal dev server, worker and alerting chain, an application
// writing through the VIP, a planned successover db1 → db2 and back, each run started exactly as
// the CLI starts it and linked in the Web UI; then kill -9 of the primary, recovered through
// Prometheus, Alertmanager and the webhook receiver. The lab stays up for exploring unless --down
// (or SUCCESSOVER_DEMO_DOWN=1) asks to remove it at the end.
import { relative } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { lostThrough } from '../bench/harness';
import { Writer } from '../bench/writer';
import { failureReason, startRunbook, uiLink } from '../cli/runbooks';
import type { EmergencyRecoveryResult, PlannedSuccessoverResult } from '../domain/runbook';
import { RUNBOOKS } from '../domain/runbook';
import { defaultLabDir, labDown, labKill, labState, labUp, type LabInfo } from '../lab/index';
import { DEFAULT_TASK_QUEUE } from '../worker/index';
import { workflowIdFor } from '../workflows/api';
import { plannedSuccessover } from '../workflows/plannedSuccessover';

const down = process.argv.includes('--down') || process.env.SUCCESSOVER_DEMO_DOWN === '1';
/** `npm run demo -- --master-master`: the same story on a pair (seeds 003, 004), db1 <-> db2. */
const masterMaster = process.argv.includes('--master-master');
/** Generous: the lab's worker bundles the workflows (~1.5 s) before it polls. */
const RUN_TIMEOUT_MS = 90_000;

const t0 = Date.now();
const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const say = (l: string) => console.log(l);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(why)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function successover(
  client: Client,
  info: LabInfo,
  target: string,
  writer: Writer,
): Promise<PlannedSuccessoverResult> {
  const temporal = info.temporal as NonNullable<LabInfo['temporal']>;
  const started = await startRunbook<PlannedSuccessoverResult>(client, {
    runbook: RUNBOOKS.planned,
    workflow: plannedSuccessover,
    cluster: info.cluster,
    input: { cluster: info.cluster, target },
    summary: `demo: planned successover → ${target} on ${info.cluster}`,
    taskQueue: DEFAULT_TASK_QUEUE,
  });
  say(
    `  run:   ${uiLink(started.workflowId, started.runId, { ...process.env, SUCCESSOVER_UI_URL: temporal.ui })}`,
  );
  const from = Date.now();
  const errorsBefore = writer.errors;
  const r = await withTimeout(
    started.result,
    RUN_TIMEOUT_MS,
    `no result within ${RUN_TIMEOUT_MS / 1000} s: is the lab's worker running? see ${info.dir}/temporal/worker.log`,
  );
  await sleep(200); // the first acknowledgements after the switch belong to this run
  say(
    `  ${r.primary} → ${r.target}: write blackout ${r.blackoutMs} ms; the application's longest wait between ` +
      `two acknowledged writes ${writer.maxGapMs(from, Date.now())} ms (${writer.errors - errorsBefore} attempts failed and were retried)`,
  );
  return r;
}

/**
 * kill -9 of the primary; mysqld_exporter → Prometheus → Alertmanager → webhook receiver →
 * emergency recovery, all as the lab runs them. Prints kill → alert, alert → recovered and
 * kill → the application's first acknowledged write.
 */
async function emergency(client: Client, info: LabInfo, primary: string, writer: Writer) {
  const alerting = info.alerting as NonNullable<LabInfo['alerting']>;
  const q = encodeURIComponent(`mysql_global_variables_read_only{instance="${primary}"} == 0`);
  for (let i = 0; i < 300; i++) {
    const r = await fetch(`${alerting.prometheus}/api/v1/query?query=${q}`);
    if (((await r.json()) as { data: { result: unknown[] } }).data.result.length) break;
    await sleep(100);
  }
  const killedAt = Date.now();
  await labKill(primary, { dir: info.dir });
  const id = workflowIdFor(RUNBOOKS.emergency, info.cluster);
  let runId: string | undefined;
  for (const end = Date.now() + 60_000; !runId && Date.now() < end; await sleep(100)) {
    const d = await client.workflow
      .getHandle(id)
      .describe()
      .catch(() => undefined);
    if (d && d.startTime.getTime() > killedAt) runId = d.runId;
  }
  if (!runId)
    throw new Error(`no alert started ${id} within 60 s: see ${info.dir}/alerting and temporal/webhook.log`);
  const temporal = info.temporal as NonNullable<LabInfo['temporal']>;
  say(`  run:   ${uiLink(id, runId, { ...process.env, SUCCESSOVER_UI_URL: temporal.ui })}`);
  const r = await withTimeout(
    client.workflow.getHandle(id, runId).result() as Promise<EmergencyRecoveryResult>,
    RUN_TIMEOUT_MS,
    'the emergency recovery did not end in time',
  );
  const alertAt = Date.parse(r.timeline[0].start);
  const failed = writer.failedAt.find((t) => t >= killedAt) ?? killedAt;
  let firstAck: number | undefined;
  for (let i = 0; i < 100 && firstAck === undefined; i++, await sleep(100))
    firstAck = writer.acked.find((a) => a.at > failed)?.at;
  say(
    `  ${r.primary} → ${r.newPrimary}: kill → alert ${alertAt - killedAt} ms, alert → recovered ${r.recoveryMs} ms, ` +
      `kill → first acknowledged write ${firstAck === undefined ? 'none within 10 s' : `${firstAck - killedAt} ms`}`,
  );
  return r;
}

/** The lab's worker starts in the background and bundles the workflows first: wait until it polls. */
async function waitForWorker(client: Client, info: LabInfo): Promise<void> {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    const r = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: DEFAULT_TASK_QUEUE },
    });
    if ((r.pollers ?? []).length > 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `the lab's worker did not poll ${DEFAULT_TASK_QUEUE}: see ${info.dir}/temporal/worker.log`,
      );
    await sleep(250);
  }
}

async function main(): Promise<void> {
  const dir = defaultLabDir();
  const existing = labState(dir);
  if (existing?.complete) {
    console.error(
      `demo: a lab is already up in ${dir} (started ${existing.startedAt}); the demo builds its own.\n` +
        '  explore it: npx successover lab status\n' +
        '  remove it:  npx successover lab down   (then run npm run demo again)',
    );
    process.exit(1);
  }

  say(
    `[${secs()}] lab up: ${masterMaster ? 'a master-master pair (db1 <-> db2)' : 'MariaDB hosts'} with GTID replication, a VIP, the Temporal dev server and a worker`,
  );
  const info = await labUp({
    dir,
    masterMaster,
    temporal: true,
    alerting: true,
    semiSync: true,
    log: (l) => say(`  ${l}`),
  });
  const temporal = info.temporal;
  if (!temporal) throw new Error('the lab came up without Temporal: the demo needs it');
  say(`  Temporal ${temporal.address}, Web UI ${temporal.ui}`);

  let writer: Writer | undefined;
  let connection: Connection | undefined;
  const cleanup = async () => {
    await writer?.stop().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    if (down) {
      say(`[${secs()}] lab down (--down)`);
      await labDown({ dir, log: (l) => say(`  ${l}`) });
    }
  };
  process.once('SIGINT', () => {
    say('interrupted');
    void cleanup().finally(() => process.exit(130));
  });

  let ok = false;
  try {
    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    writer = Writer.forLab(info, { intervalMs: 2, connectTimeoutMs: 100 });
    say(`[${secs()}] waiting for the lab's worker to poll task queue ${DEFAULT_TASK_QUEUE}`);
    await waitForWorker(client, info);
    await writer.start();
    say(
      `[${secs()}] an application writes a row every 2 ms through ${info.writer.host}:${info.writer.port} ` +
        `(account ${info.app.user}, database ${info.app.database})`,
    );
    await sleep(1000);

    say(
      `[${secs()}] planned successover db1 → db2, started as \`successover run planned --target db2\` does`,
    );
    const there = await successover(client, info, 'db2', writer);
    await sleep(1000);
    say(`[${secs()}] and back: db2 → db1`);
    const back = await successover(client, info, 'db1', writer);
    await sleep(500);

    say(`[${secs()}] kill -9 of the primary ${back.target}: the real alerting chain recovers it`);
    const recovered = await emergency(client, info, back.target, writer);
    await sleep(500);
    await writer.stop();

    const missing = await lostThrough(info, recovered.newPrimary!, writer);
    say(
      `[${secs()}] the application saw ${writer.acked.length} writes acknowledged (${writer.errors} attempts failed)`,
    );
    say(
      `  missing on the primary ${recovered.newPrimary}: ${missing.length}` +
        (missing.length ? ` (${missing.slice(0, 10).join(', ')}…)` : ' — none lost'),
    );
    say(`  blackouts: ${there.blackoutMs} ms and ${back.blackoutMs} ms`);
    ok = missing.length === 0;
  } catch (e) {
    console.error(`demo failed: ${failureReason(e).message}`);
  } finally {
    await cleanup();
  }

  if (!down) {
    const rel = relative(process.cwd(), dir) || dir;
    say(`[${secs()}] the lab is still running (${rel}) for you to explore:`);
    say(`  Temporal Web UI:  ${temporal.ui}`);
    say('  topology:         npx successover lab status');
    // The CLI finds the lab's Temporal and its UI by itself (.lab/temporal.toml, written by lab up).
    say('  another run:      npx successover run planned --cluster lab');
    say('  stop everything:  npx successover lab down');
  } else say(`[${secs()}] done`);
  process.exit(ok ? 0 : 1);
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
