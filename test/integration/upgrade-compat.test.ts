// collectCompatFacts on a real lab (the one installable MariaDB, so blue and green share a
// version): the facts of db1 and db2 feed checkCompatibility, a setting changed on db2 shows up
// as a finding, schema names reach the reserved-word check, and no password hash or lab secret
// is ever part of the facts.
import { readFileSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { loadInventory } from '../../worker/loadInventory';
import { resolveSecrets } from '../../worker/secrets';
import { createUpgradeActivities } from '../../activities/upgrade';
import { SqlPools } from '../../activities/sql/pools';
import { checkCompatibility, type CompatFacts } from '../../domain/upgrade/compat';
import { query, startLab, type LabFixture } from './labFixture';

jest.setTimeout(300_000);

let lab: LabFixture;
let pools: SqlPools;
let acts: ReturnType<typeof createUpgradeActivities>;
const collected: CompatFacts[] = [];

async function collect(host: string): Promise<CompatFacts> {
  const env = new MockActivityEnvironment();
  const facts = (await env.run(acts.collectCompatFacts, { cluster: lab.info.cluster, host })) as CompatFacts;
  collected.push(facts);
  return facts;
}

beforeAll(async () => {
  lab = await startLab({ mode: 'loopback', hosts: 2 });
  const inventory = loadInventory(lab.info.inventory);
  const secrets = resolveSecrets(inventory, lab.info.inventory);
  pools = new SqlPools(secrets.mysql);
  acts = createUpgradeActivities({ inventory, secrets }, { pools });
  // Replicated to db2: a column MariaDB 11.7 reserves, a table MySQL 8.0 reserves, an account
  // whose password hash must not leak.
  await query(lab.info, 'db1', 'SET GLOBAL read_only=0');
  await query(
    lab.info,
    'db1',
    `CREATE TABLE ${lab.info.app.database}.\`rank\` (id INT PRIMARY KEY, vector BLOB, \`groups\` INT, label VARCHAR(20))`,
  );
  await query(lab.info, 'db1', "CREATE USER 'reporting'@'10.%' IDENTIFIED BY 'Rep0rting-Secret'");
  await query(lab.info, 'db1', "GRANT SUPER, PROCESS ON *.* TO 'reporting'@'10.%'");
  const gtid = (await query(lab.info, 'db1', 'SELECT @@gtid_binlog_pos AS p'))[0]?.p as string;
  await query(lab.info, 'db2', 'SELECT MASTER_GTID_WAIT(?, 30) AS r', [gtid]);
});

afterAll(async () => {
  await pools?.close();
  await lab?.down();
});

describe('collectCompatFacts on a real lab', () => {
  it('reads settings, accounts and schema names from db1 and db2', async () => {
    const [db1, db2] = [await collect('db1'), await collect('db2')];
    for (const f of [db1, db2]) {
      expect(f.flavor).toBe('mariadb');
      expect(f.version).toMatch(/^10\.11\.\d+-MariaDB/);
      expect(f.sqlMode).toMatch(/STRICT_TRANS_TABLES/);
      // Set on the command line by the lab: away from the default, so collected.
      expect(f.variables).toMatchObject({
        binlog_format: 'ROW',
        gtid_strict_mode: 'ON',
        log_slave_updates: 'ON',
      });
      // Sized by the server (AUTO) or compiled in: not a choice anyone made.
      expect(f.variables).not.toHaveProperty('open_files_limit');
      expect(f.variables).not.toHaveProperty('innodb_flush_log_at_trx_commit');
      // Replication settings whatever their origin.
      expect(f.replication).toMatchObject({
        log_bin: 'ON',
        binlog_row_image: 'FULL',
        lower_case_table_names: '0',
      });
      expect(f.authPlugins).toEqual(expect.arrayContaining(['mysql_native_password', 'unix_socket']));
      const reporting = f.accounts.find((a) => a.user === 'reporting');
      expect(reporting).toEqual({
        user: 'reporting',
        host: '10.%',
        plugin: 'mysql_native_password',
        privileges: ['PROCESS', 'SUPER'],
      });
      // Locked and role accounts cannot log in: mariadb.sys is left out.
      expect(f.accounts.some((a) => a.user === 'mariadb.sys')).toBe(false);
      const app = f.schemas.find((s) => s.name === lab.info.app.database);
      expect(app?.tables).toContain('rank');
      // Only columns named like a watched word.
      expect(app?.columns).toEqual(['rank.groups', 'rank.vector']);
      expect(f.schemas.map((s) => s.name)).not.toEqual(expect.arrayContaining(['mysql']));
    }
    expect(db1.replication?.server_id).not.toBe(db2.replication?.server_id);
  });

  it('same version, same settings: only the "same version" note, no blocking finding', async () => {
    const findings = checkCompatibility(await collect('db1'), await collect('db2'));
    expect(findings.filter((f) => f.severity === 'blocking')).toEqual([]);
    expect(findings[0]).toMatchObject({ check: 'version', severity: 'info' });
    expect(findings[0]?.message).toMatch(/^same version/);
    expect(findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('a setting changed on green shows up as a replication finding', async () => {
    await query(lab.info, 'db2', 'SET GLOBAL gtid_strict_mode=0');
    try {
      const findings = checkCompatibility(await collect('db1'), await collect('db2'));
      expect(findings.filter((f) => f.check === 'replication')).toEqual([
        expect.objectContaining({ severity: 'warning', subject: 'gtid_strict_mode' }),
      ]);
    } finally {
      await query(lab.info, 'db2', 'SET GLOBAL gtid_strict_mode=1');
    }
  });

  it('the collected schema names reach the reserved-word check', async () => {
    const db1 = await collect('db1');
    const vector = checkCompatibility(db1, { flavor: 'mariadb', version: '11.8.2-MariaDB' });
    expect(vector.filter((f) => f.check === 'reserved-word')).toEqual([
      expect.objectContaining({ severity: 'warning', subject: `${lab.info.app.database}.rank.vector` }),
    ]);
    expect(vector.filter((f) => f.check === 'privilege')).toEqual([]); // 10.11 already split SUPER
    // The same names, read as a MySQL 5.7 blue moving to 8.0 (a cross-flavor check stops at the flavor).
    const asMysql = checkCompatibility(
      { ...db1, flavor: 'mysql', version: '5.7.44', variables: {}, sqlMode: '' },
      { flavor: 'mysql', version: '8.0.36' },
    );
    expect(
      asMysql
        .filter((f) => f.check === 'reserved-word')
        .map((f) => f.subject)
        .sort(),
    ).toEqual([`${lab.info.app.database}.rank`, `${lab.info.app.database}.rank.groups`]);
    expect(checkCompatibility(db1, { flavor: 'mysql', version: '8.0.36' })).toEqual([
      expect.objectContaining({ check: 'version', severity: 'blocking' }),
    ]);
  });

  it('an unknown host fails at once, naming the known ones', async () => {
    const env = new MockActivityEnvironment();
    const err = await env
      .run(acts.collectCompatFacts, { cluster: lab.info.cluster, host: 'db9' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toMatch(/unknown host "db9".*db1, db2/);
  });

  it('no password hash and no lab secret is part of any facts collected', async () => {
    expect(collected.length).toBeGreaterThanOrEqual(6);
    const hashes = (
      await query(
        lab.info,
        'db1',
        "SELECT authentication_string AS h FROM mysql.user WHERE authentication_string <> ''",
      )
    ).map((r) => String(r.h));
    expect(hashes.length).toBeGreaterThanOrEqual(4); // admin, replication, app, reporting: the search means something
    const secrets = [
      lab.info.secrets.mysqlPasswordFile,
      lab.info.secrets.replicationPasswordFile,
      lab.info.app.passwordFile,
    ].map((f) => readFileSync(f, 'utf8').trim());
    const text = JSON.stringify(collected);
    for (const s of [...hashes, ...secrets, 'Rep0rting-Secret']) expect(text).not.toContain(s);
    expect(text).not.toMatch(/\*[0-9A-F]{40}/); // the mysql_native_password hash format
  });
});
