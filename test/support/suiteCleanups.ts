import { afterAll } from 'vitest'

/**
 * Cleanups a suite registers (nodes to stop, stores to close, temp dirs), run in reverse order
 * after the suite; one that throws (already stopped or closed) does not keep the others from running.
 */
export function suiteCleanups(): (() => Promise<void> | void)[] {
  const cleanups: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c()
      } catch {
        // already stopped or closed
      }
    }
  })
  return cleanups
}
