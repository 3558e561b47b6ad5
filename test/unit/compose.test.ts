// docker-compose.yml for Docker users, validated without a Docker engine: Compose's own parser
// (Debian's docker-compose), then every cross-reference between the compose file, the inventory
// it mounts, the MariaDB and HAProxy configuration and the Dockerfile. Each check names the file
// that drifted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateInventory, type Cluster, type Inventory } from '../../domain/inventory';
import { SEARCH_ATTRIBUTES } from '../../temporal/devserver';
import {
  composeConfig,
  COMPOSE_FILE,
  DEPLOY,
  flag,
  installed,
  mountedFile,
  readYaml,
  REPO,
  run,
  sourceOf,
  type Compose,
  type Service,
} from './compose.fixtures';

const INVENTORY_TARGET = '/etc/successover/inventory.yaml';
const COMPOSE_DIR = join(DEPLOY, 'compose');

let compose: Compose;
let inventoryFile: string;
let inventory: Inventory;
let cluster: Cluster;

const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s)
    throw new Error(
      `docker-compose.yml has no service "${name}" (it has ${Object.keys(compose.services).join(', ')})`,
    );
  return s;
};
const read = (file: string) => readFileSync(file, 'utf8');

beforeAll(() => {
  if (!installed('docker-compose'))
    throw new Error("Debian's docker-compose is not installed: run npm run setup (it installs it)");
  compose = composeConfig();
  inventoryFile = mountedFile(service('worker'), INVENTORY_TARGET) ?? '(not mounted)';
  const r = validateInventory(readYaml(inventoryFile));
  if (!r.ok) throw new Error(`${inventoryFile}:\n  ${r.problems.join('\n  ')}`);
  inventory = r.inventory;
  [cluster] = inventory.clusters;
});

describe('docker-compose.yml', () => {
  it("passes Debian's `docker-compose config`", () => {
    const r = run('docker-compose', ['-f', COMPOSE_FILE, 'config', '--quiet']);
    expect(r).toEqual({ status: 0, output: '' });
  });

  it('runs the worker and the webhook receiver on the inventory under deploy/compose', () => {
    expect(inventoryFile).toBe(join(COMPOSE_DIR, 'inventory.yaml'));
    expect(mountedFile(service('webhook'), INVENTORY_TARGET)).toBe(inventoryFile);
    expect(flag(service('worker').command, '--inventory')).toBe(INVENTORY_TARGET);
    expect(flag(service('webhook').command, '--inventory')).toBe(INVENTORY_TARGET);
    expect(service('worker').command?.[0]).toBe('worker');
    expect(service('webhook').command?.slice(0, 2)).toEqual(['webhook', 'serve']);
    // Reachable by Alertmanager on the compose network, not only on the container's loopback.
    expect(flag(service('webhook').command, '--host')).toBe('0.0.0.0');
  });

  it('mounts an inventory that `successover inventory check` accepts', () => {
    const r = run(process.execPath, [
      join(REPO, 'bin', 'successover.js'),
      'inventory',
      'check',
      inventoryFile,
    ]);
    expect(r.output).toContain(`${inventoryFile}: valid (1 cluster(s), 3 host(s))`);
    expect(r.status).toBe(0);
  });

  it('has a service for every host the inventory names, reached by its service name', () => {
    expect(inventory.clusters).toHaveLength(1);
    expect(cluster.flavor).toBe('mariadb');
    for (const h of cluster.hosts) {
      expect({ host: h.name, address: h.address, port: h.port }).toEqual({
        host: h.name,
        address: h.name,
        port: 3306,
      });
      expect(service(h.address).image).toMatch(/^mariadb:10\.11/);
    }
    expect(cluster.primary).toBe('db1');
  });

  it('gives the worker and the receiver every secret the inventory refers to, from the init volume', () => {
    const files = [
      inventory.credentials.mysql.passwordFile,
      inventory.credentials.replication.passwordFile,
      inventory.webhook?.tokenFile,
    ];
    expect(inventory.credentials.mysql.passwordEnv).toBeUndefined();
    const made = read(join(COMPOSE_DIR, 'init.sh'));
    for (const file of files) {
      expect(file).toMatch(/^\/run\/successover\/secrets\/[^/]+$/);
      const name = (file as string).split('/').pop() as string;
      for (const s of ['worker', 'webhook'])
        expect(sourceOf(service(s), file as string)).toBe(`volume:secrets/${name}`);
      expect(made).toMatch(new RegExp(`for name in [^\\n]*\\b${name.replace('.', '\\.')}\\b`));
    }
    // The init service writes them into that very volume, and runs before anyone reads them.
    expect(mountedFile(service('init'), '/opt/successover/init.sh')).toBe(join(COMPOSE_DIR, 'init.sh'));
    expect(service('init').mounts).toContainEqual(
      expect.objectContaining({ source: 'secrets', readOnly: false }),
    );
    for (const s of ['worker', 'webhook', 'db1', 'db2', 'db3', 'alertmanager', 'exporter-db1'])
      expect([s, service(s).depends_on.init?.condition]).toEqual([s, 'service_completed_successfully']);
  });

  it('connects the worker and the receiver to the temporal service, which registers the search attributes', () => {
    const temporal = service('temporal');
    const port = flag(temporal.command, '--port');
    for (const s of ['worker', 'webhook']) {
      expect(service(s).environment.TEMPORAL_ADDRESS).toBe(`temporal:${port}`);
      expect(service(s).depends_on.temporal?.condition).toBe('service_healthy');
    }
    expect(flag(temporal.command, '--ip')).toBe('0.0.0.0');
    const registered = (temporal.command ?? []).flatMap((a, i, all) =>
      all[i - 1] === '--search-attribute' ? [a] : [],
    );
    expect(registered.sort()).toEqual(SEARCH_ATTRIBUTES.map((a) => `${a}=Keyword`).sort());
    expect(temporal.mounts).toContainEqual(
      expect.objectContaining({ source: 'temporal-data', target: '/data' }),
    );
    expect(flag(temporal.command, '--db-filename')).toMatch(/^\/data\//);
  });

  it('starts the worker only once the bootstrap has made the primary writable', () => {
    expect(service('worker').depends_on.bootstrap?.condition).toBe('service_completed_successfully');
    for (const h of cluster.hosts)
      expect(service('bootstrap').depends_on[h.address]?.condition).toBe('service_healthy');
    const bootstrap = read(join(COMPOSE_DIR, 'bootstrap.sh'));
    const replicas = cluster.hosts.filter((h) => h.name !== cluster.primary).map((h) => h.name);
    expect(bootstrap).toContain(`primary=${cluster.primary}\n`);
    expect(bootstrap).toContain(`replicas=(${replicas.join(' ')})\n`);
    expect(bootstrap).toContain(`user = ${inventory.credentials.mysql.user}`);
  });

  it('publishes ports on the Docker host loopback only', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      s.ports.map((p) => `${name} ${p}`),
    );
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p).toMatch(/^\S+ 127\.0\.0\.1:\d+:\d+(\/tcp)?$/);
  });

  it('every volume is declared and every service runs a pinned image or the Dockerfile', () => {
    const used = Object.values(compose.services).flatMap((s) =>
      s.mounts.filter((m) => !m.bind).map((m) => m.source),
    );
    expect([...new Set(used)].sort()).toEqual([...compose.volumes].sort());
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build) expect([name, s.build.context]).toEqual([name, REPO]);
      else expect([name, s.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:[\w.-]+$/)]);
      expect([name, s.image]).not.toEqual([name, expect.stringMatching(/:latest$/)]);
    }
  });
});

describe('the MariaDB nodes', () => {
  const replicationCnf = () => read(join(COMPOSE_DIR, 'mariadb', 'replication.cnf'));

  it('share the replication configuration: read-only at start, binlog, GTID strict mode', () => {
    const cnf = replicationCnf();
    for (const line of [
      'read_only = 1',
      'log_bin = ',
      'log_slave_updates = 1',
      'gtid_strict_mode = 1',
      'binlog_format = ROW',
    ])
      expect(cnf).toMatch(new RegExp(`^${line}`, 'm'));
    for (const h of cluster.hosts)
      expect(mountedFile(service(h.address), '/etc/mysql/conf.d/10-replication.cnf')).toBe(
        join(COMPOSE_DIR, 'mariadb', 'replication.cnf'),
      );
  });

  it('each have their own server id and report their service name', () => {
    const ids = cluster.hosts.map((h) => {
      const file = mountedFile(service(h.address), '/etc/mysql/conf.d/20-node.cnf') as string;
      expect(file).toBe(join(COMPOSE_DIR, 'mariadb', `${h.name}.cnf`));
      const cnf = read(file);
      expect(cnf).toMatch(new RegExp(`^report_host = ${h.address}$`, 'm'));
      return /^server_id = (\d+)$/m.exec(cnf)?.[1];
    });
    expect(ids.every((id) => id !== undefined && Number(id) > 0)).toBe(true);
    expect(new Set(ids).size).toBe(cluster.hosts.length);
  });

  it('are initialized by the project script: its accounts are the inventory`s, replicas follow the primary', () => {
    const script = join(COMPOSE_DIR, 'mariadb', 'initdb.d', '10-successover.sh');
    const sql = read(script);
    for (const user of [inventory.credentials.mysql.user, inventory.credentials.replication.user])
      expect(sql).toContain(`CREATE USER '${user}'@'%'`);
    expect(sql).toContain(`MASTER_USER = '${inventory.credentials.replication.user}'`);
    expect(sql).toContain('MASTER_USE_GTID = slave_pos');
    expect(sql).toContain('SET SESSION sql_log_bin = 0;');
    for (const h of cluster.hosts) {
      const db = service(h.address);
      expect(sourceOf(db, '/docker-entrypoint-initdb.d/10-successover.sh')).toBe(script);
      expect(db.environment.MARIADB_ROOT_PASSWORD_FILE).toMatch(/^\/run\/successover\/secrets\//);
      expect(sourceOf(db, db.environment.MARIADB_ROOT_PASSWORD_FILE)).toMatch(/^volume:secrets\//);
      expect([h.name, db.environment.SUCCESSOVER_SOURCE]).toEqual([
        h.name,
        h.name === cluster.primary ? undefined : cluster.primary,
      ]);
      expect(db.healthcheck?.test).toEqual(expect.arrayContaining(['healthcheck.sh']));
    }
  });

  it('each have one mysqld_exporter pointed at them', () => {
    for (const h of cluster.hosts) {
      const e = service(`exporter-${h.name}`);
      expect(e.image).toMatch(/^prom\/mysqld-exporter:/);
      expect(flag(e.command, '--mysqld.address')).toBe(`${h.address}:${h.port}`);
      expect(sourceOf(e, flag(e.command, '--config.my-cnf') as string)).toBe('volume:secrets/exporter.cnf');
    }
    expect(read(join(COMPOSE_DIR, 'init.sh'))).toContain('put exporter.cnf');
  });
});

describe('HAProxy, the traffic router', () => {
  const traffic = () => {
    if (cluster.traffic.type !== 'haproxy')
      throw new Error(`traffic is ${cluster.traffic.type}, expected haproxy`);
    return cluster.traffic;
  };
  const cfg = () => read(mountedFile(service('haproxy'), '/usr/local/etc/haproxy/haproxy.cfg') as string);

  it('is the configuration under deploy/compose, with the runtime API where the inventory says', () => {
    expect(mountedFile(service('haproxy'), '/usr/local/etc/haproxy/haproxy.cfg')).toBe(
      join(COMPOSE_DIR, 'haproxy.cfg'),
    );
    const m = /^tcp:([^:]+):(\d+)$/.exec(traffic().runtimeApi);
    expect(m).not.toBeNull();
    const [, host, port] = m as RegExpExecArray;
    expect(service(host).image).toMatch(/^haproxy:/);
    expect(cfg()).toMatch(new RegExp(`^\\s*stats socket ipv4@0\\.0\\.0\\.0:${port} level admin$`, 'm'));
  });

  it('has a server per inventory host in the writer backend, only the primary enabled', () => {
    const backend = new RegExp(`^backend ${traffic().backend}\\n((?:[ \\t].*\\n|\\n)*)`, 'm').exec(cfg());
    expect(backend).not.toBeNull();
    const servers = [...(backend as RegExpExecArray)[1].matchAll(/^\s*server (\S+) (\S+)(.*)$/gm)].map(
      (s) => ({
        name: s[1],
        address: s[2],
        enabled: !/\bdisabled\b/.test(s[3]),
      }),
    );
    expect(servers).toEqual(
      cluster.hosts.map((h) => ({
        name: traffic().servers[h.name] ?? h.name,
        address: `${h.address}:${h.port}`,
        enabled: h.name === cluster.primary,
      })),
    );
  });

  it('the haproxy binary accepts the configuration, when it is installed', () => {
    if (!installed('haproxy')) return;
    const r = run('haproxy', ['-c', '-f', join(COMPOSE_DIR, 'haproxy.cfg')]);
    expect([r.status, r.output]).toEqual([0, expect.stringContaining('Configuration file is valid')]);
  });
});

describe('the Dockerfile', () => {
  const dockerfile = () => read(join(REPO, 'Dockerfile'));
  const stages = () => [...dockerfile().matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);

  it('has every build target the compose file asks for, and successover as its default (last) stage', () => {
    const targets = Object.values(compose.services).flatMap((s) => (s.build?.target ? [s.build.target] : []));
    for (const t of targets) expect(stages()).toContain(t);
    expect(stages().at(-1)).toBe('successover');
    expect(service('worker').build?.target).toBeUndefined();
    expect(dockerfile()).toContain('ln -s /opt/successover/bin/successover.js /usr/local/bin/successover');
  });

  it('builds the Temporal CLI at the version `npm run setup` builds', () => {
    const setup = /^TEMPORAL_CLI_VERSION=(\S+)$/m.exec(read(join(REPO, 'scripts', 'setup.sh')))?.[1];
    expect(setup).toBeDefined();
    expect(dockerfile()).toContain(`ARG TEMPORAL_CLI_VERSION=${setup}\n`);
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = read(join(REPO, '.dockerignore')).split('\n');
    for (const p of ['.git', 'node_modules', '.tools', '.data', '.lab']) expect(ignored).toContain(p);
  });
});
