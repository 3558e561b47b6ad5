// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

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
);
