import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { prepareBlob, prepareBlobStream } from '../../../src/client/index.ts'
import { hash } from '../../../src/crypto/index.ts'
import { decryptBlob, isEncryptedBlob } from '../../../src/storage/blobCipher.ts'
import { computeManifest } from '../../../src/storage/encodeAsset.ts'
import { testKey } from '../../support/chainFixtures.ts'

const owner = testKey('prepare-owner')
const coding = { k: 4, m: 2, segmentSize: 64 * 1024, chunkSize: 1024 }

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}
async function* inPieces(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 40_000) yield bytes.subarray(at, at + 40_000)
}

describe('the encryption step of a blob deploy', () => {
  const plain = new Uint8Array(randomBytes(300_000))

  it('prepareBlob: encrypted by default, the manifest describes the ciphertext; --public keeps the plaintext', async () => {
    const sealed = await prepareBlob({ bytes: plain, owner, coding })
    expect(sealed.encrypted).toBe(true)
    expect(isEncryptedBlob(sealed.bytes)).toBe(true)
    expect(sealed.manifest).toEqual(computeManifest(sealed.bytes, coding))
    expect(await decryptBlob(sealed.bytes, owner)).toEqual(plain)
    const open = await prepareBlob({ bytes: plain, owner, coding, public: true })
    expect(open).toMatchObject({ encrypted: false, bytes: plain })
    expect(open.manifest.dataHash).toEqual(hash(plain))
  })

  it('prepareBlobStream: both passes give the same ciphertext, which the manifest names and the owner decrypts', async () => {
    const p = await prepareBlobStream({ plain: { size: plain.length, open: () => inPieces(plain) }, owner, coding })
    const first = await collect(p.bytes.open())
    const second = await collect(p.bytes.open())
    expect(second).toEqual(first)
    expect(first.length).toBe(p.bytes.size)
    expect(p.manifest).toEqual(computeManifest(first, coding))
    expect(await decryptBlob(first, owner)).toEqual(plain)
    const pub = await prepareBlobStream({ plain: { size: plain.length, open: () => inPieces(plain) }, owner, coding, public: true })
    expect(pub.manifest).toEqual(computeManifest(plain, coding))
    expect(await collect(pub.bytes.open())).toEqual(plain)
  })
})
