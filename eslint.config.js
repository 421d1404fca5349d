import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'crds/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The floor page's script runs in the browser, not in Node (tsconfig.page.json checks its types).
    files: ['operator/floor/page/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries([...['window', 'document', 'fetch', 'sessionStorage', 'requestAnimationFrame', 'cancelAnimationFrame', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'AbortController', 'TextDecoderStream', 'URL', 'Intl', 'console'].map((g) => [g, 'readonly']), ['process', 'off']]),
    },
  },
);
