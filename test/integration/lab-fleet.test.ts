// The lab fleet (`lab up --clusters 3`, netns): three clusters on one bridge, each replicating on
// its own and writable through its own VIP; one inventory naming them with labels and machines;
// `lab down` removing all of it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { labDown, labKill, labStart, labStatus, labUp } from '../../lab/index';
import {
  appConnection,
  clusterInfo,
  query,
  slaveStatus,
  startLab,
  uniquePrefix,
  type LabFixture,
} from './labFixture';
import { alive, linkNames, netnsNames, processesOf, sh, until } from './system';

const isRoot = process.getuid?.() === 0;
const CLUSTERS = ['fleet01', 'fleet02', 'fleet03'];

(isRoot ? describe : describe.skip)('lab fleet, netns mode', () => {
  let lab: LabFixture;
  let dir: string;
  let before: { netns: string[]; links: string[] };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'solab-'));
    writeFileSync(join(dir, 'keep-me.txt'), 'not the lab\n');
    before = { netns: netnsNames(), links: linkNames() };
    lab = await startLab({ dir, clusters: 3, hosts: 2 });
  });

  afterAll(async () => {
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  it('comes up: three clusters of a primary and a replica, each in its own block of the subnet', () => {
    console.log(`lab up --clusters 3 (netns) took ${lab.upMs} ms`);
    const clusters = lab.info.clusters ?? [];
    expect(clusters.map((c) => c.name)).toEqual(CLUSTERS);
    const base = lab.subnet.replace(/0\/24$/, '');
    expect(clusters.map((c) => [c.vip?.address, ...c.hosts.map((h) => h.address)])).toEqual([
      [`${base}10`, `${base}11`, `${base}12`],
      [`${base}13`, `${base}14`, `${base}15`],
      [`${base}16`, `${base}17`, `${base}18`],
    ]);
    expect(lab.info.hosts.map((h) => h.name)).toEqual(CLUSTERS.flatMap((c) => [`${c}/db1`, `${c}/db2`]));
    expect(netnsNames(lab.prefix)).toEqual(
      ['01', '02', '03'].flatMap((k) => [`${lab.prefix}-${k}db1`, `${lab.prefix}-${k}db2`]),
    );
    // One bridge for all of them.
    expect(linkNames(lab.prefix).filter((l) => l.endsWith('-br'))).toEqual([`${lab.prefix}-br`]);
  });

  it("replicates in every cluster: a row written through a cluster's VIP reaches its replica, and only its", async () => {
    for (const name of CLUSTERS) {
      const c = clusterInfo(lab.info, name);
      const app = await appConnection(c);
      try {
        // Through the VIP, the cluster's own primary answers.
        const [[who]] = (await app.query('SELECT @@report_host AS h')) as unknown as [{ h: string }[]];
        expect(who.h).toBe(c.hosts[0].address);
        await app.query('CREATE TABLE t (id INT PRIMARY KEY, cluster VARCHAR(20))');
        await app.query('INSERT INTO t VALUES (1, ?)', [name]);
      } finally {
        await app.end();
      }
    }
    for (const name of CLUSTERS) {
      const [{ pos }] = await query(lab.info, `${name}/db1`, 'SELECT @@gtid_binlog_pos AS pos');
      const [{ r }] = await query(lab.info, `${name}/db2`, 'SELECT MASTER_GTID_WAIT(?, 5) AS r', [pos]);
      expect(Number(r)).toBe(0);
      expect(await query(lab.info, `${name}/db2`, 'SELECT cluster FROM app.t')).toEqual([{ cluster: name }]);
      expect(await slaveStatus(lab.info, `${name}/db2`)).toMatchObject({
        Slave_IO_Running: 'Yes',
        Slave_SQL_Running: 'Yes',
        Master_Host: clusterInfo(lab.info, name).hosts[0].address,
        Using_Gtid: 'Slave_Pos',
      });
    }
  });

  it("puts each VIP on its cluster's primary only, and status says so per cluster", async () => {
    const clusters = lab.info.clusters ?? [];
    for (const c of clusters)
      for (const h of lab.info.hosts) {
        const addrs = sh('ip', '-n', h.netns as string, '-o', 'addr', 'show', 'dev', 'eth0');
        expect([c.name, h.name, addrs.includes(` ${c.vip?.address}/32 `)]).toEqual([
          c.name,
          h.name,
          h.name === `${c.name}/db1`,
        ]);
      }
    const s = await labStatus({ dir });
    expect(s.clusters.map((c) => [c.name, c.vipHolders, c.hosts.map((h) => [h.role, h.readOnly])])).toEqual(
      CLUSTERS.map((n) => [
        n,
        ['db1'],
        [
          ['primary', false],
          ['replica', true],
        ],
      ]),
    );
    expect(s.vipHolders).toEqual(CLUSTERS.map((n) => `${n}/db1`));
    // `lab status`: one line per cluster.
    const out = sh(process.execPath, 'bin/successover.js', 'lab', 'status', '--dir', dir);
    expect(out).toMatch(/3 clusters, 3 with their writer on their one primary/);
    for (const c of clusters)
      expect(out).toContain(`  ${c.name} ${c.vip?.address}:3306 → db1  db1 primary  db2 replica  gtid `);
  });

  it('writes one inventory that `inventory check` accepts, with labels and a machine per host', () => {
    expect(sh(process.execPath, 'bin/successover.js', 'inventory', 'check', lab.info.inventory)).toMatch(
      /valid \(3 cluster\(s\), 6 host\(s\)\)/,
    );
    const doc = parse(readFileSync(lab.info.inventory, 'utf8')) as {
      clusters: {
        name: string;
        labels: Record<string, string>;
        traffic: { address: string };
        hosts: { name: string; machine: string }[];
      }[];
    };
    expect(
      doc.clusters.map((c) => [c.name, c.labels, c.traffic.address, c.hosts.map((h) => [h.name, h.machine])]),
    ).toEqual(
      (lab.info.clusters ?? []).map((c, i) => [
        c.name,
        { fleet: 'lab', index: `0${i + 1}` },
        `${c.vip?.address}/32`,
        [
          ['db1', 'm1'],
          ['db2', 'm2'],
        ],
      ]),
    );
  });

  it("kill and start take a fleet host by cluster/host and touch no other cluster's", async () => {
    await labKill('fleet02/db1', { dir });
    const down = await labStatus({ dir });
    expect(down.clusters.map((c) => c.hosts.map((h) => h.role))).toEqual([
      ['primary', 'replica'],
      ['down', 'replica'],
      ['primary', 'replica'],
    ]);
    await labStart('fleet02/db1', { dir });
    expect(await query(lab.info, 'fleet02/db1', 'SELECT @@read_only AS r')).toEqual([{ r: 1 }]);
    await query(lab.info, 'fleet02/db1', 'SET GLOBAL read_only = 0');
    await until(
      'fleet02/db2 to reconnect',
      async () =>
        (await slaveStatus(lab.info, 'fleet02/db2'))?.Slave_IO_Running === 'Yes' ? true : undefined,
      15_000,
    );
  });

  it('refuses a fleet the subnet cannot hold, saying the limit, before making anything', async () => {
    const other = mkdtempSync(join(tmpdir(), 'solab-'));
    try {
      await expect(
        labUp({ dir: other, clusters: 82, prefix: uniquePrefix(), subnet: '10.99.254.0/24' }),
      ).rejects.toThrow(/--clusters 82: expected 1 to 81: a \/24 subnet holds 81 clusters of 2 hosts/);
      await expect(
        labUp({ dir: other, clusters: 62, hosts: 3, prefix: uniquePrefix(), subnet: '10.99.254.0/24' }),
      ).rejects.toThrow(/expected 1 to 61/);
      expect(readdirSync(other)).toEqual([]);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('lab down removes every cluster: namespaces, links, processes and files', async () => {
    const pids = lab.info.hosts.map((h) => h.pid as number);
    const sshd = processesOf(dir).filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('sshd'));
    expect(sshd.length).toBeGreaterThanOrEqual(6);
    const t0 = Date.now();
    expect(await labDown({ dir })).toEqual({ removed: true });
    console.log(`lab down (3 clusters) took ${Date.now() - t0} ms`);
    expect(netnsNames(lab.prefix)).toEqual([]);
    expect(linkNames(lab.prefix)).toEqual([]);
    // Other test files' labs (prefix sot + 4) come and go meanwhile: they are not checked.
    const stable = (names: string[]) => names.filter((n) => !/^sot[a-z0-9]{4}-/.test(n));
    expect(stable(before.netns).filter((n) => !netnsNames().includes(n))).toEqual([]);
    expect(stable(before.links).filter((n) => !linkNames().includes(n))).toEqual([]);
    expect(processesOf(dir)).toEqual([]);
    for (const pid of [...pids, ...sshd.map(Number)]) expect(alive(pid)).toBe(false);
    expect(readdirSync(dir)).toEqual(['keep-me.txt']);
    expect(await labDown({ dir })).toEqual({ removed: false });
  });
});
