// globalTeardown of jest's unit project: stops the workflow tests' dev server and removes the
// bundle, also after failed tests.
import { rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { GLOBAL_KEY, WORKFLOW_TEST_ENV } from './sharedServer';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const env = g[GLOBAL_KEY] as TestWorkflowEnvironment | undefined;
  delete g[GLOBAL_KEY];
  const dir = process.env[WORKFLOW_TEST_ENV.dir];
  try {
    await env?.teardown();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
