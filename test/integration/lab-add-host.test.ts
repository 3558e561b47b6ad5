// `lab add-host`: an empty host joins a running lab (as provisioning finds a fresh server), and
// every host's mariadbd can be stopped and started over SSH by the scripts the inventory names.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { SshPool } from '../../activities/ssh';
import { parse } from 'yaml';
import { findCluster, HostSchema, type Host } from '../../domain/inventory';
import { labAddHost, labDown, labKill, labStart, labState, labStatus } from '../../lab/index';
import { haproxyCommand } from '../../lab/runtimeApi';
import { loadInventory } from '../../worker/loadInventory';
import { query, slaveStatus, startLab, type LabFixture } from './labFixture';
import { alive, linkNames, netnsNames, processesOf, sh, until } from './system';

const isRoot = process.getuid?.() === 0;
const pidFile = (lab: LabFixture, host: string) =>
  Number(readFileSync(join(lab.dir, host, 'mysqld.pid'), 'utf8').trim());

/** The lab's admin account over TCP, from the root namespace (as a worker connects). */
async function adminQuery(lab: LabFixture, host: string, sql: string): Promise<RowDataPacket[]> {
  const h =
    lab.info.hosts.find((x) => x.name === host) ??
    labState(lab.dir)?.info?.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no host ${host}`);
  const c = await createConnection({
    host: h.address,
    port: h.port,
    user: 'successover',
    password: readFileSync(lab.info.secrets.mysqlPasswordFile, 'utf8').trim(),
    connectTimeout: 2000,
  });
  try {
    const [rows] = await c.query<RowDataPacket[]>(sql);
    return rows;
  } finally {
    c.destroy();
  }
}

const inventoryHost = (lab: LabFixture, name: string): Host => {
  const h = findCluster(loadInventory(lab.info.inventory), 'lab').hosts.find((x) => x.name === name);
  if (!h) throw new Error(`${name} is not in the lab inventory`);
  return h;
};

(isRoot ? describe : describe.skip)('lab add-host, netns mode', () => {
  let lab: LabFixture;
  let ssh: SshPool;

  beforeAll(async () => {
    lab = await startLab();
    ssh = new SshPool({
      user: 'root',
      privateKey: readFileSync(lab.info.secrets.sshPrivateKeyFile as string),
      connectTimeoutMs: 3000,
    });
  });
  afterAll(async () => {
    await ssh?.close();
    await lab?.down();
  });

  it('adds an empty, read-only, never-replicated host that answers over the network', async () => {
    const t0 = Date.now();
    const db4 = await labAddHost('db4', { dir: lab.dir });
    console.log(`lab add-host db4 took ${Date.now() - t0} ms`);
    expect(db4).toMatchObject({
      name: 'db4',
      address: lab.subnet.replace(/0\/24$/, '14'),
      port: 3306,
      netns: `${lab.prefix}-db4`,
    });
    const [v] = await adminQuery(
      lab,
      'db4',
      'SELECT @@read_only AS ro, @@server_id AS id, @@gtid_binlog_pos AS bin, @@gtid_current_pos AS cur, ' +
        '@@gtid_slave_pos AS slave, @@hostname AS h',
    );
    expect(v).toMatchObject({ ro: 1, bin: '', cur: '', slave: '' });
    const ids = await Promise.all(
      ['db1', 'db2', 'db3'].map(async (h) => (await query(lab.info, h, 'SELECT @@server_id AS id'))[0].id),
    );
    expect(ids).not.toContain(v.id);
    expect(await adminQuery(lab, 'db4', 'SHOW SLAVE STATUS')).toEqual([]);
    const dbs = (await adminQuery(lab, 'db4', 'SHOW DATABASES')).map((r) => r.Database);
    expect(dbs).not.toContain('app');
    // The replication account is there for provisioning to use against it (and from it).
    expect((await adminQuery(lab, 'db4', "SELECT user FROM mysql.user WHERE user = 'repl'")).length).toBe(1);
    const s = await labStatus({ dir: lab.dir });
    expect(s.hosts.map((h) => [h.name, h.role, h.readOnly])).toEqual([
      ['db1', 'primary', false],
      ['db2', 'replica', true],
      ['db3', 'replica', true],
      ['db4', 'read-only', true],
    ]);
    expect(s.hosts[3].gtidCurrentPos).toBe('');
    expect(s.vipHolders).toEqual(['db1']);
  });

  it('records db4 in the inventory with its own pinned host key and its service scripts', async () => {
    const h = inventoryHost(lab, 'db4');
    const pub = readFileSync(join(lab.dir, 'ssh', 'db4_host_ed25519.pub'), 'utf8').split(' ');
    expect(h.ssh?.hostKey).toBe(`${pub[0]} ${pub[1]}`);
    const others = ['db1', 'db2', 'db3'].map((n) => inventoryHost(lab, n).ssh?.hostKey);
    expect(others).not.toContain(h.ssh?.hostKey);
    expect(h.service).toEqual({
      datadir: join(lab.dir, 'db4', 'data'),
      startCommand: join(lab.dir, 'db4', 'mariadbd-start.sh'),
      stopCommand: join(lab.dir, 'db4', 'mariadbd-stop.sh'),
    });
    expect(inventoryHost(lab, 'db2').service?.datadir).toBe(join(lab.dir, 'db2', 'data'));
    // `inventory check` accepts the file as written.
    expect(sh(process.execPath, 'bin/successover.js', 'inventory', 'check', lab.info.inventory)).toMatch(
      /valid \(1 cluster\(s\), 4 host\(s\)\)/,
    );
  });

  it('SSH checks the pinned key: with db1 key for db4 the login is refused', async () => {
    const db4 = inventoryHost(lab, 'db4');
    const wrong: Host = {
      ...db4,
      name: 'db4-wrong-key',
      ssh: { ...db4.ssh!, hostKey: inventoryHost(lab, 'db1').ssh!.hostKey },
    };
    await expect(ssh.exec(wrong, 'true', { timeoutMs: 5000 })).rejects.toThrow(/host key/i);
    expect((await ssh.exec(db4, 'true')).code).toBe(0);
    // With db4's verified connection in the pool, the wrong key still gets a login of its own.
    expect(ssh.isConnected(db4)).toBe(true);
    await expect(ssh.exec(wrong, 'true', { timeoutMs: 5000 })).rejects.toThrow(/host key/i);
  });

  it('stops and starts the added host over SSH with its scripts, idempotently', async () => {
    const db4 = inventoryHost(lab, 'db4');
    const svc = db4.service!;
    const before = pidFile(lab, 'db4');
    const stop = await ssh.exec(db4, svc.stopCommand, { timeoutMs: 60_000 });
    expect(stop).toMatchObject({ code: 0, stdout: expect.stringMatching(/stopped/) });
    expect(alive(before)).toBe(false);
    await expect(adminQuery(lab, 'db4', 'SELECT 1')).rejects.toThrow();
    expect((await ssh.exec(db4, svc.stopCommand)).stdout).toMatch(/not running/);
    expect((await labStatus({ dir: lab.dir })).hosts[3].role).toBe('down');

    const start = await ssh.exec(db4, svc.startCommand, { timeoutMs: 60_000 });
    expect(start).toMatchObject({ code: 0, stdout: expect.stringMatching(/started/) });
    const after = pidFile(lab, 'db4');
    expect(after).not.toBe(before);
    // Inside db4's namespace, with the options lab add-host gave it.
    expect(sh('ip', 'netns', 'identify', String(after)).trim()).toBe(`${lab.prefix}-db4`);
    expect((await adminQuery(lab, 'db4', 'SELECT @@read_only AS ro'))[0].ro).toBe(1);
    expect((await ssh.exec(db4, svc.startCommand)).stdout).toMatch(/already runs/);
    expect(pidFile(lab, 'db4')).toBe(after);
    // The lab knows the restarted server by its pid file.
    expect((await labStatus({ dir: lab.dir })).hosts[3]).toMatchObject({ pid: after, role: 'read-only' });
  });

  it('does the same for a host of lab up; lab kill/start follow the restarted server', async () => {
    const db2 = inventoryHost(lab, 'db2');
    expect((await ssh.exec(db2, db2.service!.stopCommand, { timeoutMs: 60_000 })).code).toBe(0);
    expect((await ssh.exec(db2, db2.service!.startCommand, { timeoutMs: 60_000 })).code).toBe(0);
    const pid = pidFile(lab, 'db2');
    expect(pid).not.toBe(lab.info.hosts[1].pid);
    await until(
      'db2 to stream from db1 again',
      async () => ((await slaveStatus(lab.info, 'db2'))?.Slave_IO_Running === 'Yes' ? true : undefined),
      15_000,
    );
    // lab up's record of db2 is stale: kill and start go by the pid file.
    await expect(labStart('db2', { dir: lab.dir })).rejects.toThrow(`already running (pid ${pid})`);
    expect(await labKill('db2', { dir: lab.dir })).toEqual({ pid });
    expect(alive(pid)).toBe(false);
    await labStart('db2', { dir: lab.dir });
    expect((await labStatus({ dir: lab.dir })).hosts[1].role).toBe('replica');
  });

  it('refuses a taken name, an invalid name and a name too long for a link', async () => {
    await expect(labAddHost('db4', { dir: lab.dir })).rejects.toThrow(/"db4" is taken/);
    await expect(labAddHost('DB5', { dir: lab.dir })).rejects.toThrow(/lowercase letters and digits/);
    await expect(labAddHost('db-5', { dir: lab.dir })).rejects.toThrow(/lowercase letters and digits/);
    await expect(labAddHost('secrets', { dir: lab.dir })).rejects.toThrow(/is taken by/);
    await expect(labAddHost('replica12345', { dir: lab.dir })).rejects.toThrow(/too long/);
    // A namespace the lab did not make is in the way: refused, and left alone.
    sh('ip', 'netns', 'add', `${lab.prefix}-db5`);
    try {
      await expect(labAddHost('db5', { dir: lab.dir })).rejects.toThrow(
        `network namespace ${lab.prefix}-db5 exists and this lab did not make it`,
      );
      expect(existsSync(join(lab.dir, 'db5'))).toBe(false);
      expect(netnsNames(lab.prefix)).toHaveLength(5);
    } finally {
      sh('ip', 'netns', 'del', `${lab.prefix}-db5`);
    }
    expect(netnsNames(lab.prefix)).toHaveLength(4);
  });

  it('lab down removes the added host too: no namespace, link or process is left', async () => {
    const pids = [pidFile(lab, 'db4'), pidFile(lab, 'db2')];
    expect(await labDown({ dir: lab.dir })).toEqual({ removed: true });
    expect(netnsNames(lab.prefix)).toEqual([]);
    expect(linkNames(lab.prefix)).toEqual([]);
    expect(processesOf(lab.dir)).toEqual([]);
    for (const p of pids) expect(alive(p)).toBe(false);
  });

  it('refuses when no lab is running', async () => {
    await expect(labAddHost('db5', { dir: lab.dir })).rejects.toThrow(
      /no lab in .*: run `successover lab up` first/,
    );
  });
});

describe('lab add-host, loopback mode (HAProxy) with the Temporal hook', () => {
  let lab: LabFixture;

  beforeAll(async () => {
    lab = await startLab({ mode: 'loopback', hosts: 2, temporal: true });
  });
  afterAll(async () => lab?.down());

  it('adds db3 on the next port, in HAProxy in maintenance; the lab worker goes on, no restart', async () => {
    const st = labState(lab.dir);
    const worker = st?.processes.find((p) => p.role === 'worker');
    expect(worker && alive(worker.pid)).toBe(true);
    // The worker is up before the host is added (its log says so).
    const log = join(lab.dir, 'temporal', 'worker.log');
    await until(
      'the lab worker to start',
      async () => (/worker started/.test(readFileSync(log, 'utf8')) ? true : undefined),
      60_000,
    );

    const out = sh(
      process.execPath,
      'bin/successover.js',
      'lab',
      'add-host',
      'db3',
      '--dir',
      lab.dir,
      '--json',
    );
    const db3 = JSON.parse(out) as { port: number; address: string; netns: null; notes: string[] };
    expect(db3).toMatchObject({ address: '127.0.0.1', port: lab.info.hosts[0].port + 2, netns: null });
    expect(db3.notes.join('\n')).toMatch(
      /workers reading .*inventory\.yaml know db3 from their next activity/,
    );
    const [v] = await adminQuery(lab, 'db3', 'SELECT @@read_only AS ro, @@gtid_current_pos AS cur');
    expect(v).toEqual({ ro: 1, cur: '' });
    const servers = await haproxyCommand(
      lab.info.haproxy!.runtimeApi.replace(/^unix:/, ''),
      `show servers state ${lab.info.haproxy!.backend}`,
    );
    expect(servers).toMatch(new RegExp(` db3 127\\.0\\.0\\.1 `));
    expect((await labStatus({ dir: lab.dir })).vipHolders).toEqual(['db1']);
    expect(inventoryHost(lab, 'db3').ssh).toBeUndefined();

    // It re-reads the inventory file when it changes (worker/inventoryFile.ts): no restart.
    expect(labState(lab.dir)?.processes.find((p) => p.role === 'worker')?.pid).toBe(worker?.pid);
    expect(alive(worker!.pid)).toBe(true);
    expect(readFileSync(log, 'utf8')).not.toMatch(/worker stopped/);
  });

  it('--no-inventory: stdout is the entry alone, for run provision --new-host; the inventory is left as it was', async () => {
    const before = readFileSync(lab.info.inventory, 'utf8');
    const out = sh(
      process.execPath,
      'bin/successover.js',
      'lab',
      'add-host',
      'db9',
      '--no-inventory',
      '--dir',
      lab.dir,
    );
    const entry = parse(out) as Record<string, unknown>;
    expect(entry).toMatchObject({
      address: '127.0.0.1',
      port: lab.info.hosts[0].port + 3,
      dataCenter: 'lab',
    });
    expect(entry).not.toHaveProperty('name');
    expect(HostSchema.safeParse({ name: 'db9', ...entry }).success).toBe(true);
    expect(readFileSync(lab.info.inventory, 'utf8')).toBe(before);
    const [v] = await adminQuery(lab, 'db9', 'SELECT @@read_only AS ro, @@gtid_current_pos AS cur');
    expect(v).toEqual({ ro: 1, cur: '' });
  });

  it('its scripts stop and start it locally (loopback mode has no sshd)', async () => {
    const svc = inventoryHost(lab, 'db3').service!;
    const before = pidFile(lab, 'db3');
    expect(sh('sh', '-c', svc.stopCommand)).toMatch(/stopped/);
    expect(alive(before)).toBe(false);
    expect(sh('sh', '-c', svc.startCommand)).toMatch(/started/);
    expect((await adminQuery(lab, 'db3', 'SELECT @@read_only AS ro'))[0].ro).toBe(1);
  });

  it('lab down stops every process, the restarted mariadbd and the worker included', async () => {
    await lab.down();
    expect(processesOf(lab.dir)).toEqual([]);
  });
});
