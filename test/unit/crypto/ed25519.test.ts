import { createHash, createPublicKey, verify as opensslVerify } from 'node:crypto'

import { ed25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'

import { fromHex, generateKeyPair, isValidPublicKey, keyPairFromSecret, sign, toHex, verify, verifyNoble } from '../../../src/crypto/index.ts'
import { ED25519_ORDER, scalarBytes, scalarOf, smallOrderRSignature } from '../../support/smallOrderR.ts'

// RFC 8032 §7.1, tests 1–3.
const RFC8032 = [
  {
    secret: '0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: '0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '0x',
    signature: '0xe5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secret: '0x4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '0x72',
    signature: '0x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    secret: '0xc5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: '0xfc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: '0xaf82',
    signature: '0x6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
]

describe('ed25519', () => {
  it.each(RFC8032)('matches RFC 8032 vector for message $message', (v) => {
    const kp = keyPairFromSecret(fromHex(v.secret))
    expect(toHex(kp.publicKey)).toBe(v.public)
    expect(toHex(sign(kp.secretKey, fromHex(v.message)))).toBe(v.signature)
    expect(verify(kp.publicKey, fromHex(v.message), fromHex(v.signature))).toBe(true)
  })

  it('node and noble produce identical signatures and accept each other', () => {
    for (let i = 0; i < 20; i++) {
      const kp = generateKeyPair()
      const msg = new Uint8Array(i * 7).fill(i)
      const nodeSig = sign(kp.secretKey, msg)
      const nobleSig = ed25519.sign(msg, kp.secretKey)
      expect(toHex(nodeSig)).toBe(toHex(nobleSig))
      expect(verifyNoble(kp.publicKey, msg, nodeSig)).toBe(true)
      expect(verify(kp.publicKey, msg, nobleSig)).toBe(true)
      expect(toHex(ed25519.getPublicKey(kp.secretKey))).toBe(toHex(kp.publicKey))
    }
  })

  it('rejects a tampered message, signature or key without throwing', () => {
    const kp = generateKeyPair()
    const msg = new Uint8Array([1, 2, 3])
    const sig = sign(kp.secretKey, msg)
    expect(verify(kp.publicKey, new Uint8Array([1, 2, 4]), sig)).toBe(false)
    const badSig = sig.slice()
    badSig[10]! ^= 1
    expect(verify(kp.publicKey, msg, badSig)).toBe(false)
    expect(verify(kp.publicKey, msg, sig.slice(0, 63))).toBe(false)
    expect(verify(new Uint8Array(31), msg, sig)).toBe(false)
  })

  it('rejects small-order and non-canonical public keys at registration', () => {
    expect(isValidPublicKey(generateKeyPair().publicKey)).toBe(true)
    // The identity point (y = 1) and the order-2 point (y = -1) are small-order.
    const identity = new Uint8Array(32)
    identity[0] = 1
    expect(isValidPublicKey(identity)).toBe(false)
    const minusOne = fromHex('0xecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')
    expect(isValidPublicKey(minusOne)).toBe(false)
    // y = p (non-canonical encoding of 0).
    expect(isValidPublicKey(fromHex('0xedffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'))).toBe(false)
    expect(isValidPublicKey(new Uint8Array(33))).toBe(false)
  })

  it('the consensus hazard: node accepts (small-order key, R=identity, S=0); registration rejects the key', () => {
    const identity = new Uint8Array(32)
    identity[0] = 1
    const sig = new Uint8Array(64)
    sig[0] = 1 // R = identity encoding, S = 0
    const msg = new Uint8Array([42])
    // Whatever the native verifier says, the key can never be registered, so it never signs anything that counts.
    expect(isValidPublicKey(identity)).toBe(false)
    expect(verifyNoble(identity, msg, sig)).toBe(false)
  })

  describe('the signature rules every node applies (libsodium), where OpenSSL differs', () => {
    const opensslAccepts = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean =>
      opensslVerify(null, msg, createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' }), sig)

    it('a signature whose R is of small order is invalid (OpenSSL and RFC 8032 noble accept it; libsodium and dalek verify_strict do not)', () => {
      for (let i = 0; i < 8; i++) {
        const secret = generateKeyPair().secretKey
        const msg = new Uint8Array([i, 1, 2, 3])
        const { publicKey: pub, signature: sig } = smallOrderRSignature(secret, msg)
        expect(isValidPublicKey(pub)).toBe(true)
        expect(opensslAccepts(pub, msg, sig)).toBe(true)
        expect(verifyNoble(pub, msg, sig)).toBe(true)
        expect(verify(pub, msg, sig)).toBe(false)
      }
    })

    it('a non-canonical S (S + L) is invalid, as in OpenSSL and noble', () => {
      const kp = generateKeyPair()
      const msg = new Uint8Array([9, 9])
      const sig = sign(kp.secretKey, msg)
      const bumped = sig.slice()
      bumped.set(scalarBytes(scalarOf(sig.subarray(32)) + ED25519_ORDER), 32)
      expect(verify(kp.publicKey, msg, bumped)).toBe(false)
      expect(opensslAccepts(kp.publicKey, msg, bumped)).toBe(false)
      expect(verifyNoble(kp.publicKey, msg, bumped)).toBe(false)
    })

    it('on honest signatures libsodium, OpenSSL and noble agree, signatures are byte-identical, and a flipped bit fails everywhere', () => {
      for (let i = 0; i < 40; i++) {
        const kp = generateKeyPair()
        const msg = createHash('sha256').update(String(i)).digest().subarray(0, i % 33)
        const sig = sign(kp.secretKey, msg)
        expect(toHex(sig)).toBe(toHex(ed25519.sign(msg, kp.secretKey)))
        expect([verify(kp.publicKey, msg, sig), opensslAccepts(kp.publicKey, msg, sig), verifyNoble(kp.publicKey, msg, sig)]).toEqual([true, true, true])
        const bad = sig.slice()
        bad[i % 64]! ^= 1 << (i % 8)
        expect([verify(kp.publicKey, msg, bad), opensslAccepts(kp.publicKey, msg, bad), verifyNoble(kp.publicKey, msg, bad)]).toEqual([false, false, false])
      }
    })

    it('a small-order or non-canonical key never verifies, even with the matching degenerate signature', () => {
      const identity = new Uint8Array(32)
      identity[0] = 1
      const sig = new Uint8Array(64)
      sig[0] = 1
      expect(verify(identity, new Uint8Array([42]), sig)).toBe(false)
      expect(verify(fromHex('0xedffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), new Uint8Array([42]), sig)).toBe(false)
    })
  })
})
