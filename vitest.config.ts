import { defineConfig } from 'vitest/config'

const shared = {
  setupFiles: ['src/polyfill.ts', 'test/support/fastByteEquality.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
}

// vitest runs `cores - 1` files at once, so on a 2-core CI machine the whole suite ran one file at
// a time. Unit and property files are CPU-bound and independent: two at once. Integration files
// start networks of node processes that need the machine to themselves, so they run one at a time,
// after the fast group (groupOrder) so the two never compete.
export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'fast', include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts'], maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: 'integration', include: ['test/integration/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
})
