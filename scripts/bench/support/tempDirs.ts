import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Fresh temp dirs for a bench's chains, all removed by `removeAll` at the end. */
export function benchTempDirs(prefix = 'xsc-bench-'): { make(): string; removeAll(): void } {
  const dirs: string[] = []
  return {
    make() {
      const d = mkdtempSync(join(tmpdir(), prefix))
      dirs.push(d)
      return d
    },
    removeAll() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    },
  }
}
