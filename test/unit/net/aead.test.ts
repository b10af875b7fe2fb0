import { createCipheriv, randomBytes } from 'node:crypto'

import { ChaCha20Poly1305, newInstance } from '@chainsafe/as-chacha20poly1305'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { describe, expect, it } from 'vitest'

import { AEAD_TAG_BYTES, noiseCrypto, open, sealInto,SODIUM_AEAD_BELOW_BYTES } from '../../../src/net/aead.ts'

const SIZES = [0, 1, 150, 1199, 1200, SODIUM_AEAD_BELOW_BYTES - 1, SODIUM_AEAD_BELOW_BYTES, 65_519]
const wasm = new ChaCha20Poly1305(newInstance())

function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
  c.setAAD(aad, { plaintextLength: plaintext.length })
  const body = c.update(plaintext)
  c.final()
  return Buffer.concat([body, c.getAuthTag()])
}

describe('the one ChaCha20-Poly1305 (libsodium below the threshold, node:crypto above)', () => {
  it('seals the same bytes as node:crypto and the WebAssembly cipher, and opens theirs, at every size', () => {
    for (const size of SIZES) {
      const key = randomBytes(32)
      const nonce = randomBytes(12)
      const aad = randomBytes(4)
      const plaintext = randomBytes(size)
      const ours = new Uint8Array(size + AEAD_TAG_BYTES)
      sealInto(key, nonce, aad, plaintext, ours)
      expect(Buffer.from(ours).equals(Buffer.from(nodeSeal(key, nonce, aad, plaintext)))).toBe(true)
      expect(Buffer.from(ours).equals(Buffer.from(wasm.seal(key, nonce, plaintext, aad)))).toBe(true)
      expect(Buffer.from(open(key, nonce, aad, ours)!).equals(plaintext)).toBe(true)
    }
  })

  it('refuses a flipped bit of the ciphertext, the tag or the additional data, a wrong nonce and a short input', () => {
    for (const size of [150, SODIUM_AEAD_BELOW_BYTES + 10]) {
      const key = randomBytes(32)
      const nonce = randomBytes(12)
      const aad = randomBytes(4)
      const sealed = new Uint8Array(size + AEAD_TAG_BYTES)
      sealInto(key, nonce, aad, randomBytes(size), sealed)
      for (const at of [0, size - 1, size, size + 15]) {
        const bad = sealed.slice()
        bad[at]! ^= 0x10
        expect(open(key, nonce, aad, bad)).toBeUndefined()
      }
      const badAad = Buffer.from(aad)
      badAad[0]! ^= 1
      expect(open(key, nonce, badAad, sealed)).toBeUndefined()
      expect(open(key, randomBytes(12), aad, sealed)).toBeUndefined()
      expect(open(key, nonce, aad, sealed.subarray(0, 15))).toBeUndefined()
    }
  })

  it('noise with this crypto talks to noise with its default crypto, in place as noise decrypts', () => {
    for (const size of [0, 150, 1199, 1200, SODIUM_AEAD_BELOW_BYTES - 1, 65_519]) {
      const key = randomBytes(32)
      const nonce = randomBytes(12)
      const ad = new Uint8Array(0)
      const plaintext = randomBytes(size)
      const ours = noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key).subarray()
      const theirs = defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key).subarray()
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true)
      // noise hands the ciphertext's own bytes as the destination (decrypt in place).
      const chunk = Buffer.from(theirs)
      const plain = noiseCrypto.chaCha20Poly1305Decrypt(chunk, nonce, ad, key, chunk.subarray(0, size)).subarray()
      expect(Buffer.from(plain).equals(plaintext)).toBe(true)
      const tampered = Buffer.from(theirs)
      tampered[tampered.length - 1]! ^= 1
      expect(() => noiseCrypto.chaCha20Poly1305Decrypt(tampered, nonce, ad, key)).toThrow()
    }
  })
})
