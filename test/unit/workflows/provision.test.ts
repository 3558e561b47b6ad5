// Replica provisioning, its main paths and refusals, with the real workflow code and the fake
// cluster's activities (db1 primary, db2/db3 replicas, db4 an empty server in the inventory).
import { RUNBOOKS, type ProvisionReplicaInput } from '../../../domain/runbook';
import { provisionReplica } from '../../../workflows';
import { provisionWorkflowId } from '../../../workflows/api';
import { failureOf, withWorker, type WorkerContext } from './env';
import { FakeCluster, HOST_KEY } from './fakeCluster';

function start(ctx: WorkerContext, input: Partial<ProvisionReplicaInput> = {}) {
  const host = input.host ?? 'db4';
  return ctx.client.workflow.start(provisionReplica, {
    workflowId: provisionWorkflowId(ctx.fake.name, host),
    taskQueue: ctx.taskQueue,
    args: [{ cluster: ctx.fake.name, host, catchUpTimeoutSeconds: 30, lockTimeoutSeconds: 0, ...input }],
  });
}

const fourHosts = () => new FakeCluster({ hosts: 4, empty: ['db4'] });
/** Activities that change the target or the cluster. */
const CHANGES = ['copyBackup', 'startReplica', 'checksumAtCommonPosition'] as const;

describe('provision replica', () => {
  test.concurrent(
    'main path: copy from the best replica, replicate from the primary under the lock, catch up, checksum, verify',
    async () => {
      const fake = fourHosts();
      fake.set('db3', { replication: { ...fake.node('db3').replication!, lagSeconds: 3 } }); // db2 lags least
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx)).result();
        expect(r).toMatchObject({ ok: true, cluster: fake.name, host: 'db4', donor: 'db2', primary: 'db1' });
        expect(r.gtidPosition).toBe('0-1-100');
        expect(r.checksum).toMatchObject({ reference: 'db2', equal: true, position: '0-1-100' });
        expect(fake.callsOf('copyBackup')).toEqual([
          { cluster: fake.name, donor: 'db2', target: 'db4', method: r.method, wipe: false },
        ]);
        expect(fake.callsOf('startReplica')).toEqual([
          { cluster: fake.name, host: 'db4', source: 'db1', gtidPosition: '0-1-100' },
        ]);
        // The copy takes no lock; only "find the primary -> start replication" does.
        const names = fake.names();
        const at = (n: string) => names.indexOf(n);
        expect(at('copyBackup')).toBeLessThan(at('acquireClusterLock'));
        expect(names.slice(at('acquireClusterLock'), at('releaseClusterLock') + 1)).toEqual([
          'acquireClusterLock',
          'inspectCluster',
          'startReplica',
          'releaseClusterLock',
        ]);
        expect(at('releaseClusterLock')).toBeLessThan(at('replicationProgress'));
        expect(at('replicationProgress')).toBeLessThan(at('checksumAtCommonPosition'));
        expect(fake.lock).toBeUndefined();
        expect(fake.node('db4').replication?.source).toBe('db1');
        const d = await ctx.client.workflow.getHandle(provisionWorkflowId(fake.name, 'db4')).describe();
        expect(d.searchAttributes).toMatchObject({
          Cluster: [fake.name],
          Runbook: [RUNBOOKS.provision],
          RunbookPhase: ['done'],
        });
      });
    },
  );

  test.concurrent('a donor and a method given are used; verify none skips the checksum', async () => {
    const fake = fourHosts();
    await withWorker(fake, async (ctx) => {
      const r = await (await start(ctx, { donor: 'db3', method: 'logical', verify: 'none' })).result();
      expect(r).toMatchObject({ donor: 'db3', method: 'logical' });
      expect(r.checksum).toMatchObject({ equal: null, skipped: 'verify: none' });
      expect(fake.callsOf('copyBackup')[0]).toMatchObject({ donor: 'db3', method: 'logical' });
      expect(fake.names('checksumAtCommonPosition')).toEqual([]);
    });
  });

  test.concurrent('a new host from the input joins the inventory first, and is provisioned', async () => {
    const fake = new FakeCluster({ hosts: 3 });
    await withWorker(fake, async (ctx) => {
      const newHost = { address: '10.0.0.20', ssh: { hostKey: HOST_KEY } };
      const r = await (await start(ctx, { host: 'db9', newHost })).result();
      expect(r.inventory).toEqual({ added: true, inventoryFile: '/etc/successover/inventory.yaml' });
      expect(fake.names()[0]).toBe('addInventoryHost');
      expect(fake.callsOf('addInventoryHost')[0]).toMatchObject({
        cluster: fake.name,
        host: { name: 'db9', ...newHost },
      });
      expect(fake.node('db9').replication?.source).toBe('db1');
      expect(fake.names('removeInventoryHost')).toEqual([]);
    });
  });

  test.concurrent(
    'refused when the target holds data (no wipe): nothing copied, no lock, a host the run added is taken out again',
    async () => {
      const fake = new FakeCluster({ hosts: 3 });
      fake.mocks.addInventoryHost = ({ host }, f) => {
        const { name, ...fields } = host;
        f.addHost(name, fields);
        // A server with someone's data on it, not replicating.
        f.nodes.set(name, {
          name,
          reachable: true,
          version: '10.11.6-MariaDB',
          readOnly: true,
          replication: null,
          gtidExecuted: '0-9-5',
          gtidHistory: '0-9-5',
        });
        return { added: true, inventoryFile: '/etc/successover/inventory.yaml' };
      };
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(
          await start(ctx, { host: 'db9', newHost: { address: '10.0.0.20', ssh: { hostKey: HOST_KEY } } }),
        );
        expect(f.type).toBe('Refused');
        expect(f.message).toMatch(
          new RegExp(`^provision-replica on ${fake.name} refused, nothing was changed: `),
        );
        expect(f.message).toContain('db9');
        expect(fake.names(...CHANGES, 'acquireClusterLock')).toEqual([]);
        expect(fake.callsOf('removeInventoryHost')).toEqual([{ cluster: fake.name, host: 'db9' }]);
        expect(fake.spec.hosts.map((h) => h.name)).toEqual(['db1', 'db2', 'db3']);
      });
    },
  );

  test.concurrent('refused for a host the inventory does not know', async () => {
    const fake = fourHosts();
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx, { host: 'db7' }));
      expect(f.type).toBe('Refused');
      expect(f.message).toContain('db7');
      expect(fake.names()).toEqual(['loadClusterSpec']);
    });
  });

  test.concurrent(
    'the primary moved during the copy: replication starts from the new one, with a warning',
    async () => {
      const fake = fourHosts();
      fake.mocks.copyBackup = ({ method }, f) => {
        // A planned successover db1 -> db3 ran while the copy streamed.
        const fromDb3 = { ...f.node('db2').replication!, source: 'db3' };
        f.set('db3', { readOnly: false, replication: null });
        f.set('db1', { readOnly: true, replication: fromDb3 });
        f.set('db2', { replication: fromDb3 });
        f.traffic = ['db3'];
        return {
          method,
          bytes: 1e6,
          rows: null,
          gtidPosition: '0-1-100',
          ms: 100,
          phases: [],
          accounts: null,
        };
      };
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx, { donor: 'db2' })).result();
        expect(r.primary).toBe('db3');
        expect(r.warnings).toContain('the primary moved from db1 to db3 during the copy');
        expect(fake.callsOf('startReplica')[0]).toMatchObject({ source: 'db3' });
      });
    },
  );

  test.concurrent(
    'the cluster lock stays taken past lockTimeoutSeconds: LockTimeout, the copy is kept, replication not started',
    async () => {
      const fake = fourHosts();
      const other = {
        workflowId: `planned-successover/${fake.name}`,
        runId: 'r-1',
        runbook: RUNBOOKS.planned,
      };
      fake.lock = other;
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx, { lockTimeoutSeconds: 0 }));
        expect(f.type).toBe('LockTimeout');
        expect(f.message).toContain(`db4 holds a complete copy, but the cluster lock stayed taken for 0 s`);
        expect(f.message).toContain(other.workflowId);
        expect(fake.names('copyBackup')).toEqual(['copyBackup']);
        expect(fake.names('startReplica', 'releaseClusterLock')).toEqual([]);
        expect(fake.lock).toBe(other);
      });
    },
  );

  test.concurrent(
    'the checksum differs: ChecksumMismatch naming the tables, after replication was started and the lock released',
    async () => {
      const fake = fourHosts();
      fake.mocks.checksumAtCommonPosition = () => ({
        position: '0-1-100',
        tables: [{ name: 'app.t1', reference: '111', host: '222', equal: false, rows: 10 }],
        equal: false,
      });
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx));
        expect(f.type).toBe('ChecksumMismatch');
        expect(f.message).toMatch(
          /^db4 replicates from db1, but at 0-1-100 its data differs from db2's: .*app\.t1/,
        );
        expect(f.message).toContain('wipe: true');
        expect(fake.names('startReplica')).toEqual(['startReplica']);
        expect(fake.lock).toBeUndefined();
      });
    },
  );

  test.concurrent("the new replica's SQL thread fails while catching up: ReplicationFailed", async () => {
    const fake = fourHosts();
    fake.mocks.replicationProgress = () => ({
      ioRunning: 'yes',
      sqlRunning: false,
      lastError: "Duplicate entry '1' for key 'PRIMARY'",
      lagSeconds: null,
      gtidDistance: 5,
    });
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx));
      expect(f.type).toBe('ReplicationFailed');
      expect(f.message).toContain("db4's SQL thread failed: Duplicate entry");
      expect(fake.names('checksumAtCommonPosition')).toEqual([]);
    });
  });
  test.concurrent(
    'no primary after the copy: NoPrimary, replication not started, the lock released',
    async () => {
      const fake = fourHosts();
      fake.mocks.copyBackup = ({ method }, f) => {
        f.kill('db1'); // the primary died while the copy streamed
        return {
          method,
          bytes: 1e6,
          rows: null,
          gtidPosition: '0-1-100',
          ms: 100,
          phases: [],
          accounts: null,
        };
      };
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx));
        expect(f.type).toBe('NoPrimary');
        expect(f.message).toMatch(
          /^db4 holds a complete copy at 0-1-100, but .* has no primary to replicate from/,
        );
        expect(fake.names('startReplica')).toEqual([]);
        expect(fake.names('acquireClusterLock', 'releaseClusterLock')).toEqual([
          'acquireClusterLock',
          'releaseClusterLock',
        ]);
        expect(fake.lock).toBeUndefined();
      });
    },
  );

  test.concurrent(
    'the copy is ahead of the primary: Diverged, replication not started, the lock released',
    async () => {
      const fake = fourHosts();
      fake.mocks.copyBackup = ({ method }) => ({
        method,
        bytes: 1e6,
        rows: null,
        gtidPosition: '0-1-150',
        ms: 100,
        phases: [],
        accounts: null,
      });
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx));
        expect(f.type).toBe('Diverged');
        expect(f.message).toContain("the copy's position 0-1-150 has transactions the primary db1 lacks");
        expect(fake.names('startReplica')).toEqual([]);
        expect(fake.lock).toBeUndefined();
      });
    },
  );
});
