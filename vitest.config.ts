import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

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
const FAST = ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts']
/** The fast files that replace modules with vi.mock, found by reading them (a new one joins by itself). */
const MOCKING = ['test/unit', 'test/property']
  .flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f)))
  .filter((file) => readFileSync(file, 'utf8').includes('vi.mock('))

export default defineConfig({
  test: {
    projects: [
      // isolate: false: a worker keeps its module cache from one file to the next instead of a
      // fresh fork per file re-importing vitest, libp2p and the node. Files that replace modules
      // with vi.mock need a module graph of their own (without one they failed): they run isolated,
      // in a group of their own.
      { test: { ...shared, name: 'fast', include: FAST, exclude: MOCKING, maxWorkers: 2, isolate: false, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: 'fast-mocking', include: MOCKING, maxWorkers: 2, sequence: { groupOrder: 1 } } },
      // Integration files use no module mocks and stop their processes in afterAll. 28 light
      // integration files took 189-203 s isolated and 92-97 s not (same run, alternated, load ~30).
      { test: { ...shared, name: 'integration', include: ['test/integration/**/*.test.ts'], maxWorkers: 1, isolate: false, sequence: { groupOrder: 2 } } },
    ],
  },
})
