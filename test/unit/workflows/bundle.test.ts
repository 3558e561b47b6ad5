// The workflow bundle the worker runs: what it shares between runs (worker WORKFLOW_PRELOAD_MODULES).
import { readFileSync } from 'node:fs';
import { workflowTestEnv } from './sharedServer';

test('the bundle preloads workflows/preload.ts (zod), not a require the bundler dropped', () => {
  const code = readFileSync(workflowTestEnv('bundle'), 'utf8');
  const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code);
  expect(preload).not.toBeNull();
  // A module marked free of side effects (zod itself) is bundled as `0;` here: preloaded nothing.
  expect(preload![1]).toMatch(/__webpack_require__\([^)]*"\.\/workflows\/preload\.ts"\)/);
  // The zod it loads is the one the workflows import (ES modules), not its CommonJS twin.
  expect(code).toMatch(/node_modules\/zod\/v4\/classic\/schemas\.js/);
  expect(code).not.toMatch(/node_modules\/zod\/[^"]*\.cjs"/);
});
