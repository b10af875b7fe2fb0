import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

const hasClang = (() => {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

describe('WASM GF(256) kernel', () => {
  it.skipIf(!hasClang)('the committed gf256.wasm is what gf256.c builds to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsc-kernel-'))
    try {
      const out = join(dir, 'gf256.wasm')
      execFileSync('sh', [new URL('../../../src/storage/wasm/build.sh', import.meta.url).pathname, out], { stdio: 'ignore' })
      const committed = readFileSync(new URL('../../../src/storage/wasm/gf256.wasm', import.meta.url))
      expect(Buffer.compare(readFileSync(out), committed)).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
