import { describe, expect, it } from 'vitest'

import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { BlobStore } from '../../../src/node/blobStore.ts'
import { tempDir, testKey } from '../../support/chainFixtures.ts'

/** The upload store on a real directory: owner accounting for quotas, TTL sweep, reopen. */
describe('BlobStore', () => {
  const alice = testKey('blob-alice').publicKey
  const bob = testKey('blob-bob').publicKey

  it('counts an owner\'s unreferenced bytes; a deployment\'s reference frees them', () => {
    const tmp = tempDir('xsc-blobs-')
    try {
      const store = new BlobStore(tmp.dir)
      const a = store.put(utf8('aaaa'), alice)
      store.put(utf8('bbbbbb'), alice)
      store.put(utf8('cc'), bob)
      // Uploading the same bytes again (by anyone) costs nothing more.
      store.put(utf8('aaaa'), bob)
      expect(store.unreferencedBytesOf(alice)).toBe(10)
      expect(store.unreferencedBytesOf(bob)).toBe(2)
      store.markReferenced(a)
      expect(store.unreferencedBytesOf(alice)).toBe(6)
    } finally {
      tmp.cleanup()
    }
  })

  it('sweep deletes unreferenced blobs past the TTL and keeps referenced and fresh ones, also after a reopen', () => {
    const tmp = tempDir('xsc-blobs-')
    try {
      const t0 = 1_000_000
      const store = new BlobStore(tmp.dir, { ttlMs: 1000 })
      const old = store.put(utf8('old and unused'), alice, t0)
      const used = store.put(utf8('old but deployed'), alice, t0)
      const fresh = store.put(utf8('fresh'), alice, t0 + 900)
      store.markReferenced(used)
      const reopened = new BlobStore(tmp.dir, { ttlMs: 1000 })
      expect(reopened.sweep(t0 + 999)).toEqual([])
      expect(reopened.sweep(t0 + 1000).map(toHex)).toEqual([toHex(old)])
      expect(reopened.get(old)).toBeUndefined()
      expect(reopened.get(used)).toEqual(utf8('old but deployed'))
      expect(reopened.get(fresh)).toEqual(utf8('fresh'))
      expect(reopened.unreferencedBytesOf(alice)).toBe(5)
      expect(reopened.has(hash(utf8('old and unused')))).toBe(false)
    } finally {
      tmp.cleanup()
    }
  })
})
