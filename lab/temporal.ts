// HOOK: the lab's Temporal dev server and worker (`lab up`, unless --no-temporal). It uses
// temporal/devserver.ts and `successover worker`, written by another engineer; tests pass
// temporal: false and use their own server (test/integration/globalSetup.ts).
// The server's address goes into <lab dir>/temporal.toml, a Temporal config profile: the CLI,
// a worker and the webhook receiver started by hand find the lab's server there
// (temporal/connection.ts), and so does `temporal --config-file .lab/temporal.toml`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_NAMESPACE, LAB_PROFILE, labProfileFile } from '../temporal/connection';
import { freePort, startDevServer } from '../temporal/devserver';
import { daemon } from './sh';
import { writeState } from './state';
import type { LabInfo, LabState } from './types';

const bin = () => resolve(__dirname, '..', 'bin', 'successover.js');

/** `successover worker` for the lab inventory, against the lab's dev server. */
function startWorker(info: LabInfo, address: string, dataDir: string): number {
  return daemon(
    [
      '/usr/bin/env',
      `TEMPORAL_ADDRESS=${address}`,
      process.execPath,
      bin(),
      'worker',
      '--inventory',
      info.inventory,
      ...(info.alerting
        ? ['--metrics-port', String(info.alerting.workerMetricsPort), '--metrics-host', '127.0.0.1']
        : []),
    ],
    join(dataDir, 'worker.log'),
  );
}

/** `successover webhook serve` for the lab inventory (alerting mode). */
function startReceiver(info: LabInfo, address: string, dataDir: string, webhookPort: number): number {
  return daemon(
    [
      '/usr/bin/env',
      `TEMPORAL_ADDRESS=${address}`,
      process.execPath,
      bin(),
      'webhook',
      'serve',
      '--inventory',
      info.inventory,
      '--port',
      String(webhookPort),
    ],
    join(dataDir, 'webhook.log'),
  );
}

/** The lab's profile (TOML, as @temporalio/envconfig and the temporal CLI read it). */
export function labProfileToml(address: string, namespace = DEFAULT_NAMESPACE): string {
  const body = `address = ${JSON.stringify(address)}\nnamespace = ${JSON.stringify(namespace)}\n`;
  return (
    "# Written by `successover lab up`, removed by `lab down`: where the lab's Temporal is.\n" +
    `[profile.${LAB_PROFILE}]\n${body}\n[profile.default]\n${body}`
  );
}

export async function startTemporalHook(
  info: LabInfo,
  state: LabState,
  log: (l: string) => void,
  ports: { port?: number; uiPort?: number } = {},
): Promise<LabInfo['temporal']> {
  const dataDir = join(state.dir, 'temporal');
  state.paths.push('temporal');
  writeState(state);
  mkdirSync(dataDir, { recursive: true });
  // Free ports unless told: 7233/8233 are often taken by `successover temporal start` or tests.
  const port = ports.port ?? (await freePort());
  const uiPort = ports.uiPort ?? (await freePort());
  log(`Temporal dev server (${port}, UI ${uiPort}) and a worker for the lab inventory`);
  const s = await startDevServer({ dataDir, dbFilename: join(dataDir, 'temporal.sqlite'), port, uiPort });
  if (!s.alreadyRunning) state.processes.push({ role: 'temporal', host: null, pid: s.pid });
  const pid = startWorker(info, s.address, dataDir);
  state.processes.push({ role: 'worker', host: null, pid });
  if (info.alerting) {
    log(`webhook receiver on ${info.alerting.webhook}`);
    const receiver = startReceiver(info, s.address, dataDir, info.alerting.webhookPort);
    state.processes.push({ role: 'webhook', host: null, pid: receiver });
  }
  state.paths.push('temporal.toml');
  writeState(state);
  writeFileSync(labProfileFile(state.dir), labProfileToml(s.address, s.namespace));
  return { address: s.address, ui: s.uiUrl ?? '' };
}
