import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'data', 'coverage', 'dist', 'packages/*/dist', 'scratch'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-globals': ['error', 'parseFloat'],
    },
  },
  {
    // Type-aware: a promise nobody awaits or catches is an unhandled rejection waiting to happen.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The launchers run before any build, as plain JavaScript on Node.
    files: ['bin/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
  {
    // The dashboard's browser script (bundled by bin/build.mjs): the browser's globals, not Node's.
    files: ['src/dashboard/client/**/*.ts'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'navigator',
          'location',
          'localStorage',
          'fetch',
          'matchMedia',
          'getComputedStyle',
          'setTimeout',
          'clearTimeout',
          'AbortController',
          'URL',
          'Intl',
          'HTMLElement',
          'HTMLButtonElement',
          'HTMLInputElement',
          'HTMLTextAreaElement',
          'HTMLFormElement',
          'CSSStyleDeclaration',
          'Element',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // Hardhat reads its config as CommonJS.
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly' },
    },
  },
);
