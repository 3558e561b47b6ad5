// Planned-successover refusals whose conditions take a real replication state to create: a
// target that lags (a delayed replica: its SQL thread holds back what the primary sent) and a
// target with an errant transaction (written on the replica itself). Each run must be refused
// with the reason named, and leave the cluster exactly as it found it.
import { clusterSnapshot, failedRun, planned } from './clusterSnapshot';
import { query, rootConnection, slaveStatus, startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';

let lab: LabFixture;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
});
afterAll(async () => {
  await lab?.down();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Seconds_Behind_Master, what the preflight's lag reading comes from. */
async function lagOf(host: string): Promise<number | null> {
  const v = (await slaveStatus(lab.info, host))?.Seconds_Behind_Master;
  return v === null || v === undefined ? null : Number(v);
}

async function setDelay(host: string, seconds: number): Promise<void> {
  await query(lab.info, host, 'STOP SLAVE');
  await query(lab.info, host, `CHANGE MASTER TO MASTER_DELAY = ${Number(seconds)}`);
  await query(lab.info, host, 'START SLAVE');
}

/** Both replicas have applied everything db1 has, and their threads run. */
async function settled(): Promise<void> {
  await waitFor('replicas caught up with db1', async () => {
    const [p] = await query(lab.info, 'db1', 'SELECT @@gtid_binlog_pos AS pos');
    for (const h of ['db2', 'db3']) {
      const st = await slaveStatus(lab.info, h);
      const [r] = await query(lab.info, h, 'SELECT @@gtid_slave_pos AS pos');
      if (st?.Slave_IO_Running !== 'Yes' || st?.Slave_SQL_Running !== 'Yes' || r.pos !== p.pos)
        return undefined;
    }
    return true;
  });
}

describe('planned successover refusals on the netns lab', () => {
  test('a target lagging beyond maxLagSeconds is refused, force overrides only that, nothing changes', async () => {
    // A delayed replica: the IO thread has the primary's writes, the SQL thread waits to apply
    // them, and Seconds_Behind_Master grows with the age of the oldest unapplied one.
    await setDelay('db2', 300);
    try {
      await query(
        lab.info,
        'db1',
        'CREATE TABLE IF NOT EXISTS app.lag_probe (id INT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))',
      );
      await query(lab.info, 'db1', 'INSERT INTO app.lag_probe () VALUES ()');
      const lag = await waitFor('db2 lags 3 s', async () => {
        const l = await lagOf('db2');
        return l !== null && l >= 3 ? l : undefined;
      });
      await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
        const before = await clusterSnapshot(lab);
        expect(before.nodes.find((n) => n.name === 'db2')?.delay).toBe(300);

        const r = await failedRun(client, taskQueue, { cluster: 'lab', target: 'db2', maxLagSeconds: 1 });
        expect(r.type).toBe('Refused');
        expect(r.message).toMatch(
          /planned-successover on lab refused, nothing was changed: .*db2 lags \d+ s behind db1, more than maxLagSeconds 1: wait for it to catch up \(force overrides this check\)/,
        );
        const reported = Number(/db2 lags (\d+) s/.exec(r.message)?.[1]);
        expect(reported).toBeGreaterThanOrEqual(lag);
        expect(await clusterSnapshot(lab)).toEqual(before);

        // force turns exactly that refusal into a recorded override (a dry run: the delayed
        // target would make a real run wait minutes for its catch-up).
        const forced = await planned(client, taskQueue, {
          cluster: 'lab',
          target: 'db2',
          maxLagSeconds: 1,
          force: true,
          dryRun: true,
        });
        expect(forced).toMatchObject({ ok: true, dryRun: true, primary: 'db1', target: 'db2' });
        expect(forced.forced).toEqual([expect.stringMatching(/^db2 lags \d+ s behind db1/)]);
        expect(await clusterSnapshot(lab)).toEqual(before);
      });
    } finally {
      await setDelay('db2', 0);
    }
    await settled();
  });

  test('an errant transaction on the target is refused, with or without force, nothing changes', async () => {
    await settled();
    // Root on the socket has SUPER, so read_only does not stop it, and the write is binlogged
    // (sql_log_bin=1) under db3's server id: a GTID db1 never had. Replication still runs: db1
    // writes nothing more in this file, so strict mode never meets the out-of-order sequence.
    const c = await rootConnection(lab.info, 'db3');
    try {
      await c.query('SET SESSION sql_log_bin = 1');
      await c.query('CREATE DATABASE IF NOT EXISTS scratch');
      await c.query('CREATE TABLE scratch.errant (id INT PRIMARY KEY)');
    } finally {
      c.destroy();
    }
    const [{ state }] = await query(lab.info, 'db3', 'SELECT @@gtid_binlog_state AS state');
    const errant = /\b0-3-(\d+)\b/.exec(String(state));
    expect(errant).not.toBeNull();

    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const before = await clusterSnapshot(lab);
      expect(before.nodes.map((n) => [n.name, n.readOnly, n.io, n.sql])).toEqual([
        ['db1', false, null, null],
        ['db2', true, 'Yes', 'Yes'],
        ['db3', true, 'Yes', 'Yes'],
      ]);
      for (const force of [false, true]) {
        const r = await failedRun(client, taskQueue, { cluster: 'lab', target: 'db3', force });
        expect(r.type).toBe('Refused');
        expect(r.message).toMatch(
          new RegExp(
            `refused, nothing was changed: .*db3 has errant transactions \\(errant transactions not on the primary: 0-3-${errant![1]} \\(primary has nothing from server 3 in domain 0\\)\\): promoting it would lose them or replay them twice; remove them first`,
          ),
        );
        expect(r.message).not.toMatch(/errant[^;]*force overrides/);
        expect(await clusterSnapshot(lab)).toEqual(before);
      }
    });
  });
});
