// The real alerting chain on the lab: kill -9 of the primary under write load → mysqld_exporter →
// Prometheus (1 s scrapes, deploy/prometheus/rules.yml) → Alertmanager (deploy/alertmanager) →
// the webhook receiver → emergency recovery. Then a resolved notification and a lag alert, sent
// through the same Alertmanager, start nothing.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { lostThrough } from '../../bench/harness';
import { Writer } from '../../bench/writer';
import type { EmergencyRecoveryInput } from '../../domain/runbook';
import { workflowIdFor } from '../../workflows/api';
import { labKill, labStatus } from '../../lab/index';
import { freePort } from '../../temporal/devserver';
import { startReceiver, type RunningReceiver } from '../../webhook/main';
import type { emergencyRecovery } from '../../workflows';
import { startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';
import { testEnv } from './testEnv';

let lab: LabFixture;
let writer: Writer | undefined;
let receiver: RunningReceiver | undefined;
const logged: { msg: string; [k: string]: unknown }[] = [];
beforeAll(async () => {
  lab = await startLab({
    mode: 'netns',
    hosts: 3,
    semiSync: true,
    alerting: true,
    webhookPort: await freePort(),
  });
});
afterAll(async () => {
  await receiver?.close();
  await writer?.stop();
  await lab?.down();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alerting = () => lab.info.alerting!;

async function promQuery(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${alerting().prometheus}/api/v1/query?query=${encodeURIComponent(q)}`);
  return ((await r.json()) as { data: { result: [] } }).data.result;
}

/** Posts alerts to Alertmanager's own API: it notifies the receiver as it would for Prometheus. */
async function amAlert(labels: Record<string, string>, endsAt?: Date) {
  const body = [
    {
      labels,
      ...(endsAt
        ? { startsAt: new Date(endsAt.getTime() - 60_000).toISOString(), endsAt: endsAt.toISOString() }
        : {}),
    },
  ];
  const r = await fetch(`${alerting().alertmanager}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(200);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const v = await fn();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('kill -9 of the primary: Prometheus fires, Alertmanager posts, the receiver starts the recovery', async () => {
  const { info } = lab;
  await withWorker(info.inventory, async ({ client, taskQueue }) => {
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line));
        done();
      },
    });
    receiver = await startReceiver({
      inventoryPath: info.inventory,
      port: alerting().webhookPort,
      taskQueue,
      env: { ...process.env, TEMPORAL_ADDRESS: testEnv('address'), TEMPORAL_NAMESPACE: testEnv('namespace') },
      logger: pino({ level: 'info' }, sink),
    });
    writer = Writer.forLab(info);
    await writer.start();
    // The rule needs to have seen db1 writable: wait for that sample.
    await until(
      'Prometheus to scrape db1 as writable',
      async () =>
        (await promQuery('mysql_global_variables_read_only{instance="db1"} == 0')).length ? true : undefined,
      30_000,
    );
    const killedAt = Date.now();
    await labKill('db1', { dir: lab.dir });

    const id = workflowIdFor('emergency-recovery', 'lab');
    const run = await until(
      'the receiver to start the recovery',
      async () => {
        const d = await client.workflow
          .getHandle(id)
          .describe()
          .catch(() => undefined);
        return d && d.startTime.getTime() > killedAt ? d : undefined;
      },
      30_000,
    );
    const r = await client.workflow.getHandle<typeof emergencyRecovery>(id, run.runId).result();
    expect([r.outcome, r.primary]).toEqual(['recovered', 'db1']);
    expect(r.timeline[0].step).toBe('alertmanager alert received');

    // The run's input records the alert.
    const history = await client.workflow.getHandle(id, run.runId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = started?.input?.payloads?.[0]?.data;
    const input = JSON.parse(Buffer.from(payload as Uint8Array).toString()) as EmergencyRecoveryInput;
    expect(input.source).toMatchObject({
      kind: 'webhook',
      system: 'alertmanager',
      alert: {
        name: 'MariaDBPrimaryDown',
        fingerprint: expect.stringMatching(/^[0-9a-f]+$/),
        startsAt: expect.any(String),
      },
    });
    const receivedAt = Date.parse(input.source!.receivedAt!);

    // Recovered: the VIP on the new primary, the other replica following it, nothing lost.
    const s = await labStatus({ dir: lab.dir });
    expect(s.vipHolders).toEqual([r.newPrimary]);
    expect(s.hosts.filter((h) => h.readOnly === false).map((h) => h.name)).toEqual([r.newPrimary]);
    const firstAck = await until(
      'a write on the new primary',
      async () => writer!.acked.find((a) => a.at > receivedAt)?.at,
      10_000,
    );
    await writer!.stop();
    expect(await lostThrough(info, r.newPrimary!, writer!)).toEqual([]);
    writer = undefined;
    // Figures for the record, not assertions: kill → alert → first acknowledged write.
    console.log(`kill→alert ${receivedAt - killedAt} ms, alert→first ack ${firstAck - receivedAt} ms`);

    // The resolved notification of that very alert (as Alertmanager words it) and a lag alert sent
    // through Alertmanager reach the receiver, which records them and starts nothing. (Waiting for
    // Alertmanager's own resolved notification would take the rule's one-minute look-back.)
    const recorded = () => logged.filter((l) => /starts nothing|ignored/.test(l.msg)).length;
    const before = recorded();
    const token = readFileSync(info.secrets.webhookTokenFile, 'utf8').trim();
    const resolved = await fetch(`${alerting().webhook}/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        version: '4',
        status: 'resolved',
        receiver: 'successover',
        alerts: [
          {
            status: 'resolved',
            labels: input.source!.alert!.labels,
            startsAt: input.source!.alert!.startsAt,
            endsAt: new Date().toISOString(),
            fingerprint: input.source!.alert!.fingerprint,
          },
        ],
      }),
    });
    expect(resolved.status).toBeLessThan(300);
    expect(await resolved.json()).not.toHaveProperty('workflowId');
    await amAlert({
      alertname: 'MariaDBReplicationLag',
      cluster: 'lab',
      instance: 'db3',
      severity: 'warning',
    });
    await until(
      'the receiver to record both',
      async () => (recorded() >= before + 2 ? true : undefined),
      20_000,
    );
    const after = await client.workflow.getHandle(id).describe();
    expect(after.runId).toBe(run.runId);
    await client.workflow.getHandle(r.fenceWatch!).terminate('test over');
  });
});
