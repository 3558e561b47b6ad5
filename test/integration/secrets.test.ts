// No secret in the logs or the history: a full planned successover on a netns lab with the worker
// logging at debug (its own logs and the SDK's, as JSON lines in memory), then every line and the
// histories of the run, its cluster lock and a topology run are searched for the lab's passwords
// and the SSH private key's material. The logs are also checked for what each line must carry.
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { lockWorkflowId, workflowIdFor } from '../../workflows/api';
import { blackoutMs } from '../../metrics/registry';
import { installRuntime, workerLogger } from '../../worker/logging';
import { plannedSuccessover, topology } from '../../workflows';
import { startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';

const lines: string[] = [];
const log = workerLogger('debug', { write: (s: string) => void lines.push(s) });

interface Secret {
  what: string;
  value: string;
}

/** The lab's passwords and every body line of its SSH private key. */
function labSecrets(lab: LabFixture): Secret[] {
  const { secrets, app } = lab.info;
  const read = (f: string) => readFileSync(f, 'utf8').trim();
  const out: Secret[] = [
    { what: 'mysql password', value: read(secrets.mysqlPasswordFile) },
    { what: 'replication password', value: read(secrets.replicationPasswordFile) },
    { what: 'app password', value: read(app.passwordFile) },
  ];
  if (secrets.sshPrivateKeyFile)
    read(secrets.sshPrivateKeyFile)
      .split('\n')
      .map((l) => l.trim())
      // The armour lines are the same in every key; a short last line could match by chance.
      .filter((l) => !l.startsWith('-----') && l.length >= 16)
      .forEach((value, i) => out.push({ what: `ssh private key line ${i + 1}`, value }));
  return out;
}

/** Which secrets occur in any of the texts. */
function findSecrets(texts: string[], secrets: Secret[]): string[] {
  return secrets.filter((s) => texts.some((t) => t.includes(s.value))).map((s) => s.what);
}

/** The history as JSON plus every payload decoded, so the search also sees inputs and results. */
function readable(history: unknown): string {
  const decoded: string[] = [];
  const json = JSON.stringify(history, (key, value: unknown) => {
    if (value instanceof Uint8Array) {
      decoded.push(Buffer.from(value).toString('utf8'));
      return Buffer.from(value).toString('base64');
    }
    if (key === 'data' && typeof value === 'string')
      decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    // Buffer.toJSON has run already: { type: 'Buffer', data: [bytes] }.
    if (key === 'data' && Array.isArray(value)) decoded.push(Buffer.from(value as number[]).toString('utf8'));
    return value;
  });
  return [json, ...decoded].join('\n');
}

type Line = Record<string, unknown>;

let lab: LabFixture;
beforeAll(async () => {
  // Before any connection: the Runtime is installed once per process (per test file here).
  installRuntime(log);
  lab = await startLab({ mode: 'netns', hosts: 3 });
});
afterAll(async () => {
  await lab?.down();
});

describe('secrets stay out of the logs and the history', () => {
  test('the search finds a secret that is there', () => {
    const secrets = labSecrets(lab);
    expect(secrets.length).toBeGreaterThanOrEqual(4); // three passwords and the key
    const [mysql, repl] = secrets;
    const key = secrets[secrets.length - 1];
    const clean = ['{"level":30,"msg":"worker started"}'];
    expect(findSecrets(clean, secrets)).toEqual([]);
    expect(findSecrets([...clean, `{"msg":"connect","pw":"${mysql.value}"}`], secrets)).toEqual([
      'mysql password',
    ]);
    expect(findSecrets([`key: ${key.value}`], secrets)).toEqual([key.what]);
    const payload = Buffer.from(JSON.stringify({ sql: `MASTER_PASSWORD='${repl.value}'` }));
    const history = { events: [{ input: { payloads: [{ data: payload }] } }] };
    expect(findSecrets([readable(history)], secrets)).toEqual(['replication password']);
  });

  test('the worker logger censors secret-named fields', () => {
    const secrets = labSecrets(lab);
    const out: string[] = [];
    workerLogger('debug', { write: (s: string) => void out.push(s) }).info(
      { credentials: { mysql: { user: 'admin', password: secrets[0].value } }, privateKey: secrets[3].value },
      'a careless line',
    );
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0])).toMatchObject({
      credentials: { mysql: { user: 'admin', password: '[redacted]' } },
      privateKey: '[redacted]',
    });
    expect(findSecrets(out, secrets)).toEqual([]);
  });

  test('a full planned successover logs none and records none', async () => {
    const secrets = labSecrets(lab);
    const histories: string[] = [];
    let plannedRun: { workflowId: string; runId: string } | undefined;
    await withWorker(
      lab.info.inventory,
      async ({ client, taskQueue }) => {
        const fetch = async (h: WorkflowHandle) => readable(await h.fetchHistory());
        const topo = await client.workflow.start(topology, {
          taskQueue,
          workflowId: `topology/lab/${taskQueue}`,
          args: [{ cluster: 'lab' }],
        });
        await topo.result();
        const run = await client.workflow.start(plannedSuccessover, {
          taskQueue,
          workflowId: workflowIdFor('planned-successover', 'lab'),
          args: [{ cluster: 'lab', target: 'db2' }],
        });
        const result = await run.result();
        expect(result.target).toBe('db2');
        expect(result.blackoutMs).toEqual(expect.any(Number));
        plannedRun = { workflowId: run.workflowId, runId: run.firstExecutionRunId };
        const lock = client.workflow.getHandle(lockWorkflowId('lab'));
        await lock.result(); // released: its history is complete
        histories.push(...(await Promise.all([fetch(topo), fetch(run), fetch(lock)])));
      },
      { logger: log },
    );

    // The searches below mean something: the histories hold decoded payloads, the logs are the
    // SDK's debug lines of this run.
    expect(histories[1]).toContain('"blackoutMs"');
    expect(histories[1]).toContain('runCriticalSection');
    const parsed = lines.map((l) => JSON.parse(l) as Line);
    const ofRun = parsed.filter((l) => l.workflowId === plannedRun?.workflowId);
    expect(ofRun.length).toBeGreaterThan(20);

    expect(findSecrets(lines, secrets)).toEqual([]);
    expect(findSecrets(histories, secrets)).toEqual([]);

    // Every activity line names the run and the step; once the input is read, the cluster and host.
    const activity = ofRun.filter((l) => l.activityType !== undefined);
    expect(activity.length).toBeGreaterThan(10);
    for (const l of activity) expect([l.runId, l.step]).toEqual([plannedRun?.runId, l.activityType]);
    const repoint = activity.find((l) => l.step === 'repoint' && l.msg === 'Activity completed');
    expect(repoint).toMatchObject({ cluster: 'lab', host: expect.stringMatching(/^db[13]$/) });
    const critical = activity.find((l) => l.step === 'runCriticalSection' && l.msg === 'Activity completed');
    expect(critical).toMatchObject({ cluster: 'lab', workflowType: 'plannedSuccessover' });
    // The workflow's own lines name the cluster and the phase it was in.
    const completed = ofRun.find((l) => l.msg === 'Workflow completed');
    expect(completed).toMatchObject({ runId: plannedRun?.runId, cluster: 'lab', phase: 'done' });
  });

  test('the completed run observed its blackout in the worker metrics', async () => {
    const count = (await blackoutMs.get()).values.find(
      (v) => v.metricName === 'successover_blackout_milliseconds_count' && v.labels.cluster === 'lab',
    );
    expect(count?.value).toBe(1);
  });
});
