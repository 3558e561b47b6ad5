// HOOK: the lab's Temporal dev server and worker (`lab up`, unless --no-temporal). It uses
// temporal/devserver.ts and `successover worker`, written by another engineer; tests pass
// temporal: false and use their own server (test/integration/globalSetup.ts).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, startDevServer } from '../temporal/devserver';
import { cmdline, daemon, isOurs, killHard, waitFor } from './sh';
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
  writeState(state);
  return { address: s.address, ui: s.uiUrl ?? '' };
}

/**
 * The lab's worker and webhook receiver read the inventory once, at start: after `lab add-host`
 * they are restarted (SIGTERM, a graceful shutdown) so they know the new host. Returns what was
 * restarted; processes that are not running are left alone. The caller holds the lab lock.
 */
export async function restartInventoryReaders(state: LabState, log: (l: string) => void): Promise<string[]> {
  const info = state.info;
  if (!info?.temporal) return [];
  const dataDir = join(state.dir, 'temporal');
  const restarted: string[] = [];
  for (const p of state.processes) {
    const reads = p.role === 'worker' || (p.role === 'webhook' && info.alerting);
    if (!reads || !isOurs(p.pid, state.dir)) continue;
    log(`restarting the lab's ${p.role} (pid ${p.pid}) so it loads the new inventory`);
    process.kill(p.pid, 'SIGTERM');
    const stopped = await waitFor(
      `${p.role} ${p.pid} to shut down`,
      async () => (cmdline(p.pid) ? undefined : true),
      30_000,
      50,
    ).then(
      () => true,
      () => false,
    );
    if (!stopped) await killHard(p.pid, state.dir);
    const { address } = info.temporal;
    p.pid =
      info.alerting && p.role === 'webhook'
        ? startReceiver(info, address, dataDir, info.alerting.webhookPort)
        : startWorker(info, address, dataDir);
    writeState(state);
    restarted.push(`${p.role} (pid ${p.pid})`);
  }
  return restarted;
}
