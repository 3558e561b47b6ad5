// The worker's inventory file: re-read when it changes (a bad change is not taken), and a host a
// run adds is written with the file's comments kept; a change that would break it is refused.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCluster, HostSchema } from '../../domain/inventory';
import { InventoryFile } from '../../worker/inventoryFile';

const KEY1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvXk0Zr1pZ0mJg7m0l6fYb3x1y2z3A4B5C6D7E8F9G1';
const KEY4 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvXk0Zr1pZ0mJg7m0l6fYb3x1y2z3A4B5C6D7E8F9G4';

const TEXT = `# Production clusters: owned by the DBA team.
clusters:
  - name: r2d2 # the payments cluster
    flavor: mariadb
    hosts:
      - name: db1
        address: 10.0.0.11
        ssh: { hostKey: "${KEY1}" }
      # db2 is in the other rack
      - name: db2
        address: 10.0.0.12
credentials:
  mysql: { user: successover, passwordEnv: SO_PW }
  replication: { user: repl, passwordEnv: SO_REPL }
`;

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'inventory-file-'));
  file = join(dir, 'inventory.yaml');
  writeFileSync(file, TEXT, { mode: 0o640 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const names = (f: InventoryFile) => findCluster(f.current, 'r2d2').hosts.map((h) => h.name);
const db4 = HostSchema.parse({
  name: 'db4',
  address: '10.0.0.14',
  ssh: { hostKey: KEY4 },
  optionFile: '/etc/mysql/conf.d/zz-successover.cnf',
  service: {
    datadir: '/var/lib/mysql',
    startCommand: 'systemctl start mariadb',
    stopCommand: 'systemctl stop mariadb',
  },
});

test('an edit of the file is seen at the next read; an invalid one is not taken, and said once', () => {
  const warnings: string[] = [];
  const f = new InventoryFile(file, (m) => warnings.push(m));
  const before = f.current;
  expect(f.current).toBe(before); // not parsed again while unchanged
  writeFileSync(
    file,
    TEXT.replace(
      '      - name: db2\n        address: 10.0.0.12\n',
      '      - name: db2\n        address: 10.0.0.12\n      - name: db3\n        address: 10.0.0.13\n',
    ),
  );
  expect(names(f)).toEqual(['db1', 'db2', 'db3']);
  writeFileSync(file, TEXT.replace('flavor: mariadb', 'flavor: oracle'));
  expect(names(f)).toEqual(['db1', 'db2', 'db3']);
  expect(names(f)).toEqual(['db1', 'db2', 'db3']);
  expect(warnings).toEqual([
    expect.stringMatching(
      /^the changed inventory is not taken, .*clusters\[0\]\.flavor: expected one of mariadb, mysql/s,
    ),
  ]);
  writeFileSync(file, TEXT);
  expect(names(f)).toEqual(['db1', 'db2']);
});

test('addHost appends the entry (defaults left out), keeps comments and mode; removeHost takes it out', async () => {
  const f = new InventoryFile(file);
  const after = await f.addHost('r2d2', db4);
  expect(findCluster(after, 'r2d2').hosts.at(-1)).toEqual(db4);
  expect(names(f)).toEqual(['db1', 'db2', 'db4']);
  const text = readFileSync(file, 'utf8');
  for (const comment of [
    '# Production clusters: owned by the DBA team.',
    '# the payments cluster',
    '# db2 is in the other rack',
  ])
    expect(text).toContain(comment);
  expect(text).toContain('  - name: db4\n');
  expect(text).not.toMatch(/promotion|port: 3306/);
  expect(statSync(file).mode & 0o777).toBe(0o640);
  expect(readdirSync(dir)).toEqual(['inventory.yaml']);

  await f.removeHost('r2d2', 'db4');
  expect(names(f)).toEqual(['db1', 'db2']);
  expect(readFileSync(file, 'utf8')).toBe(TEXT);
  // Removing what is not there changes nothing.
  await f.removeHost('r2d2', 'db4');
  expect(readFileSync(file, 'utf8')).toBe(TEXT);
});

test('a change that would make the inventory invalid is refused and the file left as it was', async () => {
  const f = new InventoryFile(file);
  await expect(f.addHost('r2d2', { ...db4, name: 'db1' })).rejects.toThrow(
    /^the inventory would not be valid after the change, .*inventory\.yaml is left as it was: .*duplicate host name "db1"/s,
  );
  await expect(f.addHost('c3po', db4)).rejects.toThrow('the inventory has no cluster c3po');
  expect(readFileSync(file, 'utf8')).toBe(TEXT);
  expect(readdirSync(dir)).toEqual(['inventory.yaml']);
});

test('adds at the same time are written one after the other: none is lost', async () => {
  const f = new InventoryFile(file);
  const hosts = [4, 5, 6, 7].map((i) =>
    HostSchema.parse({
      name: `db${i}`,
      address: `10.0.0.${10 + i}`,
      ssh: { hostKey: KEY4.replace(/G4$/, `G${i}`) },
    }),
  );
  await Promise.all(hosts.map((h) => f.addHost('r2d2', h)));
  expect(names(new InventoryFile(file))).toEqual(['db1', 'db2', 'db4', 'db5', 'db6', 'db7']);
});
