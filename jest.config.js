/** @type {import('jest').Config} */
const ts = { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] };
module.exports = {
  // Integration tests drive real servers; a generous bound, not a timing assertion.
  testTimeout: 300000,
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: ts,
      testEnvironment: 'node',
      // The workflow tests' dev server and bundle, shared by the run (test/unit/workflows/).
      globalSetup: '<rootDir>/test/unit/workflows/globalSetup.ts',
      globalTeardown: '<rootDir>/test/unit/workflows/globalTeardown.ts',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: ts,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/integration/globalSetup.ts',
      globalTeardown: '<rootDir>/test/integration/globalTeardown.ts',
    },
  ],
};
