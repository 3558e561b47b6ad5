// The provisioning activities on a real lab under a write load: an empty host (lab add-host) gets
// a logical copy from a replica, replicates, catches up and matches the other replica table for
// table at one GTID position; then the same host is wiped and gets a physical copy, with the same
// checks. Each method is interrupted once mid-stream first: the marker stays, and the next
// attempt cleans up and completes. Credentials never appear in ps, heartbeats or results.
//
// PROVISION_TEST_MB sets the generated data size (default 64); the figures are printed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { labAddHost } from '../../lab/index';
import { loadInventory } from '../../worker/loadInventory';
import { resolveSecrets } from '../../worker/secrets';
import { ActivityResources, createActivities } from '../../activities';
import type { CopyBackupResult, CopyProgress } from '../../activities/provision';
import type { Inventory } from '../../domain/inventory';
import type { Secrets } from '../../activities/deps';
import { Writer } from '../../bench/writer';
import { waitFor } from '../../lab/sh';
import { query, startLab, type LabFixture } from './labFixture';

jest.setTimeout(30 * 60_000);

const MB = Number(process.env.PROVISION_TEST_MB ?? 64);
const ROW_BYTES = 1000;

let lab: LabFixture;
let inventory: Inventory;
let secrets: Secrets;
let writer: Writer;
const resources = new ActivityResources();
let acts: ReturnType<typeof createActivities>;
/** Everything the activities reported, searched for secrets at the end. */
const reported: unknown[] = [];
const psDuringCopies: string[] = [];

/** One activity run in a fresh mock environment (a cancelled one cannot run another). */
function run<P extends unknown[], R>(
  fn: (...args: P) => Promise<R>,
  ...args: P
): { env: MockActivityEnvironment; result: Promise<R> } {
  const env = new MockActivityEnvironment();
  env.on('heartbeat', (d: unknown) => reported.push(d));
  const result = (env.run(fn, ...args) as Promise<R>).then((r) => {
    reported.push(r);
    return r;
  });
  return { env, result };
}
const call = <P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P) => run(fn, ...args).result;

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

const datadirOf = (host: string) => {
  const h = inventory.clusters[0].hosts.find((x) => x.name === host);
  if (!h?.service) throw new Error(`${host} has no service section`);
  return h.service.datadir;
};
const markerFile = (host: string) => `${datadirOf(host)}.successover/provision.json`;

async function one(host: string, sql: string): Promise<Record<string, unknown>> {
  return (await query(lab.info, host, sql))[0] as Record<string, unknown>;
}

/** Runs a copy, cancels it once the stream has copied a quarter of the estimate, checks what it left. */
async function interruptedCopy(method: 'logical' | 'physical', wipe: boolean): Promise<void> {
  let cancelledAt: CopyProgress | undefined;
  const { env, result } = run(acts.copyBackup, {
    cluster: 'lab',
    donor: 'db2',
    target: 'db4',
    method,
    wipe,
  });
  env.on('heartbeat', (d: CopyProgress) => {
    if (!cancelledAt && d.phase === 'stream' && d.bytesCopied * 4 > d.totalBytesEstimate) {
      cancelledAt = d;
      env.cancel();
    }
  });
  const err = await failure(result);
  expect(err).toBeInstanceOf(CancelledFailure);
  expect(cancelledAt?.bytesCopied).toBeGreaterThan(0);
  // A half-restored server: the marker says so, whatever it holds.
  expect(existsSync(markerFile('db4'))).toBe(true);
  const target = await call(acts.inspectProvisionTarget, { cluster: 'lab', host: 'db4' });
  expect(target.inProgressMarker).toMatchObject({ method, donor: 'db2' });
  if (method === 'physical') expect(target.reachable).toBe(false);
  // The credentials went with the attempt.
  expect(existsSync(`${datadirOf('db4')}.successover/target.cnf`)).toBe(false);
  expect(existsSync(`${datadirOf('db2')}.successover`)).toBe(false);
}

/** The donor's data (tables and indexes, as inspectDonor reports it): a dump is larger (hex blobs). */
let donorDataBytes = 0;

function figures(r: CopyBackupResult): string {
  const mbps = r.bytes / 1e6 / (r.ms / 1000);
  const data = `donor data ${(donorDataBytes / 1e6).toFixed(0)} MB at ${(donorDataBytes / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s`;
  const stream = r.phases.find((p) => p.name === 'stream');
  const streamMbps = stream ? r.bytes / 1e6 / (stream.ms / 1000) : 0;
  const rows = r.rows === null ? '' : `, ${Math.round(r.rows / (r.ms / 1000))} rows/s`;
  return (
    `${r.method}: ${(r.bytes / 1e6).toFixed(1)} MB in ${(r.ms / 1000).toFixed(1)} s = ${mbps.toFixed(1)} MB/s` +
    ` (stream ${streamMbps.toFixed(1)} MB/s)${rows}; ${data}; phases ${r.phases.map((p) => `${p.name} ${p.ms} ms`).join(', ')}`
  );
}

async function catchesUpAndMatches(reference: string): Promise<void> {
  let progress = await call(acts.replicationProgress, { cluster: 'lab', host: 'db4', primary: 'db1' });
  const until = Date.now() + 120_000;
  while (!(progress.lagSeconds === 0 && progress.gtidDistance < 50)) {
    expect(progress.lastError).toBeNull();
    if (Date.now() > until) throw new Error(`db4 did not catch up: ${JSON.stringify(progress)}`);
    await new Promise((r) => setTimeout(r, 500));
    progress = await call(acts.replicationProgress, { cluster: 'lab', host: 'db4', primary: 'db1' });
  }
  expect(progress).toMatchObject({ ioRunning: 'yes', sqlRunning: true, lastError: null, lagSeconds: 0 });
  const before = writer.acked.length;
  const sums = await call(acts.checksumAtCommonPosition, { cluster: 'lab', host: 'db4', reference });
  expect(sums.tables.map((t) => t.name)).toEqual(['app.big', 'app.odd', 'app.writes']);
  for (const t of sums.tables) expect(t).toMatchObject({ equal: true });
  expect(sums.equal).toBe(true);
  expect(sums.tables[0].rows).toBeGreaterThan(0);
  // Both replicas run again, and the writes kept flowing through it all.
  for (const h of ['db4', reference]) {
    // The IO thread reports "Preparing" while it reconnects.
    const s = await waitFor(
      `${h} to replicate again`,
      async () => {
        const r = (await query(lab.info, h, 'SHOW SLAVE STATUS'))[0];
        return r.Slave_IO_Running === 'Yes' ? r : undefined;
      },
      10_000,
    );
    expect([s.Slave_IO_Running, s.Slave_SQL_Running]).toEqual(['Yes', 'Yes']);
    expect(s.Until_Condition).toBe('None');
  }
  expect(writer.acked.length).toBeGreaterThan(before);
}

beforeAll(async () => {
  lab = await startLab({ hosts: 3, mode: 'netns', semiSync: false });
  // A user data set: ~MB of 1 kB rows, odd values, a trigger, a routine, an account; all replicated.
  await query(
    lab.info,
    'db1',
    'CREATE TABLE app.big (id INT AUTO_INCREMENT PRIMARY KEY, k INT, pad CHAR(200), payload VARBINARY(800))',
  );
  await query(lab.info, 'db1', "INSERT INTO app.big (k, pad, payload) VALUES (1, 'x', RANDOM_BYTES(800))");
  const target = Math.ceil((MB * 1e6) / ROW_BYTES);
  for (let n = 1; n < target; n *= 2)
    await query(
      lab.info,
      'db1',
      `INSERT INTO app.big (k, pad, payload) SELECT k + id, MD5(RAND()), RANDOM_BYTES(800) FROM app.big LIMIT ${Math.min(n, target - n)}`,
    );
  await query(
    lab.info,
    'db1',
    'CREATE TABLE app.odd (id INT PRIMARY KEY, s VARCHAR(100), b BLOB, n INT, u TEXT CHARSET utf8mb4)',
  );
  await query(
    lab.info,
    'db1',
    'INSERT INTO app.odd VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)',
    [
      1,
      'it\'s (a), b; c\\d\n"e"',
      Buffer.from([0, 0x27, 0x5c, 0x0a, 0xff]),
      null,
      'zß€😀',
      2,
      '',
      Buffer.alloc(0),
      -1,
      null,
      3,
      'INSERT INTO x VALUES (1);',
      null,
      2147483647,
      '--',
    ],
  );
  await query(
    lab.info,
    'db1',
    'CREATE TRIGGER app.odd_n BEFORE INSERT ON app.odd FOR EACH ROW SET NEW.n = COALESCE(NEW.n, 0)',
  );
  await query(lab.info, 'db1', 'CREATE PROCEDURE app.touch() INSERT INTO app.odd (id, s) VALUES (100, "p")');
  await query(lab.info, 'db1', "CREATE USER 'reporter'@'%' IDENTIFIED BY 'rep-pw'");
  await query(lab.info, 'db1', "GRANT SELECT ON app.* TO 'reporter'@'%'");
  const pos = String((await one('db1', 'SELECT @@gtid_binlog_pos AS p')).p);
  for (const h of ['db2', 'db3'])
    expect(Number((await one(h, `SELECT MASTER_GTID_WAIT('${pos}', 1200) AS r`)).r)).toBe(0);

  writer = Writer.forLab(lab.info, { intervalMs: 5 });
  await writer.start();
  // The fixture's host list is what `query` reaches by socket.
  lab.info.hosts.push(await labAddHost('db4', { dir: lab.dir }));
  inventory = loadInventory(lab.info.inventory);
  secrets = resolveSecrets(inventory, lab.info.inventory);
  acts = createActivities({ inventory, secrets }, resources);
});

afterAll(async () => {
  await writer?.stop();
  await resources.close().catch(() => undefined);
  await lab?.down();
});

test('an empty target and a donor, inspected without changing anything', async () => {
  const target = await call(acts.inspectProvisionTarget, { cluster: 'lab', host: 'db4' });
  expect(target).toMatchObject({
    reachable: true,
    readOnly: true,
    replication: null,
    gtidCurrentPos: '',
    gtidBinlogPos: '',
    userSchemas: [],
    dataBytes: 0,
    datadir: datadirOf('db4'),
    serviceConfigured: true,
    inProgressMarker: null,
  });
  expect(target.diskFreeBytes).toBeGreaterThan(MB * 1e6);
  const donor = await call(acts.inspectDonor, { cluster: 'lab', host: 'db2' });
  expect(donor).toMatchObject({ tables: 3, datadir: datadirOf('db2'), hasMariadbBackup: true });
  expect(donor.dataBytes).toBeGreaterThan(MB * 0.8e6);
  donorDataBytes = donor.dataBytes;
  expect(donor.rowsEstimate).toBeGreaterThan(0);
  expect(existsSync(markerFile('db4'))).toBe(false);
});

test('logical: an interrupted copy leaves its marker; the next one cleans up, copies, replicates and matches', async () => {
  await interruptedCopy('logical', false);

  const { env, result } = run(acts.copyBackup, {
    cluster: 'lab',
    donor: 'db2',
    target: 'db4',
    method: 'logical',
    wipe: false,
  });
  env.on('heartbeat', (d: CopyProgress) => {
    if (d.phase === 'stream' && d.bytesCopied > 0 && psDuringCopies.length === 0)
      psDuringCopies.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
  });
  const copy = await result;
  console.log(figures(copy));
  expect(copy.method).toBe('logical');
  expect(copy.bytes).toBeGreaterThan(MB * 0.8e6);
  const bigRows = Number((await one('db2', 'SELECT COUNT(*) AS n FROM app.big')).n);
  // Every row of big and odd, and the writer's rows at the snapshot.
  expect(copy.rows).toBeGreaterThanOrEqual(bigRows + 3);
  expect(copy.gtidPosition).toMatch(/^0-1-\d+$/);
  expect(copy.accounts?.created).toBeGreaterThanOrEqual(1);
  expect(psDuringCopies).toHaveLength(1);

  // Restored without GTIDs of its own, positioned at the dump's snapshot, still marked.
  const t = await one('db4', 'SELECT @@gtid_binlog_pos AS bin, @@gtid_slave_pos AS slave, @@read_only AS ro');
  expect(t).toEqual({ bin: '', slave: copy.gtidPosition, ro: 1 });
  expect(existsSync(markerFile('db4'))).toBe(true);
  expect(await query(lab.info, 'db4', "SELECT User FROM mysql.user WHERE User = 'reporter'")).toHaveLength(1);
  expect(await query(lab.info, 'db4', "SHOW TRIGGERS FROM app LIKE 'odd'")).toHaveLength(1);
  expect(
    await query(lab.info, 'db4', "SHOW PROCEDURE STATUS WHERE Db = 'app' AND Name = 'touch'"),
  ).toHaveLength(1);
  expect(existsSync(`${datadirOf('db4')}.successover/target.cnf`)).toBe(false);

  const started = await call(acts.startReplica, {
    cluster: 'lab',
    host: 'db4',
    source: 'db1',
    gtidPosition: copy.gtidPosition,
  });
  expect(started).toEqual({ source: 'db1' });
  expect(existsSync(markerFile('db4'))).toBe(false);
  // Idempotent: a second call finds it replicating from db1 and leaves it so.
  await call(acts.startReplica, {
    cluster: 'lab',
    host: 'db4',
    source: 'db1',
    gtidPosition: copy.gtidPosition,
  });
  await catchesUpAndMatches('db2');
});

test('a target that holds data and replicates is refused without wipe, and left as it was', async () => {
  const err = await failure(
    call(acts.copyBackup, { cluster: 'lab', donor: 'db2', target: 'db4', method: 'logical', wipe: false }),
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe('Refused');
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as Error).message).toMatch(/holds data \(schemas app\).*wipe: true.*nothing was changed/);
  expect(existsSync(markerFile('db4'))).toBe(false);
  const s = (await query(lab.info, 'db4', 'SHOW SLAVE STATUS'))[0];
  expect([s.Slave_IO_Running, s.Slave_SQL_Running]).toEqual(['Yes', 'Yes']);

  // A physical copy onto a host without service commands is refused too.
  const noService = structuredClone(inventory);
  delete noService.clusters[0].hosts.find((h) => h.name === 'db4')?.service;
  const other = createActivities({ inventory: noService, secrets }, resources);
  const refused = await failure(
    call(other.copyBackup, { cluster: 'lab', donor: 'db2', target: 'db4', method: 'physical', wipe: true }),
  );
  expect((refused as ApplicationFailure).type).toBe('Refused');
  expect((refused as Error).message).toMatch(
    /add service \(datadir, startCommand, stopCommand\) to host db4/,
  );
});

test('physical with wipe: an interrupted copy leaves the server stopped and marked; the next one completes', async () => {
  await interruptedCopy('physical', true);

  const { env, result } = run(acts.copyBackup, {
    cluster: 'lab',
    donor: 'db2',
    target: 'db4',
    method: 'physical',
    wipe: true,
  });
  env.on('heartbeat', (d: CopyProgress) => {
    if (d.phase === 'stream' && d.bytesCopied > 0 && psDuringCopies.length === 1)
      psDuringCopies.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
  });
  const copy = await result;
  console.log(figures(copy));
  expect(copy).toMatchObject({ method: 'physical', rows: null, accounts: null });
  expect(copy.bytes).toBeGreaterThan(MB * 0.8e6);
  expect(copy.phases.map((p) => p.name)).toEqual(
    expect.arrayContaining([
      'stop target',
      'empty datadir',
      'stream',
      'prepare',
      'start target',
      'set position',
    ]),
  );
  const t = await one(
    'db4',
    'SELECT @@gtid_binlog_pos AS bin, @@gtid_slave_pos AS slave, @@read_only AS ro, @@server_id AS id',
  );
  expect(t).toEqual({ bin: '', slave: copy.gtidPosition, ro: 1, id: 4 });
  expect(existsSync(markerFile('db4'))).toBe(true);

  await call(acts.startReplica, {
    cluster: 'lab',
    host: 'db4',
    source: 'db1',
    gtidPosition: copy.gtidPosition,
  });
  expect(existsSync(markerFile('db4'))).toBe(false);
  await catchesUpAndMatches('db3');
});

test('no credential in ps during the copies, in heartbeats or in results', () => {
  expect(psDuringCopies).toHaveLength(2);
  // The copy's own processes were there when ps ran.
  expect(psDuringCopies[0]).toMatch(/mariadb-dump --defaults-extra-file=/);
  expect(psDuringCopies[1]).toMatch(/mariadb-backup --defaults-extra-file=/);
  for (const secret of [secrets.mysql.password, secrets.replication.password]) {
    for (const ps of psDuringCopies) expect(ps).not.toContain(secret);
    expect(JSON.stringify(reported)).not.toContain(secret);
  }
  expect(writer.errors).toBe(0);
});
