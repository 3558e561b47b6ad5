// One Temporal dev server and one workflow bundle for the whole integration run. Ports are free
// ones chosen now (others run tests at the same time); the server is in memory and dies with
// this process even if it crashes (see tiedToProcess). Tests find both through TEST_ENV.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { devServerStatus, freePort, startDevServer, type StartedDevServer } from '../../temporal/devserver';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOW_PRELOAD_MODULES, WORKFLOWS_PATH } from '../../worker/index';
import { TEST_ENV } from './testEnv';

async function startOnFreePorts(dataDir: string): Promise<StartedDevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServer({
        dataDir,
        port: await freePort(),
        uiPort: await freePort(),
        tiedToProcess: true,
        startTimeoutMs: 60_000,
      });
    } catch (e) {
      // Another process took the port between our check and the server's bind.
      if (attempt >= 3 || !/address already in use/.test(String(e))) throw e;
    }
  }
}

async function bundle(dataDir: string): Promise<string> {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    preloadModules: WORKFLOW_PRELOAD_MODULES,
    logger: quiet,
  });
  const path = join(dataDir, 'workflow-bundle.js');
  writeFileSync(path, code);
  return path;
}

const PREFIX = 'successover-test-temporal-';

/** A killed run's server died with it but its dir stays: remove such dirs once they are old. */
async function removeStaleDirs(): Promise<void> {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const dir = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs < 3_600_000) continue;
      if ((await devServerStatus(dir, 500)).state === 'stopped')
        rmSync(dir, { recursive: true, force: true });
    } catch {
      // another run removed it meanwhile
    }
  }
}

export default async function globalSetup(): Promise<void> {
  await removeStaleDirs();
  const dataDir = mkdtempSync(join(tmpdir(), PREFIX));
  process.env[TEST_ENV.dataDir] = dataDir;
  const [server, bundlePath] = await Promise.all([startOnFreePorts(dataDir), bundle(dataDir)]);
  process.env[TEST_ENV.address] = server.address;
  process.env[TEST_ENV.namespace] = server.namespace;
  process.env[TEST_ENV.uiUrl] = server.uiUrl ?? '';
  process.env[TEST_ENV.bundle] = bundlePath;
}
