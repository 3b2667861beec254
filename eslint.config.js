// Lint for the whole repository: extension, protocol, server, demo, bench and tests.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.output/**', '.wxt/**', 'node_modules/**', 'coverage/**', 'data/**', 'test/vectors/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      // Erasable TypeScript: string unions and `as const` objects, no enums or namespaces.
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use a string union or an `as const` object.' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'No namespaces (module augmentation is fine).' },
      ],
    },
  },
  {
    // The protocol and the agent client run anywhere: a browser, Node, an edge worker.
    files: ['lib/protocol/**', 'lib/agent/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net'], message: 'lib/protocol and lib/agent are runtime-neutral: Web Crypto and fetch only.' },
            { group: ['dexie', 'wxt', 'wxt/*', '#imports', 'webextension-polyfill', '@wxt-dev/*', 'react', 'react-dom'], message: 'lib/protocol and lib/agent are runtime-neutral.' },
          ],
        },
      ],
    },
  },
);
