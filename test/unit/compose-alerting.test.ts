// The alerting chain of the compose topology and the lab: Prometheus scrapes one mysqld_exporter
// per MariaDB with the cluster and host labels the webhook receiver reads, its rules raise only
// alerts the inventory knows, and Alertmanager posts them to the receiver with the inventory's
// token. The files are the ones under deploy/ that the compose file mounts; promtool and amtool
// (Debian packages prometheus and prometheus-alertmanager) check them when installed.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { validateInventory, type Inventory } from '../../domain/inventory';
import {
  composeConfig,
  DEPLOY,
  flag,
  installed,
  mountedFile,
  readYaml,
  run,
  sourceOf,
  type Compose,
  type Service,
} from './compose.fixtures';

interface PromConfig {
  global: Record<string, string>;
  rule_files: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: {
    job_name: string;
    static_configs: { targets: string[]; labels?: Record<string, string> }[];
  }[];
}
interface Rules {
  groups: { rules: { alert: string; expr: string; for?: string; labels?: Record<string, string> }[] }[];
}
interface Route {
  receiver: string;
  matchers?: string[];
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  continue?: boolean;
  routes?: Route[];
}
interface WebhookConfig {
  url: string;
  send_resolved?: boolean;
  max_alerts?: number;
  http_config?: { authorization?: { type?: string; credentials_file?: string } };
}
interface AmConfig {
  route: Route;
  receivers: { name: string; webhook_configs?: WebhookConfig[] }[];
}

const PROMETHEUS = join(DEPLOY, 'prometheus');
const ALERTMANAGER = join(DEPLOY, 'alertmanager');

let compose: Compose;
let inventory: Inventory;
const service = (name: string): Service => compose.services[name];

beforeAll(() => {
  if (!installed('docker-compose'))
    throw new Error("Debian's docker-compose is not installed: run npm run setup (it installs it)");
  compose = composeConfig();
  const r = validateInventory(readYaml(join(DEPLOY, 'compose', 'inventory.yaml')));
  if (!r.ok) throw new Error(r.problems.join('\n'));
  inventory = r.inventory;
});

const alertNames = () =>
  readYaml<Rules>(join(PROMETHEUS, 'rules.yml')).groups.flatMap((g) => g.rules.map((r) => r.alert));

describe('Prometheus', () => {
  const config = () => readYaml<PromConfig>(join(PROMETHEUS, 'prometheus.yml'));

  it('runs with the configuration and rules under deploy/prometheus', () => {
    const p = service('prometheus');
    const configPath = flag(p.command, '--config.file') as string;
    expect(mountedFile(p, configPath)).toBe(join(PROMETHEUS, 'prometheus.yml'));
    // rule_files are relative to the configuration file, in the container as in the repository.
    expect(config().rule_files).toEqual(['rules.yml']);
    expect(mountedFile(p, join(dirname(configPath), 'rules.yml'))).toBe(join(PROMETHEUS, 'rules.yml'));
  });

  it('scrapes and evaluates every second, as in the lab', () => {
    expect(config().global).toEqual({
      scrape_interval: '1s',
      scrape_timeout: '1s',
      evaluation_interval: '1s',
    });
  });

  it('scrapes one exporter per inventory host, labelled with its cluster and host name', () => {
    const [cluster] = inventory.clusters;
    const mysqld = config().scrape_configs.find((s) => s.job_name === 'mysqld');
    const targets = (mysqld?.static_configs ?? []).map((c) => ({
      target: c.targets.join(','),
      labels: c.labels,
    }));
    expect(targets).toEqual(
      cluster.hosts.map((h) => ({
        target: `exporter-${h.name}:9104`,
        labels: { [inventory.webhook?.clusterLabel ?? 'cluster']: cluster.name, instance: h.name },
      })),
    );
    // The receiver takes the failed primary from `instance`.
    expect(inventory.webhook?.primaryLabels).toContain('instance');
    // Each target is the exporter of that very host.
    for (const h of cluster.hosts)
      expect(flag(service(`exporter-${h.name}`).command, '--mysqld.address')).toBe(`${h.address}:${h.port}`);
  });

  it('sends alerts to the alertmanager service and scrapes the worker where it serves metrics', () => {
    const [am] = config().alerting.alertmanagers[0].static_configs[0].targets;
    expect(am).toBe('alertmanager:9093');
    expect(service('alertmanager')).toBeDefined();
    const worker = config().scrape_configs.find((s) => s.job_name === 'successover-worker');
    expect(worker?.static_configs[0].targets).toEqual([
      `worker:${service('worker').environment.SUCCESSOVER_METRICS_PORT}`,
    ]);
  });
});

describe('the alert rules', () => {
  it('raise only alerts the inventory knows: one that starts a recovery, the others recorded', () => {
    const w = inventory.webhook;
    expect(w).toBeDefined();
    const names = alertNames();
    expect(names.filter((n) => w?.primaryDownAlerts.includes(n))).toEqual(['MariaDBPrimaryDown']);
    expect(names.filter((n) => !w?.primaryDownAlerts.includes(n)).sort()).toEqual(
      [...(w?.recordedAlerts ?? [])].sort(),
    );
  });

  it('keep the cluster and instance labels the receiver reads', () => {
    for (const g of readYaml<Rules>(join(PROMETHEUS, 'rules.yml')).groups)
      for (const r of g.rules)
        expect([r.alert, r.expr]).toEqual([r.alert, expect.stringContaining('by (cluster, instance)')]);
  });

  it('pass `promtool check rules` and their own unit tests (promtool test rules)', () => {
    if (!installed('promtool')) return;
    const check = run('promtool', ['check', 'rules', 'rules.yml'], PROMETHEUS);
    expect([check.status, check.output]).toEqual([0, expect.stringContaining('SUCCESS: 3 rules found')]);
    const tests = run('promtool', ['test', 'rules', 'rules.test.yml'], PROMETHEUS);
    expect([tests.status, tests.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it('the configuration passes `promtool check config`', () => {
    if (!installed('promtool')) return;
    const r = run('promtool', ['check', 'config', 'prometheus.yml'], PROMETHEUS);
    expect([r.status, r.output]).toEqual([
      0,
      expect.stringContaining('is valid prometheus config file syntax'),
    ]);
  });
});

describe('Alertmanager', () => {
  const config = () => readYaml<AmConfig>(join(ALERTMANAGER, 'alertmanager.yml'));
  const successoverRoute = (c: AmConfig) => c.route.routes?.find((r) => r.receiver === 'successover');
  const successoverReceiver = (c: AmConfig) => c.receivers.find((r) => r.name === 'successover');

  it('runs with the configuration under deploy/alertmanager', () => {
    const am = service('alertmanager');
    expect(mountedFile(am, flag(am.command, '--config.file') as string)).toBe(
      join(ALERTMANAGER, 'alertmanager.yml'),
    );
  });

  it('routes every alert of the rules to the receiver, at once', () => {
    const route = successoverRoute(config());
    const matcher = (route?.matchers ?? []).map((m) => /^alertname=~"(.*)"$/.exec(m)?.[1]).find(Boolean);
    expect(matcher).toBeDefined();
    for (const name of alertNames()) expect(name).toMatch(new RegExp(`^(?:${matcher})$`));
    expect(route?.group_wait).toBe('0s');
    // The same node failing again once its alert resolved must not wait for the group's flush.
    expect(route?.group_interval).toBe('1s');
  });

  it('posts to the webhook service with the inventory`s token file, resolved alerts included', () => {
    const [hook] = successoverReceiver(config())?.webhook_configs ?? [];
    const url = new URL(hook.url);
    const webhook = service('webhook');
    expect(url.hostname).toBe('webhook');
    expect(url.port).toBe(flag(webhook.command, '--port'));
    expect(url.pathname).toBe('/alerts/alertmanager');
    expect(hook.send_resolved).toBe(true);
    const auth = hook.http_config?.authorization;
    expect(auth?.type).toBe('Bearer');
    // The same file the receiver reads, from the same volume.
    expect(auth?.credentials_file).toBe(inventory.webhook?.tokenFile);
    expect(sourceOf(service('alertmanager'), auth?.credentials_file as string)).toBe(
      sourceOf(webhook, inventory.webhook?.tokenFile as string),
    );
  });

  it('agrees with the snippet for existing Alertmanagers (receiver.yml), but for address and token file', () => {
    const snippet = join(ALERTMANAGER, 'receiver.yml');
    if (!existsSync(snippet)) return;
    const s = readYaml<AmConfig>(snippet);
    expect(successoverRoute(config())).toEqual(successoverRoute(s));
    const strip = (w: WebhookConfig[] = []) =>
      w.map((x) => ({
        ...x,
        url: new URL(x.url).pathname,
        http_config: { authorization: { type: x.http_config?.authorization?.type } },
      }));
    expect(strip(successoverReceiver(config())?.webhook_configs)).toEqual(
      strip(successoverReceiver(s)?.webhook_configs),
    );
  });

  it('passes `amtool check-config`', () => {
    if (!installed('amtool')) return;
    const r = run('amtool', ['check-config', 'alertmanager.yml'], ALERTMANAGER);
    expect([r.status, r.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });
});
