// The dev server and workflow bundle shared by every workflow test of a jest run: started once by
// globalSetup (the unit project's), found by the test files through these environment variables
// (jest's test contexts inherit process.env as globalSetup left it), stopped by globalTeardown.
export const WORKFLOW_TEST_ENV = {
  /** host:port of the dev server (`.tools/bin/temporal server start-dev`, in memory). */
  address: 'SUCCESSOVER_WF_TEST_ADDRESS',
  namespace: 'SUCCESSOVER_WF_TEST_NAMESPACE',
  /** The workflow bundle, made once (bundleWorkflowCode): pass as workflowBundle: { codePath }. */
  bundle: 'SUCCESSOVER_WF_TEST_BUNDLE',
  /** Temp dir holding the bundle; removed by globalTeardown. */
  dir: 'SUCCESSOVER_WF_TEST_DIR',
} as const;

export function workflowTestEnv(name: keyof typeof WORKFLOW_TEST_ENV): string {
  const v = process.env[WORKFLOW_TEST_ENV[name]];
  if (!v)
    throw new Error(
      `${WORKFLOW_TEST_ENV[name]} is not set: run the workflow tests through jest's unit project (npm run test:unit), whose globalSetup starts the dev server`,
    );
  return v;
}

/** Where globalSetup leaves the running environment for globalTeardown (same context). */
export const GLOBAL_KEY = '__successoverWorkflowTestEnv';
