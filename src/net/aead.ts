import { createCipheriv, createDecipheriv } from 'node:crypto'

import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import sodium from 'sodium-native'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * The node's one ChaCha20-Poly1305 (RFC 8439, 12-byte nonce, 16-byte tag), for the validator fast
 * links' sealed frames and for noise (every libp2p connection). Below SODIUM_AEAD_BELOW_BYTES
 * libsodium seals and opens: for a vote or a receipt batch its call costs ~1.3–2.6 µs against
 * ~3–10 for the WebAssembly cipher noise picks below 1,200 bytes and ~7–9 for node:crypto (a
 * Cipheriv object, key schedule and tag object per call); above it node:crypto (OpenSSL's wider
 * vector code) is faster: 64 KiB ~63 µs against ~94 (session 16, docs/devnet.md). All give the
 * same bytes; test/unit/net/aead.test.ts checks that each opens what the others seal.
 */
export const SODIUM_AEAD_BELOW_BYTES = 16 * 1024
export const AEAD_TAG_BYTES = 16
const CIPHER = 'chacha20-poly1305'

/** Seals `plaintext` into `out` (the ciphertext, then the tag: `plaintext.length + 16` bytes). */
export function sealInto(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void {
  const length = plaintext.byteLength
  if (length < SODIUM_AEAD_BELOW_BYTES) {
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(out.subarray(0, length), out.subarray(length, length + AEAD_TAG_BYTES), plaintext, aad, null, nonce, key)
    return
  }
  const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: AEAD_TAG_BYTES })
  cipher.setAAD(aad, { plaintextLength: length })
  out.set(cipher.update(plaintext), 0)
  cipher.final()
  out.set(cipher.getAuthTag(), length)
}

/**
 * Opens `sealed` (ciphertext then tag); undefined when it does not authenticate. `into`, when
 * given, receives the plaintext when it is another buffer or starts exactly where `sealed` starts
 * (libsodium checks the tag, then decrypts in place); otherwise a new array does.
 */
export function open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
  const length = sealed.byteLength - AEAD_TAG_BYTES
  if (length < 0) return undefined
  const ciphertext = sealed.subarray(0, length)
  const tag = sealed.subarray(length)
  if (length < SODIUM_AEAD_BELOW_BYTES) {
    const inPlace = into !== undefined && into.byteLength >= length && (into.buffer !== sealed.buffer || into.byteOffset === sealed.byteOffset)
    const plain = inPlace ? into.subarray(0, length) : new Uint8Array(length)
    try {
      sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(plain, null, ciphertext, tag, aad, nonce, key)
    } catch {
      return undefined
    }
    return plain
  }
  const decipher = createDecipheriv(CIPHER, key, nonce, { authTagLength: AEAD_TAG_BYTES })
  decipher.setAAD(aad, { plaintextLength: length })
  decipher.setAuthTag(tag)
  const body = decipher.update(ciphertext)
  try {
    decipher.final()
  } catch {
    return undefined
  }
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
}

const flat = (data: Uint8Array | Uint8ArrayList): Uint8Array => (data instanceof Uint8Array ? data : data.subarray())

/** noise's crypto with this file's AEAD (its key exchange and hashing unchanged): `noise({ crypto: noiseCrypto })`. */
export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    if (plaintext.byteLength >= SODIUM_AEAD_BELOW_BYTES) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const out = new Uint8Array(plaintext.byteLength + AEAD_TAG_BYTES)
    sealInto(k, nonce, ad, flat(plaintext), out)
    return out
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength - AEAD_TAG_BYTES >= SODIUM_AEAD_BELOW_BYTES) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    const plain = open(k, nonce, ad, flat(ciphertext), dst)
    if (plain === undefined) throw new Error('Invalid chacha20poly1305 decryption')
    return plain
  },
}
