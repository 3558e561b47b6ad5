// The lab itself: a real topology in both modes, and `lab down` removing exactly what `lab up` made.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labHeal, labKill, labPartition, labStart, labStatus, labUp } from '../../lab/index';
import { appConnection, query, slaveStatus, startLab, uniquePrefix, type LabFixture } from './labFixture';
import { alive, linkNames, netnsNames, processesOf, sh, until } from './system';

const isRoot = process.getuid?.() === 0;

(isRoot ? describe : describe.skip)('lab, netns mode', () => {
  let lab: LabFixture;
  let dir: string;
  let unrelatedNs: string;
  let before: { netns: string[]; links: string[] };

  beforeAll(async () => {
    // A namespace and a file that are not the lab's: both must survive `lab down`.
    unrelatedNs = `${uniquePrefix()}-unrelated`;
    sh('ip', 'netns', 'add', unrelatedNs);
    dir = mkdtempSync(join(tmpdir(), 'solab-'));
    writeFileSync(join(dir, 'keep-me.txt'), 'not the lab\n');
    before = { netns: netnsNames(), links: linkNames() };
    lab = await startLab({ dir });
  });

  afterAll(async () => {
    await lab?.down();
    try {
      sh('ip', 'netns', 'del', unrelatedNs);
    } catch {
      // a failed test already reported it
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('comes up in under 15 s', () => {
    console.log(`lab up (3 hosts, netns) took ${lab.upMs} ms`);
    expect(lab.upMs).toBeLessThan(15_000);
    expect(lab.info.hosts.map((h) => h.netns)).toEqual([1, 2, 3].map((i) => `${lab.prefix}-db${i}`));
    expect(lab.info.hosts.map((h) => h.address)).toEqual(
      [11, 12, 13].map((i) => lab.subnet.replace(/0\/24$/, String(i))),
    );
  });

  it('replicates a write on the primary, made through the VIP, to every replica with its GTID', async () => {
    const app = await appConnection(lab.info);
    try {
      await app.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
      await app.query('INSERT INTO t VALUES (1, ?)', ['hello']);
    } finally {
      await app.end();
    }
    const [{ pos }] = await query(lab.info, 'db1', 'SELECT @@gtid_binlog_pos AS pos');
    expect(pos).toMatch(/^0-1-\d+$/);
    for (const h of ['db2', 'db3']) {
      const [{ r }] = await query(lab.info, h, 'SELECT MASTER_GTID_WAIT(?, 5) AS r', [pos]);
      expect(Number(r)).toBe(0);
      expect(await query(lab.info, h, 'SELECT v FROM app.t WHERE id = 1')).toEqual([{ v: 'hello' }]);
      const s = await slaveStatus(lab.info, h);
      expect(s).toMatchObject({
        Slave_IO_Running: 'Yes',
        Slave_SQL_Running: 'Yes',
        Master_Host: lab.info.hosts[0].address,
        Using_Gtid: 'Slave_Pos',
      });
    }
  });

  it('starts every node read-only (its own option file only, which says so) and only the primary is made writable', async () => {
    const ro = async (h: string) => Number((await query(lab.info, h, 'SELECT @@read_only AS r'))[0].r);
    expect([await ro('db1'), await ro('db2'), await ro('db3')]).toEqual([0, 1, 1]);
    const cmd = sh('cat', `/proc/${lab.info.hosts[0].pid}/cmdline`).split('\0');
    // --defaults-file first: no my.cnf of the machine leaks in.
    expect(cmd[1]).toMatch(/^--defaults-file=\/.*\/db1\/my\.cnf$/);
    const options = readFileSync(cmd[1].slice('--defaults-file='.length), 'utf8');
    expect(options).toMatch(/^read_only=1$/m);
    expect(options).toMatch(/^!includedir \/.*\/db1\/conf\.d$/m);
  });

  it('puts the VIP on the primary only, and status says so', async () => {
    const vip = lab.info.vip?.address as string;
    for (const h of lab.info.hosts)
      expect(
        sh('ip', '-n', h.netns as string, '-o', 'addr', 'show', 'dev', 'eth0').includes(` ${vip}/32 `),
      ).toBe(h.name === 'db1');
    const s = await labStatus({ dir });
    expect(s.vipHolders).toEqual(['db1']);
    expect(s.hosts.map((h) => [h.name, h.role, h.readOnly])).toEqual([
      ['db1', 'primary', false],
      ['db2', 'replica', true],
      ['db3', 'replica', true],
    ]);
  });

  it('refuses a second lab up on a lab that is up', async () => {
    await expect(labUp({ dir, prefix: lab.prefix, subnet: lab.subnet, temporal: false })).rejects.toThrow(
      /already up/,
    );
    expect(netnsNames().filter((n) => n.startsWith(`${lab.prefix}-`))).toHaveLength(3);
  });

  it('refuses to build over a namespace it did not make, and leaves it alone', async () => {
    const prefix = uniquePrefix();
    const squatter = `${prefix}-db1`;
    sh('ip', 'netns', 'add', squatter);
    const other = mkdtempSync(join(tmpdir(), 'solab-'));
    try {
      await expect(labUp({ dir: other, prefix, subnet: '10.99.254.0/24', temporal: false })).rejects.toThrow(
        /did not make:[\s\S]*namespace .*-db1 exists/,
      );
      expect(netnsNames().filter((n) => n.startsWith(`${prefix}-`))).toEqual([squatter]);
      expect(linkNames().filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
      expect(readdirSync(other)).toEqual([]);
    } finally {
      sh('ip', 'netns', 'del', squatter);
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('partition: the replica notices the cut link within seconds; heal: it streams again', async () => {
    await labPartition('db2', { dir });
    const t0 = Date.now();
    await until(
      'db2 IO thread to notice',
      async () => ((await slaveStatus(lab.info, 'db2'))?.Slave_IO_Running !== 'Yes' ? true : undefined),
      10_000,
    );
    const noticed = Date.now() - t0;
    console.log(`partitioned replica noticed after ${noticed} ms`);
    expect(noticed).toBeLessThan(8_000);
    expect((await labStatus({ dir })).hosts[1].partitioned).toBe(true);
    // Writes made during the partition arrive after the heal.
    await query(lab.info, 'db1', 'INSERT INTO app.t VALUES (2, ?)', ['during']);
    await labHeal('db2', { dir });
    await until(
      'db2 IO thread to reconnect',
      async () => ((await slaveStatus(lab.info, 'db2'))?.Slave_IO_Running === 'Yes' ? true : undefined),
      15_000,
    );
    await until(
      'db2 to apply the write',
      async () =>
        (await query(lab.info, 'db2', 'SELECT v FROM app.t WHERE id = 2')).length ? true : undefined,
      5_000,
    );
  });

  it('kill -9 then start: the primary comes back read-only and the replicas stream from it again', async () => {
    const old = lab.info.hosts[0].pid as number;
    await labKill('db1', { dir });
    expect(alive(old)).toBe(false);
    await expect(query(lab.info, 'db1', 'SELECT 1')).rejects.toThrow();
    expect((await labStatus({ dir })).hosts[0].role).toBe('down');
    const { pid } = await labStart('db1', { dir });
    expect(pid).not.toBe(old);
    expect(Number((await query(lab.info, 'db1', 'SELECT @@read_only AS r'))[0].r)).toBe(1);
    // A read-only primary refuses the application: never a second writer after a crash.
    const app = await appConnection(lab.info);
    try {
      await expect(app.query('INSERT INTO t VALUES (3, ?)', ['x'])).rejects.toThrow(/read-only|READ-ONLY/i);
    } finally {
      await app.end();
    }
    for (const h of ['db2', 'db3'])
      await until(
        `${h} to reconnect`,
        async () => ((await slaveStatus(lab.info, h))?.Slave_IO_Running === 'Yes' ? true : undefined),
        15_000,
      );
  });

  it('lab down removes exactly what lab up made', async () => {
    const made = lab.info.hosts.map((h) => h.pid);
    expect(await labDown({ dir })).toEqual({ removed: true });
    // Nothing of ours is left, and nothing that existed before is gone.
    const after = { netns: netnsNames(), links: linkNames() };
    expect(after.netns.filter((n) => n.startsWith(`${lab.prefix}-`))).toEqual([]);
    expect(after.links.filter((n) => n.startsWith(`${lab.prefix}-`))).toEqual([]);
    // Other test files' labs (prefix sot + 4) come and go meanwhile: they are not checked.
    const stable = (names: string[]) => names.filter((n) => !/^sot[a-z0-9]{4}-/.test(n));
    expect(stable(before.netns).filter((n) => !after.netns.includes(n))).toEqual([]);
    expect(stable(before.links).filter((n) => !after.links.includes(n))).toEqual([]);
    expect(after.netns).toContain(unrelatedNs);
    expect(processesOf(dir)).toEqual([]);
    for (const pid of made) expect(alive(pid as number)).toBe(false);
    // The directory existed before (with a file that is not the lab's): only the lab's files went.
    expect(readdirSync(dir)).toEqual(['keep-me.txt']);
    // Idempotent.
    expect(await labDown({ dir })).toEqual({ removed: false });
  });
});

describe('lab, loopback mode (HAProxy)', () => {
  let lab: LabFixture;

  beforeAll(async () => {
    lab = await startLab({ mode: 'loopback', hosts: 2, semiSync: true });
  });
  afterAll(async () => lab?.down());

  it('replicates a write made through the HAProxy writer; only db1 is enabled and writable', async () => {
    console.log(`lab up (2 hosts, loopback) took ${lab.upMs} ms`);
    expect(lab.info.writer).toEqual({ host: '127.0.0.1', port: (lab.info.hosts[0].port as number) + 100 });
    const app = await appConnection(lab.info);
    try {
      await app.query('CREATE TABLE t (id INT PRIMARY KEY)');
      await app.query('INSERT INTO t VALUES (7)');
      const [[row]] = (await app.query('SELECT @@server_id AS id')) as unknown as [{ id: number }[]];
      expect(Number(row.id)).toBe(1);
    } finally {
      await app.end();
    }
    await until(
      'db2 to apply',
      async () => ((await query(lab.info, 'db2', 'SELECT id FROM app.t')).length ? true : undefined),
      5_000,
    );
    // --semi-sync: the primary waits for the replica's acknowledgement.
    const [semi] = await query(lab.info, 'db1', "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'");
    expect(semi.Value).toBe('1');
    const s = await labStatus({ dir: lab.dir });
    expect(s.vipHolders).toEqual(['db1']);
    expect(s.hosts.map((h) => [h.role, h.readOnly])).toEqual([
      ['primary', false],
      ['replica', true],
    ]);
  });

  it('lab up on a broken lab repairs it, and never leaves a second copy running', async () => {
    const { pid } = await labKill('db2', { dir: lab.dir });
    const info = await labUp({
      dir: lab.dir,
      mode: 'loopback',
      hosts: 2,
      basePort: lab.info.hosts[0].port,
      temporal: false,
    });
    expect(info.hosts[1].pid).not.toBe(pid);
    // Two mariadbd (and HAProxy's master and worker), all new.
    const cmd = (p: string) => readFileSync(`/proc/${p}/cmdline`, 'utf8');
    expect(processesOf(lab.dir).filter((p) => cmd(p).includes('mariadbd'))).toHaveLength(2);
    expect(processesOf(lab.dir).filter((p) => cmd(p).includes('haproxy'))).toHaveLength(2);
    expect(lab.info.hosts.map((h) => alive(h.pid as number))).toEqual([false, false]);
    lab.info = info;
    expect((await labStatus({ dir: lab.dir })).hosts.map((h) => h.role)).toEqual(['primary', 'replica']);
  });

  it('lab down stops every process and frees the ports', async () => {
    const ports = [...lab.info.hosts.map((h) => h.port), lab.info.writer.port];
    await lab.down();
    expect(processesOf(lab.dir)).toEqual([]);
    for (const p of ports) expect(sh('ss', '-Htln', `sport = :${p}`).trim()).toBe('');
  });
});
