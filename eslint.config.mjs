// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// A workflow change goes through changed() of workflows/patches.ts, which lists every patch with its
// date and reason: patched() and deprecatePatch() are called nowhere else.
const WORKFLOW_PATCH_IMPORTS = [
  {
    name: '@temporalio/workflow',
    importNames: ['patched', 'deprecatePatch'],
    message: 'use changed() from workflows/patches.ts, and list the patch there with its date and reason',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', '.lab/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  { files: ['**/*.js'], languageOptions: { globals: globals.node, sourceType: 'commonjs' } },
  {
    // Workflow code is replayed: it must stay deterministic and free of Node I/O. Types from
    // activities are fine (erased at compile time).
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: WORKFLOW_PATCH_IMPORTS,
          patterns: [
            {
              group: [
                'fs',
                'node:*',
                'child_process',
                'net',
                'mysql2*',
                'ssh2',
                '../activities/*',
                '../worker/*',
              ],
              message: 'workflows and domain code must not do I/O',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' },
      ],
    },
  },
  {
    files: ['workflows/patches.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['fs', 'node:*', '../activities/*'], message: 'workflow code must not do I/O' },
          ],
        },
      ],
    },
  },
);
