// `lab up --alerting`: the alerting chain users already run, for real: one mysqld_exporter per
// host, a Prometheus scraping them every second with the rules shipped in deploy/prometheus, and
// an Alertmanager whose receiver (shipped in deploy/alertmanager) is successover's webhook
// receiver, authenticated with the lab's token. Loopback ports of its own; `lab down` kills them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../temporal/devserver';
import { findBinary } from './bin';
import { ACCOUNT_NAMES } from './defaults';
import { daemon, waitFor } from './sh';
import { writeState } from './state';
import type { LabInfo, LabState } from './types';

const DEPLOY = resolve(__dirname, '..', 'deploy');
export const RULES_FILE = join(DEPLOY, 'prometheus', 'rules.yml');
export const ALERTMANAGER_FILE = join(DEPLOY, 'alertmanager', 'alertmanager.yml');
/** Fast enough that a kill reaches the receiver in about a second (issue #8's figure). */
export const SCRAPE_SECONDS = 1;
// Rules run twice per scrape: a failed scrape is seen by the next evaluation within 0.5 s instead
// of up to 1 s later (kill -> alert is scrape phase + evaluation phase + sending).
const EVALUATION_MS = 500;

export interface AlertingPorts {
  webhookPort?: number;
}

type Alerting = NonNullable<LabInfo['alerting']>;

export async function startAlerting(
  info: LabInfo,
  state: LabState,
  log: (l: string) => void,
  ports: AlertingPorts = {},
): Promise<Alerting> {
  const dir = join(state.dir, 'alerting');
  state.paths.push('alerting');
  writeState(state);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const webhookPort = ports.webhookPort ?? (await freePort());
  const password = readFileSync(info.secrets.mysqlPasswordFile, 'utf8').trim();
  const started = (role: LabState['processes'][number]['role'], host: string | null, pid: number) => {
    state.processes.push({ role, host, pid });
    writeState(state);
  };

  // One exporter per host (mysqld_exporter 0.14 has no multi-target mode), over the network: a
  // partitioned host must look down, as it does to everyone else.
  const exporters: Alerting['exporters'] = {};
  for (const h of info.hosts) {
    const port = await freePort();
    const cnf = join(dir, `${h.name}.my.cnf`);
    writeFileSync(
      cnf,
      `[client]\nuser=${ACCOUNT_NAMES.admin}\npassword=${password}\nhost=${h.address}\nport=${h.port}\n`,
      { mode: 0o600 },
    );
    started(
      'exporter',
      h.name,
      daemon(
        [
          findBinary('prometheus-mysqld-exporter'),
          `--config.my-cnf=${cnf}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--collect.global_status',
          '--collect.global_variables',
          '--collect.slave_status',
          '--exporter.lock_wait_timeout=2',
        ],
        join(dir, `${h.name}.exporter.log`),
      ),
    );
    exporters[h.name] = `http://127.0.0.1:${port}/metrics`;
  }

  const amPort = await freePort();
  const webhookUrl = `http://127.0.0.1:${webhookPort}`;
  writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfig(webhookUrl, info.secrets.webhookTokenFile));
  started(
    'alertmanager',
    null,
    daemon(
      [
        findBinary('prometheus-alertmanager'),
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'alertmanager-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        // A single instance: HA mode off. In HA mode the first notifications wait for the gossip
        // to settle (seconds after start), which delayed the first alert of a fresh lab.
        '--cluster.listen-address=',
      ],
      join(dir, 'alertmanager.log'),
    ),
  );

  const promPort = await freePort();
  // The worker the Temporal hook starts serves its metrics here; the receiver serves its own.
  const workerMetricsPort = await freePort();
  const successover = [`127.0.0.1:${workerMetricsPort}`, `127.0.0.1:${webhookPort}`];
  writeFileSync(
    join(dir, 'prometheus.yml'),
    prometheusConfig(info, exporters, `127.0.0.1:${amPort}`, successover),
  );
  started(
    'prometheus',
    null,
    daemon(
      [
        findBinary('prometheus'),
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--web.enable-lifecycle',
      ],
      join(dir, 'prometheus.log'),
    ),
  );
  const alerting: Alerting = {
    prometheus: `http://127.0.0.1:${promPort}`,
    alertmanager: `http://127.0.0.1:${amPort}`,
    webhook: webhookUrl,
    webhookPort,
    workerMetricsPort,
    exporters,
  };
  log(`alerting: Prometheus ${alerting.prometheus}, Alertmanager ${alerting.alertmanager} → ${webhookUrl}`);
  await waitFor(
    'Prometheus and Alertmanager to be ready',
    async () => {
      const ok = await Promise.all(
        [`${alerting.prometheus}/-/ready`, `${alerting.alertmanager}/-/ready`].map((u) =>
          fetch(u, { signal: AbortSignal.timeout(1000) }).then(
            (r) => r.ok,
            () => false,
          ),
        ),
      );
      return ok.every(Boolean) || undefined;
    },
    30_000,
    200,
  );
  return alerting;
}

/** The shipped Alertmanager config with the lab's receiver address and token file filled in. */
export function alertmanagerConfig(webhookUrl: string, tokenFile: string): string {
  const doc = parse(readFileSync(ALERTMANAGER_FILE, 'utf8')) as {
    receivers?: {
      webhook_configs?: { url?: string; http_config?: { authorization?: Record<string, string> } }[];
    }[];
  };
  let filled = 0;
  for (const r of doc.receivers ?? [])
    for (const w of r.webhook_configs ?? []) {
      w.url = `${webhookUrl}${new URL(w.url ?? 'http://x/alerts/alertmanager').pathname}`;
      w.http_config = { ...w.http_config, authorization: { type: 'Bearer', credentials_file: tokenFile } };
      filled++;
    }
  if (filled === 0) throw new Error(`${ALERTMANAGER_FILE} has no webhook receiver for the lab to point at`);
  return `# Written by \`successover lab up --alerting\` from ${ALERTMANAGER_FILE}\n${stringify(doc)}`;
}

function prometheusConfig(
  info: LabInfo,
  exporters: Alerting['exporters'],
  alertmanager: string,
  successover: string[],
): string {
  return `# Written by \`successover lab up --alerting\`; the rules are ${RULES_FILE}\n${stringify({
    global: {
      scrape_interval: `${SCRAPE_SECONDS}s`,
      evaluation_interval: `${EVALUATION_MS}ms`,
      scrape_timeout: '900ms',
    },
    rule_files: [RULES_FILE],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager] }] }] },
    scrape_configs: [
      {
        job_name: 'mysql',
        static_configs: Object.entries(exporters).map(([host, url]) => ({
          targets: [new URL(url).host],
          labels: { cluster: info.cluster, instance: host },
        })),
      },
      // The worker's and the webhook receiver's /metrics (runs, blackouts, recoveries, requests).
      { job_name: 'successover', static_configs: [{ targets: successover }] },
    ],
  })}`;
}
