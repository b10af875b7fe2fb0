// The import-direction check runs inside `npm test`. The pure core (blocks/, consensus/,
// src/state, src/router) decides block bytes, so it may import only itself and src/crypto,
// and may not touch clocks, randomness, timers, the filesystem, the network or the database.
import simpleImportSort from 'eslint-plugin-simple-import-sort'
import tseslint from 'typescript-eslint'

const PURE = ['blocks/**/*.ts', 'consensus/**/*.ts', 'src/state/**/*.ts', 'src/router/**/*.ts']
// Bare names match exactly (a gitignore pattern 'crypto' would also match our own src/crypto).
const IO_NAMES = ['fs', 'path', 'os', 'net', 'http', 'https', 'child_process', 'worker_threads', 'crypto', 'timers',
  'perf_hooks', 'dgram', 'dns', 'cluster', 'classic-level', 'level', 'abstract-level', 'libp2p', 'ws', 'pino',
  'prom-client', 'msgpackr-extract']
const IO_MODULES = ['node:*', 'fs/*', 'timers/*', '@libp2p/*', '@chainsafe/*', '@subspace/*', '@bytecodealliance/*', '@noble/*']
const IO_LAYERS = ['**/src/storage/**', '**/src/compute/**', '**/src/chain/**', '**/src/net/**', '**/src/rpc/**',
  '**/src/client/**', '**/src/node/**', '**/src/cli/**', '**/scripts/**', '**/test/**']

export default tseslint.config(
  { ignores: ['node_modules/**', 'fixtures/**', '**/*.js', '!eslint.config.js', '.tmp/**', 'dist/**', '.build/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    plugins: { '@typescript-eslint': tseslint.plugin, 'simple-import-sort': simpleImportSort },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // One import statement per module (a type-only import may stand apart), in one order.
      'no-duplicate-imports': ['error', { allowSeparateTypeImports: true }],
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration[const=true]', message: 'const enums break isolatedModules' }],
    },
  },
  {
    // CONTRIBUTING.md: a source file that grows past 450 lines is split by job (the wire schema aside).
    files: ['blocks/**/*.ts', 'consensus/**/*.ts', 'src/**/*.ts'],
    ignores: ['blocks/schema.ts'],
    rules: { 'max-lines': ['error', { max: 450 }] },
  },
  {
    files: PURE,
    rules: {
      'no-restricted-imports': ['error', {
        paths: IO_NAMES.map((name) => ({ name, message: 'The pure core may not do I/O: take the data as input.' })),
        patterns: [
          { group: IO_MODULES, message: 'The pure core may not import I/O, native crypto or external libraries: go through src/crypto.' },
          { group: IO_LAYERS, message: 'The pure core may not import the I/O layers (dependency direction).' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'no timers in the pure core' },
        { name: 'setInterval', message: 'no timers in the pure core' },
        { name: 'setImmediate', message: 'no timers in the pure core' },
        { name: 'performance', message: 'no clocks in the pure core' },
        { name: 'process', message: 'no process access in the pure core' },
        { name: 'fetch', message: 'no network in the pure core' },
        { name: 'require', message: 'no dynamic loading in the pure core' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'no clocks in the pure core: take time as input' },
        { object: 'Math', property: 'random', message: 'no randomness in the pure core: derive it from a seed' },
        { object: 'crypto', property: 'getRandomValues', message: 'no randomness in the pure core' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date']", message: 'no clocks in the pure core' },
        { selector: 'ImportExpression', message: 'no dynamic import in the pure core' },
      ],
    },
  },
)
