import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import {
  BLOB_HEADER_BYTES, computeEncryptedSize, computePlainSize, decryptBlob, decryptBlobStream, deriveBlobKey, encryptBlob, encryptBlobStream, isEncryptedBlob,
} from '../../../src/storage/blobCipher.ts'
import { BlobError } from '../../../src/storage/errors.ts'
import { testKey } from '../../support/chainFixtures.ts'

const owner = testKey('blob-owner')
const other = testKey('blob-other')
const SEG = 1024

async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!)
    yield bytes.subarray(at, at + n)
    at += n
  }
}
async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}
async function failure(p: Promise<unknown>): Promise<BlobError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(BlobError)
  return err as BlobError
}

describe('blob encryption at rest (AES-256-GCM segments)', () => {
  it('round-trips empty, short, segment-edge and multi-segment blobs, whole and streamed in odd chunks', async () => {
    for (const n of [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 500]) {
      const plain = new Uint8Array(randomBytes(n))
      const cipher = await encryptBlob(plain, owner, { segmentBytes: SEG })
      expect(cipher.length).toBe(computeEncryptedSize(n, SEG))
      expect(computePlainSize(cipher.length, SEG)).toBe(n)
      expect(isEncryptedBlob(cipher)).toBe(true)
      expect(await decryptBlob(cipher, owner)).toEqual(plain)
      const streamed = await collect(encryptBlobStream(chunked(plain, [7, 300, 1500]), owner, { segmentBytes: SEG, salt: cipher.subarray(12, 44) }))
      expect(streamed).toEqual(cipher)
      expect(await collect(decryptBlobStream(chunked(cipher, [3, 1040, 17, 4000]), owner))).toEqual(plain)
    }
  })

  it('with the plaintext size given, the same bytes come out under any chunking (segments sealed in place when whole in a chunk)', async () => {
    for (const n of [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 500]) {
      const plain = new Uint8Array(randomBytes(n))
      const cipher = await encryptBlob(plain, owner, { segmentBytes: SEG })
      const salt = cipher.subarray(12, 44)
      for (const sizes of [[7, 300, 1500], [SEG], [2 * SEG, 5], [SEG + 3, SEG - 3], [n || 1]]) {
        // The source reuses one buffer for every chunk, as a pooled reader may: a piece held across reads would be overwritten.
        async function* reusing(): AsyncGenerator<Uint8Array> {
          const scratch = new Uint8Array(Math.max(...sizes, 1))
          for await (const c of chunked(plain, sizes)) {
            scratch.set(c)
            yield scratch.subarray(0, c.length)
            scratch.fill(0xee)
          }
        }
        expect(await collect(encryptBlobStream(reusing(), owner, { segmentBytes: SEG, salt, plainSize: n }))).toEqual(cipher)
      }
    }
  })

  it('a source that gives more or fewer bytes than its stated size is SIZE_MISMATCH (a file changed between the two passes)', async () => {
    const plain = new Uint8Array(randomBytes(3 * SEG))
    for (const stated of [3 * SEG - 1, 3 * SEG + 1, 2 * SEG, 4 * SEG, 0]) {
      const e = await failure(collect(encryptBlobStream(chunked(plain, [SEG]), owner, { segmentBytes: SEG, plainSize: stated })))
      expect(e.code).toBe('SIZE_MISMATCH')
    }
  })

  it('no 32-byte window of the plaintext appears in the ciphertext, and two encryptions of one file differ', async () => {
    const plain = new Uint8Array(randomBytes(8 * SEG))
    const a = Buffer.from(await encryptBlob(plain, owner, { segmentBytes: SEG }))
    const b = Buffer.from(await encryptBlob(plain, owner, { segmentBytes: SEG }))
    expect(a.equals(b)).toBe(false)
    for (let at = 0; at + 32 <= plain.length; at += 16) expect(a.indexOf(plain.subarray(at, at + 32))).toBe(-1)
  })

  it('the key depends on the owner and the salt, and only the owner reads the blob back', async () => {
    const salt = new Uint8Array(32).fill(7)
    expect(deriveBlobKey(owner, salt)).toEqual(deriveBlobKey(owner, salt))
    expect(deriveBlobKey(owner, salt)).not.toEqual(deriveBlobKey(other, salt))
    expect(deriveBlobKey(owner, salt)).not.toEqual(deriveBlobKey(owner, new Uint8Array(32).fill(8)))
    const cipher = await encryptBlob(new Uint8Array(randomBytes(3000)), owner, { segmentBytes: SEG })
    expect((await failure(decryptBlob(cipher, other))).code).toBe('AUTH_FAILED')
  })

  it('a flipped bit, a changed header, a dropped last segment or a cut tail fail authentication', async () => {
    const plain = new Uint8Array(randomBytes(3 * SEG))
    const cipher = await encryptBlob(plain, owner, { segmentBytes: SEG })
    const flipped = cipher.slice()
    flipped[BLOB_HEADER_BYTES + SEG + 20]! ^= 1
    const e1: unknown = await failure(decryptBlob(flipped, owner))
    if (!(e1 instanceof BlobError) || e1.code !== 'AUTH_FAILED') throw e1
    expect(e1.details.segment).toBe(1)
    const salted = cipher.slice()
    salted[20]! ^= 1
    expect((await failure(decryptBlob(salted, owner))).code).toBe('AUTH_FAILED')
    // Two whole segments: the second was sealed as "not last", so cutting the third is caught.
    expect((await failure(decryptBlob(cipher.subarray(0, BLOB_HEADER_BYTES + 2 * (SEG + 16)), owner))).code).toBe('AUTH_FAILED')
    expect((await failure(decryptBlob(cipher.subarray(0, cipher.length - 5), owner))).code).toBe('AUTH_FAILED')
    expect((await failure(decryptBlob(cipher.subarray(0, BLOB_HEADER_BYTES + 2 * (SEG + 16) + 10), owner))).code).toBe('TRUNCATED')
  })

  it('a decrypting stream yields nothing of a segment whose tag fails', async () => {
    const plain = new Uint8Array(randomBytes(3 * SEG))
    const cipher = await encryptBlob(plain, owner, { segmentBytes: SEG })
    cipher[BLOB_HEADER_BYTES + 2 * (SEG + 16) + 3]! ^= 1
    const got: Uint8Array[] = []
    const err = await (async () => {
      for await (const p of decryptBlobStream(chunked(cipher, [100]), owner)) got.push(p)
    })().then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(BlobError)
    expect(Buffer.concat(got)).toEqual(Buffer.from(plain.subarray(0, 2 * SEG)))
  })

  it('public bytes and bad headers are typed errors', async () => {
    expect((await failure(decryptBlob(new Uint8Array(randomBytes(100)), owner))).code).toBe('NOT_ENCRYPTED')
    expect((await failure(decryptBlob(new Uint8Array(0), owner))).code).toBe('NOT_ENCRYPTED')
    const cipher = await encryptBlob(new Uint8Array(10), owner, { segmentBytes: SEG })
    const bad = cipher.slice()
    bad.set([0xff, 0xff, 0xff, 0xff], 8)
    expect((await failure(decryptBlob(bad, owner))).code).toBe('BAD_HEADER')
    expect((await failure(decryptBlob(cipher.subarray(0, 20), owner))).code).toBe('TRUNCATED')
    expect(() => computePlainSize(BLOB_HEADER_BYTES + 3, SEG)).toThrow(BlobError)
  })
})
