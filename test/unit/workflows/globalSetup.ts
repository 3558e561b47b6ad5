// globalSetup of jest's unit project: when the run includes workflow tests, bundles the workflows
// once and starts one dev server (the project's own .tools/bin/temporal, in memory, with the
// runbooks' search attributes) for all of them. No time skipping: durations are inputs.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { findTemporalBinary } from '../../../temporal/binary';
import { devServerDynamicConfigArgs } from '../../../temporal/dynamicConfig';
import { SEARCH_ATTRIBUTE_KEYS } from '../../../workflows/api';
import {
  WORKFLOW_INTERCEPTOR_MODULES,
  WORKFLOW_PRELOAD_MODULES,
  WORKFLOWS_PATH,
} from '../../../worker/index';
import { GLOBAL_KEY, WORKFLOW_TEST_ENV } from './sharedServer';

/** False when the run's path pattern selects no workflow test (e.g. `jest gtid`): start nothing. */
function workflowTestsSelected(config: { testPathPattern?: string; rootDir: string }): boolean {
  if (!config.testPathPattern) return true;
  let pattern: RegExp;
  try {
    pattern = new RegExp(config.testPathPattern, 'i');
  } catch {
    return true;
  }
  const dir = join(__dirname);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .some((f) => pattern.test(join(dir, f)));
}

export default async function globalSetup(globalConfig: { testPathPattern?: string; rootDir: string }) {
  if (!workflowTestsSelected(globalConfig)) return;
  const t0 = Date.now();
  // SDK logs (worker start/stop, activity failures the tests provoke) only when they are errors.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this process (watch mode)
  }
  const dir = mkdtempSync(join(tmpdir(), 'successover-wf-test-'));
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };
  const [env, { code }] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: findTemporalBinary() },
        searchAttributes: Object.values(SEARCH_ATTRIBUTE_KEYS),
        log: { format: 'pretty', level: 'error' },
        // As every server successover runs on: the runbooks' steps dispatched eagerly.
        extraArgs: devServerDynamicConfigArgs(),
      },
    }),
    bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
      preloadModules: WORKFLOW_PRELOAD_MODULES,
      logger: quiet,
    }),
  ]);
  const bundle = join(dir, 'workflow-bundle.js');
  writeFileSync(bundle, code);
  (globalThis as Record<string, unknown>)[GLOBAL_KEY] = env;
  process.env[WORKFLOW_TEST_ENV.address] = env.address;
  process.env[WORKFLOW_TEST_ENV.namespace] = env.namespace ?? 'default';
  process.env[WORKFLOW_TEST_ENV.bundle] = bundle;
  process.env[WORKFLOW_TEST_ENV.dir] = dir;
  if (process.env.SUCCESSOVER_WF_TEST_VERBOSE)
    console.log(`workflow tests: dev server ${env.address} and bundle ready in ${Date.now() - t0} ms`);
}
