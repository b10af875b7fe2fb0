import { describe, expect, it } from 'vitest'

import { iterateSha256 } from '../../../consensus/iterateSha256.ts'
import { hash, utf8 } from '../../../src/crypto/index.ts'

function iterateWithNodeCrypto(start: Uint8Array, n: number): Uint8Array {
  let x = start
  for (let i = 0; i < n; i++) x = hash(x)
  return x
}

describe('iterateSha256: the time scheme\'s hash chain without node:crypto per step', () => {
  it('lands where n calls of node:crypto sha256 land, for many starts and lengths', () => {
    for (let s = 0; s < 40; s++) {
      const start = hash(utf8(`start ${s}`))
      for (const n of [0, 1, 2, 3, 17, 64, 257]) expect(iterateSha256(start, n)).toEqual(iterateWithNodeCrypto(start, n))
    }
    // Words with the top bit set and all-ones bytes exercise the signed 32-bit arithmetic.
    expect(iterateSha256(new Uint8Array(32).fill(0xff), 5)).toEqual(iterateWithNodeCrypto(new Uint8Array(32).fill(0xff), 5))
    expect(iterateSha256(new Uint8Array(32), 2_000)).toEqual(iterateWithNodeCrypto(new Uint8Array(32), 2_000))
  })

  it('refuses a start that is not 32 bytes (the padding it precomputes is for 32)', () => {
    expect(() => iterateSha256(new Uint8Array(31), 1)).toThrow(expect.objectContaining({ code: 'MALFORMED_PROOF' }))
  })
})
