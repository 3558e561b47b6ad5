import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateInventory, findCluster, type Inventory } from '../../domain/inventory';
import { resolveSecrets } from '../../worker/secrets';
import { loadInventory, InventoryError } from '../../worker/loadInventory';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvXk0Zr1pZ0mJg7m0l6fYb3x1y2z3A4B5C6D7E8F9G0';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents mutated freely to break them
function valid(): Record<string, any> {
  return {
    clusters: [
      {
        name: 'r2d2',
        flavor: 'mariadb',
        hosts: [
          {
            name: 'db1',
            address: '10.0.0.11',
            ssh: { hostKey: KEY },
            promotion: 'prefer',
            dataCenter: 'dc1',
          },
          { name: 'db2', address: '10.0.0.12', ssh: { hostKey: KEY } },
        ],
        traffic: { type: 'vip', address: '10.0.0.100/32', interface: 'eth0' },
        policy: { maxLagSeconds: 5 },
      },
    ],
    credentials: {
      mysql: { user: 'successover', passwordEnv: 'SO_PW' },
      replication: { user: 'repl', passwordFile: 'repl.pw' },
      ssh: { user: 'ops', privateKeyFile: 'id_ed25519' },
    },
  };
}

function problems(doc: unknown): string[] {
  const r = validateInventory(doc);
  if (r.ok) throw new Error('expected the inventory to be invalid');
  return r.problems;
}

describe('inventory schema', () => {
  test.each(['not a host!!', '10.0.0.256', 'db1..example.com', '-db1', ''])(
    'address %j is refused, naming the field and the fix',
    (address) => {
      const doc = valid();
      doc.clusters[0].hosts[1].address = address;
      expect(problems(doc)).toContainEqual(
        'clusters[0].hosts[1].address: expected an IP address or a DNS host name, e.g. 10.0.0.11 or db1.example.com',
      );
    },
  );

  test.each(['10.0.0.12', 'db2.example.com', 'db2', '2001:db8::12', '::1'])(
    'address %j is accepted',
    (address) => {
      const doc = valid();
      doc.clusters[0].hosts[1].address = address;
      expect(validateInventory(doc).ok).toBe(true);
    },
  );

  test('two hosts with one address and port are refused (a runbook on db2 would act on db1)', () => {
    const doc = valid();
    doc.clusters[0].hosts[1].address = '10.0.0.11';
    expect(problems(doc)).toEqual([
      "clusters[0].hosts[1].address: 10.0.0.11:3306 is also host db1's address and port in cluster r2d2: a runbook acting on one would act on the other; fix the address or the port",
    ]);
    doc.clusters[0].hosts[1].port = 3307;
    expect(validateInventory(doc).ok).toBe(true);
  });

  test.each([
    '/',
    '/etc',
    '/usr',
    '/var',
    '/var/lib',
    '/home',
    '/etc/mysql',
    '/var/lib/../../etc',
    'var/lib/mysql',
  ])('service.datadir %j is refused', (datadir) => {
    const doc = valid();
    doc.clusters[0].hosts[1].service = { datadir, startCommand: 'start', stopCommand: 'stop' };
    const p = problems(doc);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(
      /^clusters\[0\]\.hosts\[1\]\.service\.datadir: .*(system directory|absolute path|plain path)/,
    );
  });

  test('a real data directory is accepted', () => {
    const doc = valid();
    doc.clusters[0].hosts[1].service = {
      datadir: '/var/lib/mysql',
      startCommand: 'start',
      stopCommand: 'stop',
    };
    expect(validateInventory(doc).ok).toBe(true);
  });

  test('a valid inventory gets its defaults', () => {
    const r = validateInventory(valid());
    if (!r.ok) throw new Error(r.problems.join('\n'));
    const c = r.inventory.clusters[0];
    expect(c.hosts[0].port).toBe(3306);
    expect(c.hosts[1].promotion).toBe('neutral');
    expect(c.hosts[0].ssh?.port).toBe(22);
    expect(c.policy.relayLogWaitSeconds).toBe(600);
    expect(c.policy.maxLagSeconds).toBe(5);
    expect(c.policy.errantGtids).toBe('abort');
  });

  test('reports every problem at once, each with its path', () => {
    const doc = valid();
    doc.clusters[0].hosts[1].port = 'abc';
    doc.clusters[0].flavor = 'postgres';
    doc.clusters[0].hosts[0].promotion = 'preferred';
    const p = problems(doc);
    expect(p).toContain('clusters[0].hosts[1].port: expected an integer 1-65535, got "abc"');
    expect(p).toContain('clusters[0].flavor: expected one of mariadb, mysql, got "postgres"');
    expect(p).toContain(
      'clusters[0].hosts[0].promotion: expected one of must, prefer, neutral, prefer_not, must_not, got "preferred"',
    );
  });

  test('out-of-range port', () => {
    const doc = valid();
    doc.clusters[0].hosts[0].port = 70000;
    expect(problems(doc)).toEqual(['clusters[0].hosts[0].port: expected an integer 1-65535, got 70000']);
  });

  test('duplicate host names are reported alongside field errors', () => {
    const doc = valid();
    doc.clusters[0].hosts[1].name = 'db1';
    doc.clusters[0].hosts[1].port = -1;
    const p = problems(doc);
    expect(p).toContain(
      'clusters[0].hosts[1].name: duplicate host name "db1" in cluster r2d2: rename one of them',
    );
    expect(p.some((x) => x.startsWith('clusters[0].hosts[1].port:'))).toBe(true);
  });

  test('duplicate cluster names', () => {
    const doc = valid();
    doc.clusters.push(structuredClone(doc.clusters[0]));
    expect(problems(doc)).toEqual(['clusters[1].name: duplicate cluster name "r2d2": names must be unique']);
  });

  test('a VIP without an interface', () => {
    const doc = valid();
    delete doc.clusters[0].traffic.interface;
    expect(problems(doc)).toEqual([
      'clusters[0].traffic.interface: missing: a VIP needs the network interface to add it on, e.g. interface: eth0',
    ]);
  });

  test('a VIP needs SSH on every host and SSH credentials', () => {
    const doc = valid();
    delete doc.clusters[0].hosts[1].ssh;
    delete doc.credentials.ssh;
    const p = problems(doc);
    expect(p).toContain(
      'clusters[0].hosts[1].ssh: a VIP is moved over SSH: give ssh.hostKey for every host of this cluster',
    );
    expect(p).toContain(
      'credentials.ssh: cluster r2d2 moves a VIP over SSH: add credentials.ssh with user and privateKeyFile',
    );
  });

  test('a traffic router missing its settings, and an unknown router', () => {
    const doc = valid();
    doc.clusters[0].traffic = { type: 'haproxy', backend: 'w' };
    expect(problems(doc)).toEqual([
      'clusters[0].traffic.runtimeApi: missing: haproxy needs runtimeApi, e.g. runtimeApi: unix:/run/haproxy/admin.sock',
    ]);
    doc.clusters[0].traffic = { type: 'f5' };
    expect(problems(doc)[0]).toMatch(/^clusters\[0\]\.traffic\.type: expected one of vip, haproxy, none/);
  });

  test('unknown fields are named', () => {
    const doc = valid();
    doc.clusters[0].hosts[0].adress = 'x';
    expect(problems(doc)).toEqual(['clusters[0].hosts[0]: unknown field "adress": remove or correct it']);
  });

  test('allow/deny/primary must name hosts of the cluster', () => {
    const doc = valid();
    doc.clusters[0].policy.deny = ['db2', 'db9'];
    doc.clusters[0].primary = 'db7';
    expect(problems(doc).sort()).toEqual([
      'clusters[0].policy.deny[1]: unknown host "db9": expected one of db1, db2',
      'clusters[0].primary: unknown host "db7": expected one of db1, db2',
    ]);
  });

  test('secrets written inline are refused without echoing them', () => {
    const doc = valid();
    doc.credentials.mysql = { user: 'so', password: 'hunter2' };
    const p = problems(doc);
    expect(p.join('\n')).not.toContain('hunter2');
    expect(p).toContain(
      'credentials.mysql.password: secrets are not written in the inventory: use passwordEnv or passwordFile',
    );
  });

  test('exactly one password reference', () => {
    const doc = valid();
    doc.credentials.mysql = { user: 'so', passwordEnv: 'A', passwordFile: '/x' };
    expect(problems(doc)).toEqual(['credentials.mysql: give exactly one of passwordEnv or passwordFile']);
  });

  test('host.service: how mariadbd is stopped and started for a physical restore', () => {
    const doc = valid();
    const service = {
      datadir: '/var/lib/mysql',
      startCommand: 'systemctl start mariadb',
      stopCommand: 'systemctl stop mariadb',
    };
    doc.clusters[0].hosts[0].service = service;
    const r = validateInventory(doc);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.inventory.clusters[0].hosts[0].service).toEqual(service);
    // Optional: without it, physical restores to that host are refused (by provisioning).
    expect(r.inventory.clusters[0].hosts[1].service).toBeUndefined();
    doc.clusters[0].hosts[0].service = { datadir: 'data', startCommand: '', restartCommand: 'x' };
    expect(problems(doc).sort()).toEqual([
      'clusters[0].hosts[0].service.datadir: expected an absolute path, e.g. /var/lib/mysql, got "data"',
      'clusters[0].hosts[0].service.startCommand: expected a shell command, e.g. systemctl start mariadb, got ""',
      'clusters[0].hosts[0].service.stopCommand: missing (expected string)',
      'clusters[0].hosts[0].service: unknown field "restartCommand": remove or correct it',
    ]);
  });

  test('findCluster names the known clusters', () => {
    const r = validateInventory(valid());
    if (!r.ok) throw new Error('invalid');
    expect(() => findCluster(r.inventory, 'nope')).toThrow('unknown cluster "nope": the inventory has r2d2');
  });
});

describe('inventory webhook section', () => {
  test('optional; when given it gets its defaults', () => {
    const none = validateInventory(valid());
    if (!none.ok) throw new Error(none.problems.join('\n'));
    expect(none.inventory.webhook).toBeUndefined();
    const doc = valid();
    doc.webhook = { tokenFile: '/etc/successover/webhook.token', grafana: { secretEnv: 'GRAFANA_HMAC' } };
    const r = validateInventory(doc);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.inventory.webhook).toEqual({
      clusterLabel: 'cluster',
      primaryLabels: ['primary', 'instance'],
      primaryDownAlerts: ['MySQLPrimaryDown', 'MariaDBPrimaryDown'],
      recordedAlerts: [
        'MySQLReplicationLag',
        'MySQLReplicationBroken',
        'MariaDBReplicationLag',
        'MariaDBReplicationBroken',
      ],
      tokenFile: '/etc/successover/webhook.token',
      bodyLimitBytes: 262144,
      grafana: { secretEnv: 'GRAFANA_HMAC', header: 'X-Grafana-Alerting-Signature', maxSkewSeconds: 300 },
    });
  });

  test('secrets written inline are refused without echoing them', () => {
    const doc = valid();
    doc.webhook = { token: 'hunter2', grafana: { secret: 'hunter3' }, pagerduty: { secret: 'hunter4' } };
    const p = problems(doc);
    expect(p.join('\n')).not.toMatch(/hunter/);
    expect(p).toContain('webhook.token: secrets are not written in the inventory: use tokenEnv or tokenFile');
    expect(p).toContain(
      'webhook.grafana.secret: secrets are not written in the inventory: use secretEnv or secretFile',
    );
    expect(p).toContain(
      'webhook.pagerduty.secret: secrets are not written in the inventory: use secretEnv or secretFile',
    );
  });

  test('one reference per secret, and at least one credential', () => {
    const doc = valid();
    doc.webhook = { tokenEnv: 'A', tokenFile: '/b' };
    expect(problems(doc)).toEqual(['webhook: give at most one of tokenEnv or tokenFile']);
    doc.webhook = { tokenEnv: 'A', grafana: { secretEnv: 'G', secretFile: '/g' }, pagerduty: {} };
    expect(problems(doc)).toEqual([
      'webhook.grafana: give exactly one of secretEnv or secretFile',
      'webhook.pagerduty: give exactly one of secretEnv or secretFile',
    ]);
    doc.webhook = { clusterLabel: 'db_cluster' };
    expect(problems(doc)).toEqual([
      'webhook: every request is authenticated: give tokenEnv or tokenFile (and/or grafana, pagerduty)',
    ]);
  });

  test('PagerDuty services name clusters; an alert is either a primary failure or recorded', () => {
    const doc = valid();
    doc.webhook = {
      tokenEnv: 'T',
      recordedAlerts: ['MySQLReplicationLag', 'MySQLPrimaryDown'],
      pagerduty: { secretEnv: 'PD', services: { PABC123: 'r2d2', PDEF456: 'c3po' } },
    };
    expect(problems(doc).sort()).toEqual([
      'webhook.pagerduty.services.PDEF456: unknown cluster "c3po": expected one of r2d2',
      'webhook.recordedAlerts[1]: "MySQLPrimaryDown" is also in primaryDownAlerts: an alert starts a recovery or is only recorded',
    ]);
  });

  test('field errors are named', () => {
    const doc = valid();
    doc.webhook = { tokenEnv: 'not a variable', bodyLimitBytes: 10, clusterLable: 'x' };
    expect(problems(doc).sort()).toEqual([
      'webhook.bodyLimitBytes: Too small: expected number to be >=1024, got 10',
      'webhook.tokenEnv: expected an environment variable name',
      'webhook: unknown field "clusterLable": remove or correct it',
    ]);
  });
});

describe('inventory files and secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'so-inv-'));

  test('unreadable and malformed files', () => {
    expect(() => loadInventory(join(dir, 'missing.yaml'))).toThrow(InventoryError);
    writeFileSync(join(dir, 'bad.yaml'), 'clusters: [\n');
    try {
      loadInventory(join(dir, 'bad.yaml'));
      throw new Error('expected a failure');
    } catch (e) {
      expect((e as InventoryError).kind).toBe('unreadable');
    }
  });

  test('secrets resolve on the worker from env and files, relative to the inventory', () => {
    writeFileSync(join(dir, 'repl.pw'), 'r3pl\n');
    writeFileSync(join(dir, 'id_ed25519'), 'KEYDATA');
    const r = validateInventory(valid());
    if (!r.ok) throw new Error('invalid');
    const s = resolveSecrets(r.inventory as Inventory, join(dir, 'inv.yaml'), { SO_PW: 's3cret' });
    expect(s.mysql).toEqual({ user: 'successover', password: 's3cret' });
    expect(s.replication).toEqual({ user: 'repl', password: 'r3pl' });
    expect(s.ssh?.privateKey.toString()).toBe('KEYDATA');
  });

  test('a missing variable or file is named', () => {
    const r = validateInventory(valid());
    if (!r.ok) throw new Error('invalid');
    expect(() => resolveSecrets(r.inventory, join(dir, 'inv.yaml'), {})).toThrow(
      'credentials.mysql.passwordEnv: environment variable SO_PW is not set',
    );
    expect(() => resolveSecrets(r.inventory, '/nonexistent/inv.yaml', { SO_PW: 'x' })).toThrow(
      /credentials\.replication\.passwordFile: cannot read \/nonexistent\/repl\.pw \(ENOENT\)/,
    );
  });

  test('a variable named like a built-in of objects is read from the environment only', () => {
    const doc = valid();
    doc.credentials.mysql.passwordEnv = 'constructor';
    const r = validateInventory(doc);
    if (!r.ok) throw new Error('invalid');
    expect(() => resolveSecrets(r.inventory, join(dir, 'inv.yaml'), {})).toThrow(
      'credentials.mysql.passwordEnv: environment variable constructor is not set',
    );
  });
});
