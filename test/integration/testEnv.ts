// Environment variables through which globalSetup hands the shared dev server and workflow
// bundle to the test files (jest's workers inherit process.env as it is after globalSetup).
export const TEST_ENV = {
  /** host:port of the run's Temporal dev server. */
  address: 'SUCCESSOVER_TEST_TEMPORAL_ADDRESS',
  namespace: 'SUCCESSOVER_TEST_TEMPORAL_NAMESPACE',
  /** Its Web UI, e.g. for a Chromium check. */
  uiUrl: 'SUCCESSOVER_TEST_TEMPORAL_UI_URL',
  /** Path of the prebuilt workflow bundle (pass as workflowBundle: { codePath }). */
  bundle: 'SUCCESSOVER_TEST_WORKFLOW_BUNDLE',
  /** Temp dir with the server's pid file and log; removed by globalTeardown. */
  dataDir: 'SUCCESSOVER_TEST_TEMPORAL_DIR',
} as const;

export function testEnv(name: keyof typeof TEST_ENV): string {
  const v = process.env[TEST_ENV[name]];
  if (!v)
    throw new Error(
      `${TEST_ENV[name]} is not set: run integration tests through jest (globalSetup starts Temporal)`,
    );
  return v;
}
