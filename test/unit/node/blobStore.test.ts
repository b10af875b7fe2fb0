import { readdirSync, readFileSync } from 'node:fs'

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

  it('putStream writes a body arriving in parts to disk, hashed on the way; a refused or oversized body leaves no file', async () => {
    const tmp = tempDir('xsc-blobs-')
    try {
      const store = new BlobStore(tmp.dir)
      const bytes = new Uint8Array(3_000_000).map((_, i) => (i * 7) & 255)
      async function* parts(): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < bytes.length; at += 65_537) yield bytes.subarray(at, at + 65_537)
      }
      const seen: number[] = []
      const { dataHash, size } = await store.putStream(parts(), alice, (_h, n) => void seen.push(n))
      expect(toHex(dataHash)).toBe(toHex(hash(bytes)))
      expect(size).toBe(bytes.length)
      expect(seen).toEqual([bytes.length])
      expect(readFileSync(store.pathOf(dataHash)!)).toEqual(Buffer.from(bytes))
      expect(store.unreferencedBytesOf(alice)).toBe(bytes.length)
      const before = readdirSync(tmp.dir).sort()
      await expect(store.putStream(parts(), bob, () => { throw new Error('refused by check') })).rejects.toThrow('refused by check')
      await expect(store.putStream(parts(), bob, () => {}, { maxBytes: 1_000_000 })).rejects.toMatchObject({ code: 'BLOB_TOO_LARGE' })
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield bytes.subarray(0, 1000)
        throw new Error('connection reset')
      }
      await expect(store.putStream(failing(), bob, () => {})).rejects.toThrow('connection reset')
      expect(readdirSync(tmp.dir).sort()).toEqual(before)
      expect(store.unreferencedBytesOf(bob)).toBe(0)
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
