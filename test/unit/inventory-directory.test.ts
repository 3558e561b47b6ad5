// An inventory written as a directory of YAML files: merged in name order, credentials and webhook
// in exactly one file, problems naming their file; the worker's InventoryFile re-reads and edits
// it; relative secret files are read from the directory.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCluster, HostSchema } from '../../domain/inventory';
import { resolveWebhookSecrets } from '../../webhook/secrets';
import { InventoryError, loadInventory, loadInventoryFiles } from '../../worker/loadInventory';
import { InventoryFile } from '../../worker/inventoryFile';
import { resolveSecrets } from '../../worker/secrets';
import { cli } from './cli.fixtures';

const cluster = (name: string, n: number, extra = '') => `  - name: ${name} # cluster ${name}
    flavor: mariadb${extra}
    hosts:
      - name: db1
        address: 10.0.${n}.11
      - name: db2
        address: 10.0.${n}.12
`;
const CREDENTIALS = `credentials:
  mysql: { user: successover, passwordEnv: SO_PW }
  replication: { user: repl, passwordFile: secrets/repl.pw }
`;

let dir: string;
const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
const read = (name: string) => readFileSync(join(dir, name), 'utf8');

function failure(path = dir): InventoryError {
  try {
    loadInventory(path);
  } catch (e) {
    if (e instanceof InventoryError) return e;
    throw e;
  }
  throw new Error('expected the inventory to be refused');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'inventory-dir-'));
  write('10-eu.yaml', `clusters:\n${cluster('eu1', 1)}${cluster('eu2', 2)}`);
  write('20-us.yml', `clusters:\n${cluster('us1', 3)}`);
  write('00-credentials.yaml', CREDENTIALS);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loading a directory', () => {
  test('every *.yaml and *.yml, sorted by name; other, hidden and nested files are not read', () => {
    write('notes.txt', 'not yaml: [');
    write('.draft.yaml', 'not: [valid');
    symlinkSync(join(dir, 'gone.yaml'), join(dir, '.#10-eu.yaml')); // an editor's lock file
    mkdirSync(join(dir, 'old'));
    write('old/30-old.yaml', `clusters:\n${cluster('old', 9)}`);
    write('15-empty.yaml', '# nothing here yet\n');
    const loaded = loadInventoryFiles(dir);
    expect(loaded.inventory.clusters.map((c) => c.name)).toEqual(['eu1', 'eu2', 'us1']);
    expect(loaded.files).toEqual(
      ['00-credentials.yaml', '10-eu.yaml', '15-empty.yaml', '20-us.yml'].map((f) => join(dir, f)),
    );
    expect(Object.fromEntries(loaded.clusterFiles)).toEqual({
      eu1: join(dir, '10-eu.yaml'),
      eu2: join(dir, '10-eu.yaml'),
      us1: join(dir, '20-us.yml'),
    });
    expect(loaded.inventory.credentials.replication.passwordFile).toBe('secrets/repl.pw');
  });

  test('a single file still loads as before', () => {
    const file = join(dir, 'one.yaml');
    writeFileSync(file, `clusters:\n${cluster('c', 1)}${CREDENTIALS}`);
    const loaded = loadInventoryFiles(file);
    expect(loaded.files).toEqual([file]);
    expect(loaded.clusterFiles.get('c')).toBe(file);
  });

  test('an empty directory is unreadable, saying what to put in it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'inventory-empty-'));
    try {
      const e = failure(empty);
      expect(e.kind).toBe('unreadable');
      expect(e.problems).toEqual([
        "no inventory file in the directory: put the inventory's *.yaml or *.yml files in it, or give the file itself",
      ]);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  test('every file that is not YAML is named', () => {
    write('10-eu.yaml', 'clusters: [\n');
    write('20-us.yml', 'a: b: c\n');
    const e = failure();
    expect(e.kind).toBe('unreadable');
    expect(e.problems).toHaveLength(2);
    expect(e.problems[0]).toMatch(/^10-eu\.yaml: not valid YAML: /);
    expect(e.problems[1]).toMatch(/^20-us\.yml: not valid YAML: /);
    expect(e.message.startsWith(`${dir}: `)).toBe(true);
  });

  test('a problem names its file and the path inside that file', () => {
    write(
      '20-us.yml',
      `clusters:\n${cluster('us1', 3)}${cluster('us2', 4).replace('10.0.4.12', '10.0.4.300')}`,
    );
    expect(failure().problems).toEqual([
      '20-us.yml: clusters[1].hosts[1].address: expected an IP address or a DNS host name, e.g. 10.0.0.11 or db1.example.com',
    ]);
  });

  test('a cluster defined in two files names both', () => {
    write('20-us.yml', `clusters:\n${cluster('us1', 3)}${cluster('eu2', 4)}`);
    expect(failure().problems).toEqual([
      '20-us.yml: clusters[1].name: cluster "eu2" is also defined in 10-eu.yaml: names must be unique across the inventory\'s files; rename or remove one',
    ]);
  });

  test('a cluster twice in one file keeps the single-file message', () => {
    write('20-us.yml', `clusters:\n${cluster('us1', 3)}${cluster('us1', 4)}`);
    expect(failure().problems).toEqual([
      '20-us.yml: clusters[1].name: duplicate cluster name "us1": names must be unique',
    ]);
  });

  test('credentials in two files, or in none, are refused naming the files', () => {
    write('20-us.yml', `clusters:\n${cluster('us1', 3)}${CREDENTIALS}`);
    expect(failure().problems).toEqual([
      'credentials: given in 00-credentials.yaml and 20-us.yml: an inventory directory holds it in exactly one file; keep one',
    ]);
    rmSync(join(dir, '00-credentials.yaml'));
    write('20-us.yml', `clusters:\n${cluster('us1', 3)}`);
    expect(failure().problems).toEqual([
      "credentials: missing: give it in exactly one of the inventory's files (10-eu.yaml, 20-us.yml)",
    ]);
  });

  test('the webhook section in two files is refused too', () => {
    const webhook = 'webhook:\n  tokenEnv: SO_TOKEN\n';
    write('10-eu.yaml', `clusters:\n${cluster('eu1', 1)}${webhook}`);
    write('20-us.yml', `clusters:\n${cluster('us1', 3)}${webhook}`);
    expect(failure().problems).toEqual([
      'webhook: given in 10-eu.yaml and 20-us.yml: an inventory directory holds it in exactly one file; keep one',
    ]);
  });

  test('a section problem names the file that holds the section', () => {
    write('00-credentials.yaml', CREDENTIALS.replace('passwordEnv: SO_PW', 'password: hunter2'));
    write(
      '10-eu.yaml',
      `clusters:\n${cluster('eu1', 1, '\n    traffic: { type: vip, address: 10.0.0.100/32, interface: eth0 }')}`,
    );
    const p = failure().problems;
    expect(p).toContain(
      '00-credentials.yaml: credentials.mysql.password: secrets are not written in the inventory: use passwordEnv or passwordFile',
    );
    expect(p).toContain(
      '00-credentials.yaml: credentials.ssh: cluster eu1 moves a VIP over SSH: add credentials.ssh with user and privateKeyFile',
    );
    expect(p).toContain(
      '10-eu.yaml: clusters[0].hosts[0].ssh: a VIP is moved over SSH: give ssh.hostKey for every host of this cluster',
    );
    expect(p.join('\n')).not.toContain('hunter2');
  });

  test('an unknown top-level field, a file that is not a mapping, clusters not a list', () => {
    write('30-typo.yaml', `clsuters:\n${cluster('x', 5)}`);
    write('40-list.yaml', '- a\n- b\n');
    write('50-bad.yaml', 'clusters: { name: y }\n');
    expect(failure().problems).toEqual([
      '30-typo.yaml: unknown field "clsuters": remove or correct it',
      '40-list.yaml: expected a mapping with clusters (and credentials or webhook in one file), got a list',
      '50-bad.yaml: clusters: expected a list of clusters',
    ]);
  });

  test('no cluster in any file', () => {
    rmSync(join(dir, '10-eu.yaml'));
    rmSync(join(dir, '20-us.yml'));
    expect(failure().problems).toEqual([
      'clusters: the inventory needs at least one cluster, got an empty list',
    ]);
  });

  test('`successover inventory check DIR` validates the directory', () => {
    const ok = cli('inventory', 'check', dir);
    expect(ok.stdout).toBe(`${dir}: valid (3 cluster(s), 6 host(s), 3 file(s))\n`);
    expect(ok.code).toBe(0);
    write('20-us.yml', `clusters:\n${cluster('eu1', 3)}`);
    const bad = cli('inventory', 'check', dir);
    // toContain: a checkout newer than its build says so on stderr first.
    expect(bad.stderr).toContain(
      `${dir}: 1 problem(s)\n  20-us.yml: clusters[0].name: cluster "eu1" is also defined in 10-eu.yaml: names must be unique across the inventory's files; rename or remove one\n`,
    );
    expect(bad.code).toBe(1);
  });
});

describe('secrets of a directory inventory', () => {
  test('relative secret files are read from the directory that holds the credentials file', () => {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'repl.pw'), 'r3pl\n');
    const s = resolveSecrets(loadInventory(dir), dir, { SO_PW: 'pw' });
    expect(s.replication).toEqual({ user: 'repl', password: 'r3pl' });
  });

  test('a missing one is named with the path it was looked for at', () => {
    expect(() => resolveSecrets(loadInventory(dir), dir, { SO_PW: 'pw' })).toThrow(
      `credentials.replication.passwordFile: cannot read ${join(dir, 'secrets', 'repl.pw')} (ENOENT)`,
    );
  });

  test("the webhook's secret files too", () => {
    write('05-webhook.yaml', 'webhook:\n  tokenFile: token\n');
    writeFileSync(join(dir, 'token'), 'T0KEN\n');
    const inv = loadInventory(dir);
    expect(resolveWebhookSecrets(inv.webhook!, dir, {})).toEqual({ token: 'T0KEN' });
  });
});

describe('InventoryFile on a directory', () => {
  const db3 = HostSchema.parse({ name: 'db3', address: '10.0.3.13', machine: 'hv7' });
  const names = (f: InventoryFile, c: string) => findCluster(f.current, c).hosts.map((h) => h.name);

  test('re-read when any file changes, or one is added or removed', () => {
    const warnings: string[] = [];
    const f = new InventoryFile(dir, (m) => warnings.push(m));
    const before = f.current;
    expect(f.current).toBe(before);
    write('20-us.yml', `clusters:\n${cluster('us1', 3)}${cluster('us2', 4)}`);
    expect(f.current.clusters.map((c) => c.name)).toEqual(['eu1', 'eu2', 'us1', 'us2']);
    write('30-ap.yaml', `clusters:\n${cluster('ap1', 5)}`);
    expect(f.current.clusters.map((c) => c.name)).toEqual(['eu1', 'eu2', 'us1', 'us2', 'ap1']);
    rmSync(join(dir, '10-eu.yaml'));
    expect(f.current.clusters.map((c) => c.name)).toEqual(['us1', 'us2', 'ap1']);
    // A change that breaks the directory is not taken, and said once.
    write('40-dup.yaml', `clusters:\n${cluster('ap1', 6)}`);
    expect(f.current.clusters.map((c) => c.name)).toEqual(['us1', 'us2', 'ap1']);
    expect(f.current.clusters.map((c) => c.name)).toEqual(['us1', 'us2', 'ap1']);
    expect(warnings).toEqual([
      expect.stringMatching(/not taken.*40-dup\.yaml: clusters\[0\]\.name: cluster "ap1"/s),
    ]);
  });

  test('addHost and removeHost edit the file that holds the cluster, and only it', async () => {
    const f = new InventoryFile(dir);
    const eu = read('10-eu.yaml');
    const us = read('20-us.yml');
    expect(f.fileOf('us1')).toBe(join(dir, '20-us.yml'));
    const after = await f.addHost('us1', db3);
    expect(findCluster(after, 'us1').hosts.at(-1)).toEqual(db3);
    expect(read('20-us.yml')).toContain('  - name: db3\n        address: 10.0.3.13\n        machine: hv7\n');
    expect(read('20-us.yml')).toContain('# cluster us1');
    expect(read('10-eu.yaml')).toBe(eu);
    expect(names(f, 'us1')).toEqual(['db1', 'db2', 'db3']);
    await f.removeHost('us1', 'db3');
    expect(read('20-us.yml')).toBe(us);
  });

  test('a change that would break the directory is refused naming the file, which is left as it was', async () => {
    const f = new InventoryFile(dir);
    const us = read('20-us.yml');
    await expect(f.addHost('us1', { ...db3, name: 'db1' })).rejects.toThrow(
      new RegExp(
        `^the inventory would not be valid after the change, ${join(dir, '20-us.yml')} is left as it was: .*20-us\\.yml: clusters\\[0\\]\\.hosts\\[2\\]\\.name: duplicate host name "db1"`,
        's',
      ),
    );
    await expect(f.addHost('ap9', db3)).rejects.toThrow('the inventory has no cluster ap9');
    expect(read('20-us.yml')).toBe(us);
  });
});
