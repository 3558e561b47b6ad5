// The checksum stops its reference replica (and the new one) for its whole duration. Whatever ends
// it, a failure after the retries (a worker that died), a cancellation, the provisioning run
// starts replication on both again (workflows/provisionReplica.ts step 7b).
import { ApplicationFailure } from '@temporalio/common';
import type { ProvisionReplicaInput } from '../../../domain/runbook';
import { provisionReplica } from '../../../workflows';
import { provisionWorkflowId } from '../../../workflows/api';
import { failureOf, until, waitForPhase, withWorker, type WorkerContext } from './env';
import { FakeCluster } from './fakeCluster';

function start(ctx: WorkerContext, input: Partial<ProvisionReplicaInput> = {}) {
  return ctx.client.workflow.start(provisionReplica, {
    workflowId: provisionWorkflowId(ctx.fake.name, 'db4'),
    taskQueue: ctx.taskQueue,
    args: [
      { cluster: ctx.fake.name, host: 'db4', catchUpTimeoutSeconds: 30, lockTimeoutSeconds: 0, ...input },
    ],
  });
}

const fourHosts = () => new FakeCluster({ hosts: 4, empty: ['db4'] });

/** What the real checksum does first: both replicas stop applying. */
function stopBoth(f: FakeCluster, host: string, reference: string): void {
  for (const name of [host, reference])
    f.set(name, { replication: { ...f.node(name).replication!, ioRunning: 'no', sqlRunning: false } });
}

describe('checksum reference restarted', () => {
  test.concurrent(
    'every attempt dies after stopping both (retries used up): replication started again on both, the run fails',
    async () => {
      const fake = fourHosts();
      fake.mocks.checksumAtCommonPosition = ({ host, reference }, f) => {
        stopBoth(f, host, reference);
        // As a worker's death looks to the workflow: the attempt fails, retryably.
        throw ApplicationFailure.retryable('worker lost', 'WorkerLost');
      };
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx));
        expect(f.rootType).toBe('WorkerLost');
        expect(fake.calls.filter((c) => c.name === 'checksumAtCommonPosition').map((c) => c.attempt)).toEqual(
          [1, 2, 3],
        );
        const names = fake.names('checksumAtCommonPosition', 'restartChecksumReplicas');
        expect(names[names.length - 1]).toBe('restartChecksumReplicas');
        expect(fake.callsOf('restartChecksumReplicas')).toEqual([
          { cluster: fake.name, host: 'db4', reference: 'db2' },
        ]);
        expect(fake.node('db2').replication).toMatchObject({
          source: 'db1',
          ioRunning: 'yes',
          sqlRunning: true,
        });
        expect(fake.node('db4').replication).toMatchObject({ ioRunning: 'yes', sqlRunning: true });
        expect(fake.lock).toBeUndefined();
      });
    },
  );

  test.concurrent('the run is cancelled during the checksum: replication started again on both', async () => {
    const fake = fourHosts();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    fake.mocks.checksumAtCommonPosition = async ({ host, reference }, f) => {
      stopBoth(f, host, reference);
      await Promise.race([released, new Promise((r) => setTimeout(r, 5000))]);
      throw ApplicationFailure.nonRetryable('cancelled', 'Cancelled');
    };
    await withWorker(fake, async (ctx) => {
      const handle = await start(ctx);
      await waitForPhase(handle, 'verify data');
      await until('the checksum runs', () => fake.called('checksumAtCommonPosition'));
      await handle.cancel();
      await until('replication restarted', () => fake.called('restartChecksumReplicas'));
      release();
      const f = await failureOf(handle);
      expect(f.chain[0]).toBe('CancelledFailure');
      expect(fake.node('db2').replication).toMatchObject({ ioRunning: 'yes', sqlRunning: true });
    });
  });

  test.concurrent('a checksum that succeeds restarts them itself: no extra call', async () => {
    const fake = fourHosts();
    await withWorker(fake, async (ctx) => {
      const r = await (await start(ctx)).result();
      expect(r.checksum).toMatchObject({ reference: 'db2', equal: true });
      expect(fake.names('restartChecksumReplicas')).toEqual([]);
      expect(r.timeline.filter((s) => s.step === 'catch up')[0].detail).toMatch(/after 1 poll\(s\)$/);
    });
  });
});
