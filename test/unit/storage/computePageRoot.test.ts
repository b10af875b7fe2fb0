import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { EMPTY_ROOT } from '../../../src/crypto/index.ts'
import { ChunkLeafHasher } from '../../../src/storage/ChunkLeafHasher.ts'
import { computePageRoot } from '../../../src/storage/computePageRoot.ts'

describe('computePageRoot', () => {
  it('equals the chunk root ChunkLeafHasher builds, for odd counts and a short last chunk', () => {
    for (const chunkSize of [1, 64, 256]) {
      for (const length of [1, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, 7 * chunkSize + 5, 64 * chunkSize, 1000 * chunkSize + 3]) {
        if (length <= 0) continue
        const bytes = new Uint8Array(randomBytes(length))
        const h = new ChunkLeafHasher(chunkSize)
        h.update(bytes)
        expect(computePageRoot(bytes, chunkSize), `${chunkSize}/${length}`).toEqual(h.finish())
      }
    }
    expect(computePageRoot(new Uint8Array(0), 256)).toEqual(EMPTY_ROOT)
  })
})
