// The provisioning data set: written through the writer endpoint, it reaches every replica.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { generateData, type GeneratedData } from '../../bench/datagen';
import { query, startLab, type LabFixture } from './labFixture';

const isRoot = process.getuid?.() === 0;
const MB = 1024 * 1024;

(isRoot ? describe : describe.skip)('data generator', () => {
  let lab: LabFixture;
  let admin: { user: string; password: string };
  let data: GeneratedData;

  beforeAll(async () => {
    lab = await startLab();
    admin = {
      user: 'successover',
      password: readFileSync(lab.info.secrets.mysqlPasswordFile, 'utf8').trim(),
    };
  });
  afterAll(async () => lab?.down());

  /** Every replica applies what the primary has, then answers `sql` like it. */
  async function onEveryHost(sql: string): Promise<unknown[]> {
    const [{ pos }] = await query(lab.info, 'db1', 'SELECT @@gtid_binlog_pos AS pos');
    for (const h of ['db2', 'db3']) {
      const [{ r }] = await query(lab.info, h, 'SELECT MASTER_GTID_WAIT(?, 120) AS r', [pos]);
      expect(Number(r)).toBe(0);
    }
    return Promise.all(['db1', 'db2', 'db3'].map((h) => query(lab.info, h, sql)));
  }

  it('writes about 20 MB through the VIP in InnoDB tables that every replica gets', async () => {
    const lines: string[] = [];
    data = await generateData({
      host: lab.info.writer.host,
      port: lab.info.writer.port,
      ...admin,
      database: 'bench',
      sizeMb: 20,
      tables: 4,
      log: (l) => lines.push(l),
    });
    console.log(`20 MB data set: ${JSON.stringify(data)}\n${lines.join('\n')}`);
    expect(data.tables).toEqual(['orders_01', 'orders_02', 'orders_03', 'orders_04']);
    expect(data.bytes).toBeGreaterThan(0.7 * 20 * MB);
    expect(data.bytes).toBeLessThan(1.6 * 20 * MB);
    expect(data.rows).toBeGreaterThan(10_000);

    const counts = (await onEveryHost(
      "SELECT table_name AS t, table_rows AS approx FROM information_schema.tables WHERE table_schema = 'bench' ORDER BY 1",
    )) as { t: string }[][];
    for (const c of counts) expect(c.map((r) => r.t)).toEqual(data.tables);
    const exact = (await onEveryHost(
      data.tables.map((t) => `SELECT '${t}' AS t, COUNT(*) AS n FROM bench.${t}`).join(' UNION ALL '),
    )) as { t: string; n: number }[][];
    expect(exact[0].reduce((s, r) => s + Number(r.n), 0)).toBe(data.rows);
    expect(exact[1]).toEqual(exact[0]);
    expect(exact[2]).toEqual(exact[0]);
    // Same rows, not only as many.
    const sums = (await onEveryHost(`CHECKSUM TABLE ${data.tables.map((t) => `bench.${t}`).join(', ')}`)) as {
      Checksum: number;
    }[][];
    expect(sums[1]).toEqual(sums[0]);
    expect(sums[2]).toEqual(sums[0]);
    // Realistic columns and a secondary index.
    const types = await query(
      lab.info,
      'db2',
      "SELECT DISTINCT data_type AS t FROM information_schema.columns WHERE table_schema = 'bench' ORDER BY 1",
    );
    expect(types.map((r) => r.t)).toEqual(
      expect.arrayContaining(['bigint', 'int', 'varchar', 'text', 'datetime', 'decimal', 'smallint']),
    );
    const idx = await query(lab.info, 'db3', 'SHOW INDEX FROM bench.orders_01');
    expect(new Set(idx.map((r) => r.Key_name))).toEqual(new Set(['PRIMARY', 'customer_created']));
  });

  it('refuses tables that hold rows, and a read-only endpoint', async () => {
    const base = { port: 3306, ...admin, database: 'bench', sizeMb: 1, tables: 4 };
    await expect(generateData({ ...base, host: lab.info.writer.host })).rejects.toThrow(
      /bench\.orders_01 already holds rows: choose another database, or replace/,
    );
    await expect(
      generateData({ ...base, database: 'other', host: lab.info.hosts[1].address }),
    ).rejects.toThrow(/leads to a read-only server/);
    expect(await query(lab.info, 'db1', "SHOW DATABASES LIKE 'other'")).toEqual([]);
  });

  it('lab load-data --replace regenerates through the CLI and waits for the replicas', () => {
    const out = execFileSync(
      process.execPath,
      [
        'bin/successover.js',
        'lab',
        'load-data',
        '--dir',
        lab.dir,
        '--size-mb',
        '4',
        '--tables',
        '2',
        '--replace',
        '--json',
      ],
      { encoding: 'utf8' },
    );
    const r = JSON.parse(out) as GeneratedData & { replicasCaughtUpMs: number; mbPerSecond: number };
    expect(r.tables).toEqual(['orders_01', 'orders_02']);
    expect(r.rows).toBeLessThan(data.rows);
    expect(r.replicasCaughtUpMs).toBeGreaterThanOrEqual(0);
    expect(r.mbPerSecond).toBeGreaterThan(0);
  });
});
