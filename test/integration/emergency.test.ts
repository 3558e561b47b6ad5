// Emergency recovery on a real netns lab with semi-sync: a false alarm, refusals that leave the
// cluster as it was, kill -9 of the primary under write load (no acknowledged write lost), the
// fence watch once the old primary is back, the anti-flapping window and the approval gate.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { lostThrough } from '../../bench/harness';
import { Writer } from '../../bench/writer';
import { failureReason } from '../../cli/runbooks';
import type { EmergencyRecoveryInput } from '../../domain/runbook';
import { labKill, labStart, labStatus } from '../../lab/index';
import { emergencyRecovery, fenceWatch } from '../../workflows';
import { workflowIdFor, type Progress } from '../../workflows/api';
import { inventoryVariant } from './inventoryVariant';
import { rootConnection, slaveStatus, startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';

let lab: LabFixture;
let writer: Writer | undefined;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3, semiSync: true });
});
afterAll(async () => {
  await writer?.stop();
  await lab?.down();
});

async function snapshot() {
  const s = await labStatus({ dir: lab.dir });
  return {
    vip: s.vipHolders,
    nodes: s.hosts.map((h) => ({
      name: h.name,
      up: h.up,
      readOnly: h.readOnly,
      io: h.ioRunning,
      sql: h.sqlRunning,
    })),
  };
}

const recover = (client: Client, taskQueue: string, input: Omit<EmergencyRecoveryInput, 'cluster'>) =>
  client.workflow.start(emergencyRecovery, {
    taskQueue,
    workflowId: workflowIdFor('emergency-recovery', 'lab'),
    args: [{ cluster: 'lab', probeIntervalMs: 200, ...input }],
    searchAttributes: { Cluster: ['lab'], Runbook: ['emergency-recovery'] },
  });

async function refusal(client: Client, taskQueue: string, input: Omit<EmergencyRecoveryInput, 'cluster'>) {
  try {
    await (await recover(client, taskQueue, input)).result();
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowFailedError);
    return failureReason(e);
  }
  throw new Error('expected a refusal');
}

async function expectPrimary(primary: string, replicas: string[]) {
  const s = await labStatus({ dir: lab.dir });
  expect(s.vipHolders).toEqual([primary]);
  expect(s.hosts.find((h) => h.name === primary)?.readOnly).toBe(false);
  const address = lab.info.hosts.find((h) => h.name === primary)?.address;
  for (const r of replicas) {
    const st = await slaveStatus(lab.info, r);
    expect([r, st?.Master_Host, st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([
      r,
      address,
      'Yes',
      'Yes',
    ]);
  }
}

describe('emergency recovery on the netns lab', () => {
  test('an alert while the primary is healthy is a false alarm that changes nothing', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const before = await snapshot();
      const r = await (await recover(client, taskQueue, { reason: 'test alert' })).result();
      expect(r.outcome).toBe('false-alarm');
      expect(r.primary).toBe('db1');
      expect(r.reason).toMatch(/db1 answered probe 1/);
      expect(await snapshot()).toEqual(before);
    });
  });

  test('kill -9 of the primary: refusals first, then recovered under load with nothing acknowledged lost', async () => {
    const { info } = lab;
    writer = Writer.forLab(info);
    await writer.start();
    await new Promise((r) => setTimeout(r, 1000));
    await labKill('db1', { dir: lab.dir });
    const killedAt = Date.now();
    const dead = await snapshot();

    // Every candidate must_not: refused with that reason, the cluster untouched.
    const mustNot = inventoryVariant(info.inventory, 'must-not', (c) => {
      for (const h of c.hosts) h.promotion = 'must_not';
    });
    await withWorker(mustNot, async ({ client, taskQueue }) => {
      const r = await refusal(client, taskQueue, {});
      expect(r.type).toBe('Refused');
      expect(r.message).toMatch(
        /no replica of db1 may be promoted: db2: promotion rule must_not; db3: promotion rule must_not/,
      );
    });
    expect(await snapshot()).toEqual(dead);

    // An errant transaction on the best candidate: the default policy aborts, listing it. db2 is
    // preferred: the ranking orders by GTID score (a total order), so without it db3 would win
    // whenever it received two or more transactions of domain 0 that db2 did not.
    const preferDb2 = (c: { hosts: { name: string; promotion?: string }[] }) => {
      for (const h of c.hosts) if (h.name === 'db2') h.promotion = 'prefer';
    };
    const errantPreferred = inventoryVariant(info.inventory, 'errant-preferred', preferDb2);
    const root = await rootConnection(info, 'db2');
    try {
      await root.query('SET SESSION gtid_domain_id = 9');
      await root.query('CREATE TABLE IF NOT EXISTS app.errant_note (id INT PRIMARY KEY)');
    } finally {
      root.destroy();
    }
    await withWorker(errantPreferred, async ({ client, taskQueue }) => {
      const r = await refusal(client, taskQueue, {});
      expect(r.message).toMatch(/db2 .*errant.*9-2-1/);
      expect(r.message).toMatch(/errantGtids: ignore/);
    });
    expect(await snapshot()).toEqual(dead);

    // errantGtids: ignore honours the operator's choice: db2 (preferred) is promoted, the errant GTID
    // reported.
    // Hooks: a command with the run's facts in SUCCESSOVER_* variables, and an HTTP POST.
    const hookFile = join(lab.dir, 'hook.log');
    const posted: unknown[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posted.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((res) => receiver.listen(0, '127.0.0.1', res));
    const port = (receiver.address() as AddressInfo).port;
    const ignore = inventoryVariant(info.inventory, 'ignore-errant', (c) => {
      preferDb2(c);
      c.policy = { ...c.policy, errantGtids: 'ignore' };
      Object.assign(c, {
        hooks: [
          {
            command: [
              'sh',
              '-c',
              `env | grep ^SUCCESSOVER_ | sort >> '${hookFile}'; echo --- >> '${hookFile}'`,
            ],
          },
          { url: `http://127.0.0.1:${port}/hook`, on: ['succeeded'] },
        ],
      });
    });
    await withWorker(ignore, async ({ client, taskQueue }) => {
      const handle = await recover(client, taskQueue, { reason: 'db1 killed' });
      const r = await handle.result();
      expect(r.outcome).toBe('recovered');
      expect([r.primary, r.newPrimary]).toEqual(['db1', 'db2']);
      expect(r.warnings.join('\n')).toMatch(/promoted anyway \(policy errantGtids: ignore\)/);
      expect(r.evidence.some((e) => e.from === 'db3' && e.says === 'down')).toBe(true);
      // db1's mysqld is down (refused) and starts read-only (its option file): the VIP stayed on it
      // until the promotion, and came off it then.
      expect(r.fencing).toMatchObject({
        readOnly: { status: 'failed' },
        traffic: { status: 'deferred' },
        optionFile: { status: 'done' },
        fenced: true,
      });
      const steps = r.timeline.map((s) => s.step);
      for (const s of [
        'lock',
        'fence',
        'promote',
        'traffic to new primary',
        'traffic off old primary',
        'repoint',
        'verify invariants',
      ])
        expect(steps).toContain(s);
      expect((await labStatus({ dir: lab.dir })).vipHolders).toEqual(['db2']);
      const progress = await handle.query<Progress>('progress');
      expect(progress.phase).toBe('recovered');
      expect(r.fenceWatch).toBe('fence-watch/lab/db1');
      const hooked = readFileSync(hookFile, 'utf8');
      expect(hooked).toMatch(/SUCCESSOVER_EVENT=detected[\s\S]*SUCCESSOVER_PRIMARY=db1/);
      expect(hooked).toMatch(/SUCCESSOVER_EVENT=succeeded[\s\S]*SUCCESSOVER_NEW_PRIMARY=db2/);
      expect(posted).toEqual([
        expect.objectContaining({ cluster: 'lab', event: 'succeeded', newPrimary: 'db2' }),
      ]);
      receiver.close();
      await expectPrimary('db2', ['db3']);

      // Writes resume on db2 and none that was acknowledged is missing (semi-sync).
      const resumed = () => writer!.acked.some((a) => a.at > killedAt);
      for (let i = 0; i < 100 && !resumed(); i++) await new Promise((res) => setTimeout(res, 100));
      expect(resumed()).toBe(true);
      await writer!.stop();
      expect(await lostThrough(info, 'db2', writer!)).toEqual([]);
      writer = undefined;

      // The old primary comes back (read-only, as every lab node starts): the fence watch fences
      // it and reports what it has that db2 lacks.
      await labStart('db1', { dir: lab.dir });
      const watch = await client.workflow.getHandle<typeof fenceWatch>('fence-watch/lab/db1').result();
      expect(watch.fence?.readOnly.status).toBe('done');
      expect(watch.lost.known).toBe(true);
      const s = await labStatus({ dir: lab.dir });
      expect(s.hosts.find((h) => h.name === 'db1')?.readOnly).toBe(true);
      expect(s.vipHolders).toEqual(['db2']);
    });
  });

  test('inside the anti-flapping window a recovery needs an acknowledgement; approval gates it', async () => {
    const { info } = lab;
    await labKill('db2', { dir: lab.dir });
    const dead = await snapshot();
    const guarded = inventoryVariant(info.inventory, 'guarded', (c) => {
      c.policy = {
        ...c.policy,
        recoveryBlockSeconds: 3600,
        requireApproval: true,
        approvalTimeoutSeconds: 60,
      };
    });
    await withWorker(guarded, async ({ client, taskQueue }) => {
      const blocked = await refusal(client, taskQueue, {});
      expect(blocked.message).toMatch(/blocked until .*acknowledge with --ack-flapping/);
      expect(await snapshot()).toEqual(dead);

      // Acknowledged, it waits for a human: an abort changes nothing.
      const waitForApproval = async (h: Awaited<ReturnType<typeof recover>>) => {
        for (let i = 0; i < 200; i++) {
          const p = await h.query<Progress>('progress');
          if (p.phase === 'approval') return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('the run never asked for approval');
      };
      const first = await recover(client, taskQueue, { ackFlapping: true });
      await waitForApproval(first);
      await first.executeUpdate('abort', { args: [{ by: 'test', comment: 'not now' }] });
      const aborted = await first.result().then(
        () => null,
        (e: unknown) => failureReason(e).message,
      );
      expect(aborted).toMatch(/aborted by test before anything was changed: not now/);
      expect(await snapshot()).toEqual(dead);

      const second = await recover(client, taskQueue, { ackFlapping: true });
      await waitForApproval(second);
      await expect(first.executeUpdate('approve', { args: [{}] })).rejects.toThrow();
      await second.executeUpdate('approve', { args: [{ by: 'test' }] });
      const r = await second.result();
      expect([r.outcome, r.primary, r.newPrimary]).toEqual(['recovered', 'db2', 'db3']);
      expect(r.warnings.join('\n')).toMatch(/acknowledged/);
      expect(r.warnings.join('\n')).toMatch(/db1 replicates from no one/);
      await expectPrimary('db3', []);
      // db2 stays down: end its fence watch, which would otherwise outlive the test.
      await client.workflow.getHandle(r.fenceWatch!).terminate('test over');
    });
  });
});
