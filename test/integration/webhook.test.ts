// The alert receiver against the real Temporal dev server, over real HTTP on a free port: an
// Alertmanager alert starts emergency-recovery/<cluster> with the alert recorded in its input, a
// repeated alert joins it, and refused or ignored requests leave no workflow behind. No worker
// polls the task queue: the run stays at its first workflow task, which is all this test reads.
// The command itself (`successover webhook serve`) is run once as a child process, and the
// deploy/ files are run for real: the Orchestrator hook script, and a real Alertmanager with
// deploy/alertmanager/receiver.yml when this machine has one (prometheus-alertmanager).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter, defineSearchAttributeKey, type Payload } from '@temporalio/common';
import pino from 'pino';
import { stringify } from 'yaml';
import { freePort } from '../../temporal/devserver';
import { startReceiver, type RunningReceiver } from '../../webhook/main';
import { testClient } from './temporal';
import { testEnv } from './testEnv';

const id = randomUUID().slice(0, 8);
/** Clusters of this file alone: other test files never see their workflow ids. */
const CLUSTER = `hook-${id}`;
const QUIET = `hook-quiet-${id}`;
const ORC = `hook-orc-${id}`;
const AMC = `hook-am-${id}`;
const BURST = `hook-burst-${id}`;
const TOKEN = randomBytes(24).toString('hex');
const TOKEN_ENV = 'SO_TEST_WEBHOOK_TOKEN';
const taskQueue = `webhook-test-${id}`;
const dir = mkdtempSync(join(tmpdir(), 'so-webhook-'));
const inventoryPath = join(dir, 'inventory.yaml');
const tokenFile = join(dir, 'webhook.token');
const ROOT = join(__dirname, '..', '..');
const SETPRIV = '/usr/bin/setpriv';
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** A child tied to this process (pdeathsig where setpriv exists): a crashed jest leaves none. */
function spawnTied(cmd: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): ChildProcess {
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  return existsSync(SETPRIV)
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', ...cmd], { ...opts, stdio })
    : spawn(cmd[0], cmd.slice(1), { ...opts, stdio });
}

const exitOf = (p: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    p.exitCode !== null || p.signalCode !== null
      ? res({ code: p.exitCode, signal: p.signalCode })
      : p.once('exit', (code, signal) => res({ code, signal })),
  );

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  TEMPORAL_ADDRESS: testEnv('address'),
  TEMPORAL_NAMESPACE: testEnv('namespace'),
  [TOKEN_ENV]: TOKEN,
});

let client: Client;
let receiver: RunningReceiver;

const host = (name: string, n: number) => ({ name, address: `10.99.0.${n}` });

beforeAll(async () => {
  writeFileSync(
    inventoryPath,
    stringify({
      clusters: [
        { name: CLUSTER, flavor: 'mariadb', hosts: [host('db1', 1), host('db2', 2)] },
        { name: QUIET, flavor: 'mariadb', hosts: [host('q1', 3), host('q2', 4)] },
        { name: ORC, flavor: 'mariadb', hosts: [host('orc1', 5), host('orc2', 6)] },
        { name: AMC, flavor: 'mariadb', hosts: [host('am1', 7), host('am2', 8)] },
        { name: BURST, flavor: 'mariadb', hosts: [host('b1', 9), host('b2', 10)] },
      ],
      credentials: {
        mysql: { user: 'so', passwordEnv: 'SO_UNUSED_PW' },
        replication: { user: 'repl', passwordEnv: 'SO_UNUSED_PW' },
      },
      webhook: { tokenEnv: TOKEN_ENV },
    }),
  );
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  client = await testClient();
  receiver = await startReceiver({
    inventoryPath,
    host: '127.0.0.1',
    port: 0,
    taskQueue,
    env: env(),
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
  });
});

afterAll(async () => {
  for (const c of [CLUSTER, QUIET, ORC, AMC, BURST])
    await client.workflow
      .getHandle(`emergency-recovery/${c}`)
      .terminate('webhook test over')
      .catch(() => undefined);
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

function alertmanager(cluster: string | undefined, o: { name?: string; status?: string } = {}): string {
  const status = o.status ?? 'firing';
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{cluster="${cluster}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'successover',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    alerts: [
      {
        status,
        labels: {
          alertname: o.name ?? 'MariaDBPrimaryDown',
          ...(cluster ? { cluster } : {}),
          instance: 'db1:9104',
          severity: 'critical',
        },
        annotations: { summary: 'the primary does not answer' },
        startsAt: '2025-06-01T10:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example:9090/graph',
        fingerprint: 'c0ffee0123456789',
      },
    ],
  });
}

async function post(body: string, token: string | null = TOKEN, url = `${receiver.url}/alerts/alertmanager`) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function exists(workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    throw e;
  }
}

describe('webhook receiver on Temporal', () => {
  let first: { workflowId: string; runId: string; started: boolean; joined: boolean };

  test('a firing Alertmanager alert starts emergency-recovery/<cluster> with the alert recorded', async () => {
    const before = Date.now();
    const res = await post(alertmanager(CLUSTER));
    expect(res.status).toBe(202);
    first = res.body as typeof first;
    expect(first).toEqual({
      cluster: CLUSTER,
      workflowId: `emergency-recovery/${CLUSTER}`,
      runId: expect.any(String),
      started: true,
      joined: false,
    });
    const handle = client.workflow.getHandle(first.workflowId);
    const d = await handle.describe();
    expect(d.runId).toBe(first.runId);
    expect(d.type).toBe('emergencyRecovery');
    expect(d.taskQueue).toBe(taskQueue);
    expect(d.status.name).toBe('RUNNING');
    expect(d.typedSearchAttributes.get(defineSearchAttributeKey('Cluster', 'KEYWORD'))).toBe(CLUSTER);

    const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = defaultPayloadConverter.fromPayload<Record<string, unknown>>(
      started?.input?.payloads?.[0] as Payload,
    );
    expect(input).toMatchObject({
      cluster: CLUSTER,
      primary: 'db1',
      reason:
        'alertmanager alert MariaDBPrimaryDown firing since 2025-06-01T10:00:00Z: the primary does not answer',
      source: {
        kind: 'webhook',
        system: 'alertmanager',
        alert: {
          name: 'MariaDBPrimaryDown',
          fingerprint: 'c0ffee0123456789',
          startsAt: '2025-06-01T10:00:00Z',
          labels: {
            alertname: 'MariaDBPrimaryDown',
            cluster: CLUSTER,
            instance: 'db1:9104',
            severity: 'critical',
          },
        },
      },
    });
    const receivedAt = Date.parse((input.source as { receivedAt: string }).receivedAt);
    expect(receivedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(receivedAt).toBeLessThanOrEqual(Date.now());
    // The token never reaches the run.
    expect(JSON.stringify(input)).not.toContain(TOKEN);
  });

  test('the same alert again joins the run under way: same run id, started false', async () => {
    const res = await post(alertmanager(CLUSTER));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ ...first, started: false, joined: true });
    const d = await client.workflow.getHandle(first.workflowId).describe();
    expect(d.runId).toBe(first.runId);
  });

  test('50 identical alerts at once start one run: one answer says started, the others joined', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(alertmanager(BURST))));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    const runIds = new Set(answers.map((a) => a.body.runId));
    expect(runIds.size).toBe(1);
    expect(answers.filter((a) => a.body.started === true)).toHaveLength(1);
    expect(answers.filter((a) => a.body.joined === true)).toHaveLength(49);
    const d = await client.workflow.getHandle(`emergency-recovery/${BURST}`).describe();
    expect(runIds).toEqual(new Set([d.runId]));
  });

  test('refused and ignored requests start nothing', async () => {
    const cases: [string, () => ReturnType<typeof post>, number][] = [
      ['no token', () => post(alertmanager(QUIET), null), 401],
      ['a wrong token', () => post(alertmanager(QUIET), `${TOKEN.slice(1)}0`), 401],
      ['not JSON', () => post(alertmanager(QUIET).slice(0, -3)), 400],
      ['an invalid payload', () => post(alertmanager(QUIET).replace('"firing"', '"burning"')), 400],
      ['no cluster label', () => post(alertmanager(undefined)), 422],
      ['a resolved alert', () => post(alertmanager(QUIET, { status: 'resolved' })), 200],
      ['a lag alert', () => post(alertmanager(QUIET, { name: 'MariaDBReplicationLag' })), 200],
      ['an unknown cluster', () => post(alertmanager(`nowhere-${id}`)), 404],
    ];
    for (const [what, send, status] of cases) {
      const res = await send();
      expect({ what, status: res.status }).toEqual({ what, status });
      expect(res.body).toHaveProperty(status === 200 ? 'ignored' : 'error');
    }
    expect(await exists(`emergency-recovery/${QUIET}`)).toBe(false);
    expect(await exists(`emergency-recovery/nowhere-${id}`)).toBe(false);
  });
});

describe('successover webhook serve', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  test('listens, logs no secret, and stops cleanly on SIGTERM', async () => {
    const proc = spawnTied(
      [
        process.execPath,
        join(ROOT, 'bin', 'successover.js'),
        'webhook',
        'serve',
        '--port',
        '0',
        '--task-queue',
        taskQueue,
      ],
      { cwd: ROOT, env: { ...env(), SUCCESSOVER_INVENTORY: inventoryPath } },
    );
    child = proc;
    let out = '';
    let err = '';
    proc.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const exited = exitOf(proc);
    const url = await new Promise<string>((res, rej) => {
      const timer = setTimeout(
        () => rej(new Error(`no "listening" line within 60 s:\n${out}\n${err}`)),
        60_000,
      );
      proc.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        const line = out.split('\n').find((l) => l.includes('webhook receiver listening'));
        if (line) {
          clearTimeout(timer);
          res((JSON.parse(line) as { url: string }).url);
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        rej(new Error(`exited (${signal ?? code}) before listening:\n${out}\n${err}`));
      });
    });

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // A request with the right token and one with a wrong one: neither token may be logged.
    const wrong = `${TOKEN.slice(0, -1)}x`;
    expect(
      (await post(alertmanager(QUIET, { status: 'resolved' }), TOKEN, `${url}/alerts/alertmanager`)).status,
    ).toBe(200);
    expect((await post(alertmanager(QUIET), wrong, `${url}/alerts/alertmanager`)).status).toBe(401);

    proc.kill('SIGTERM');
    const end = await Promise.race([
      exited,
      new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 30_000)),
    ]);
    expect(end).toEqual({ code: 0, signal: null });
    expect(out).toContain('webhook receiver stopped');
    expect(out).toContain('request refused');
    expect(out + err).not.toContain(TOKEN);
    expect(out + err).not.toContain(wrong);
    expect(await exists(`emergency-recovery/${QUIET}`)).toBe(false);
  });
});

async function inputOf(workflowId: string): Promise<Record<string, unknown>> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  return defaultPayloadConverter.fromPayload(started?.input?.payloads?.[0] as Payload);
}

describe('deploy/orchestrator/successover-hook.sh', () => {
  const script = join(ROOT, 'deploy', 'orchestrator', 'successover-hook.sh');
  const DESCRIPTION = 'Master cannot be reached by orchestrator and none of its replicas is replicating';

  async function hook(args: string[], orc: Record<string, string>, token = tokenFile) {
    const p = spawnTied(['/bin/bash', script, ...args], {
      env: {
        PATH: process.env.PATH,
        SUCCESSOVER_HOOK_CONFIG: join(dir, 'no-such-config'),
        SUCCESSOVER_URL: receiver.url,
        SUCCESSOVER_TOKEN_FILE: token,
        ...orc,
      },
    });
    let stderr = '';
    p.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    p.stdout?.resume();
    const { code } = await exitOf(p);
    return { code, stderr };
  }

  const failure = (cluster: string, type: string) => ({
    ORC_FAILURE_TYPE: type,
    ORC_FAILURE_DESCRIPTION: `${DESCRIPTION}; "quoted"\tand\nsecond line`,
    ORC_FAILED_HOST: 'orc1',
    ORC_FAILED_PORT: '3306',
    ORC_FAILURE_CLUSTER: 'orc1:3306',
    ORC_FAILURE_CLUSTER_ALIAS: cluster,
    ORC_ORCHESTRATOR_HOST: 'orchestrator-1',
    ORC_REPLICA_HOSTS: 'orc2:3306',
    ORC_IS_SUCCESSFUL: 'false',
  });

  test('a dead primary is posted and starts the recovery, with the failure recorded', async () => {
    const r = await hook(['detected'], failure(ORC, 'DeadMaster'));
    expect(r).toMatchObject({ code: 0 });
    expect(r.stderr).toMatch(/DeadMaster on hook-orc-\w+: 202 /);
    const input = await inputOf(`emergency-recovery/${ORC}`);
    expect(input).toMatchObject({
      cluster: ORC,
      primary: 'orc1',
      reason: `Orchestrator (detected): DeadMaster on orc1:3306: ${DESCRIPTION}; "quoted"\tand\nsecond line`,
      source: {
        kind: 'webhook',
        system: 'orchestrator',
        alert: {
          name: 'DeadMaster',
          fingerprint: `${ORC}/orc1:3306`,
          labels: {
            instance: 'orc1:3306',
            failed_host: 'orc1',
            failed_port: '3306',
            orchestrator_cluster: 'orc1:3306',
            orchestrator_host: 'orchestrator-1',
            replicas: 'orc2:3306',
          },
        },
      },
    });
  });

  test('another failure type posts nothing; a refused post exits 1', async () => {
    const other = await hook(['detected'], failure(QUIET, 'UnreachableMaster'));
    expect(other.code).toBe(0);
    expect(other.stderr).toContain(`UnreachableMaster on ${QUIET}: not a dead primary, nothing posted`);
    const wrongToken = join(dir, 'wrong.token');
    writeFileSync(wrongToken, 'not-the-token\n');
    const refused = await hook(['failover-failed'], failure(QUIET, 'DeadMaster'), wrongToken);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused with 401: {"error":"wrong bearer token"}');
    expect(await exists(`emergency-recovery/${QUIET}`)).toBe(false);
  });
});

(existsSync(ALERTMANAGER) ? describe : describe.skip)(
  'a real Alertmanager with deploy/alertmanager/receiver.yml',
  () => {
    let am: ChildProcess | undefined;
    afterAll(async () => {
      if (!am) return;
      am.kill('SIGTERM');
      await exitOf(am);
    });

    test('an alert posted to Alertmanager starts the recovery through the receiver', async () => {
      const config = readFileSync(join(ROOT, 'deploy', 'alertmanager', 'receiver.yml'), 'utf8')
        .replace('http://successover.example.internal:8080', receiver.url)
        .replace('/etc/alertmanager/successover.token', tokenFile);
      expect(config).toContain(receiver.url);
      const configFile = join(dir, 'alertmanager.yml');
      writeFileSync(configFile, config);
      mkdirSync(join(dir, 'alertmanager'));
      const port = await freePort();
      am = spawnTied(
        [
          ALERTMANAGER,
          `--config.file=${configFile}`,
          `--web.listen-address=127.0.0.1:${port}`,
          `--storage.path=${join(dir, 'alertmanager')}`,
          '--cluster.listen-address=',
          '--log.level=warn',
        ],
        { env: { PATH: process.env.PATH } },
      );
      let log = '';
      am.stderr?.on('data', (b: Buffer) => (log += b.toString()));
      am.stdout?.resume();
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 30_000;
      while (
        !(await fetch(`${base}/-/ready`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline || am.exitCode !== null) throw new Error(`Alertmanager not ready:\n${log}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const res = await fetch(`${base}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            labels: {
              alertname: 'MySQLPrimaryDown',
              cluster: AMC,
              instance: 'am2:9104',
              severity: 'critical',
            },
            annotations: { summary: 'primary am2 does not answer' },
            startsAt: new Date().toISOString(),
          },
        ]),
      });
      expect(res.status).toBe(200);
      const workflowId = `emergency-recovery/${AMC}`;
      while (!(await exists(workflowId))) {
        if (Date.now() > deadline) throw new Error(`no ${workflowId} within 30 s; Alertmanager log:\n${log}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await inputOf(workflowId)).toMatchObject({
        cluster: AMC,
        primary: 'am2',
        source: {
          kind: 'webhook',
          system: 'alertmanager',
          alert: { name: 'MySQLPrimaryDown', labels: { cluster: AMC, instance: 'am2:9104' } },
        },
      });
    });
  },
);
