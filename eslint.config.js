import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'outbox/', 'data/', 'artifacts/', 'coverage/', 'scratch/', '**/.scratch/', 'templates/.compiled/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Pure pipeline stages must not reach for I/O or the environment (see README: architecture).
    files: ['src/parse/**', 'src/diff/**', 'src/group/**', 'src/render/**', 'src/model/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:net', 'fs', 'http', 'https', 'net', 'undici', 'nodemailer', '@slack/web-api', 'keyv'] }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Pass configuration in; pure stages never read process.env.' }],
    },
  },
);
