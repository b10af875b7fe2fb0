import { randomBytes } from 'node:crypto'

import { ed25519 } from '@noble/curves/ed25519.js'
import sodium from 'sodium-native'

import { bytesKey } from './bytes.ts'

/**
 * ed25519 for the whole project. Signing and verification go through libsodium (sodium-native's
 * prebuilt binding): on this machine a verify costs ~63 µs against ~140 through node:crypto
 * (OpenSSL 3, a KeyObject and a crypto job per call) and a sign ~22 against ~47
 * (`scripts/bench/signatures.ts`); noble is ~10× slower still and checks points.
 *
 * Consensus rules on signatures (libsodium's `crypto_sign_verify_detached`, pinned by
 * test/unit/crypto/ed25519.test.ts): S must be canonical (< L), R must not be of small order,
 * the key must be canonical and not of small order, and the check is the cofactorless
 * `[S]B = R + [k]A` on the encodings. OpenSSL and RFC 8032 noble accept a signature whose R is
 * of small order (a key owner can make one for any message: R = identity, S = k·a); here, as in
 * libsodium and dalek's `verify_strict` (Solana), it is invalid, on every node alike.
 *
 * Consensus rule on keys: a public key must be a canonical encoding of a point that is not of
 * small order. It is checked when a key is first registered (tx sender, validator, host) by
 * `isValidPublicKey`.
 */
export const PUBLIC_KEY_BYTES = 32
export const SECRET_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

const MAX_CACHE = 65_536
/** libsodium's 64-byte signing key (seed ‖ public key) per 32-byte seed: deriving it costs a scalar multiplication. */
const expandedKeys = new Map<string, Buffer>()

function expandedKey(secretKey: Uint8Array): Buffer {
  if (secretKey.length !== SECRET_KEY_BYTES) throw new RangeError('ed25519 secret key must be 32 bytes')
  const id = bytesKey(secretKey)
  let expanded = expandedKeys.get(id)
  if (expanded === undefined) {
    expanded = Buffer.alloc(64)
    sodium.crypto_sign_seed_keypair(Buffer.alloc(PUBLIC_KEY_BYTES), expanded, Buffer.from(secretKey))
    if (expandedKeys.size >= MAX_CACHE) expandedKeys.delete(expandedKeys.keys().next().value as string)
    expandedKeys.set(id, expanded)
  }
  return expanded
}

export interface KeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  const expanded = expandedKey(secretKey)
  return { secretKey: new Uint8Array(secretKey), publicKey: new Uint8Array(expanded.subarray(SECRET_KEY_BYTES)) }
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSecret(new Uint8Array(randomBytes(32)))
}

export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  const signature = new Uint8Array(SIGNATURE_BYTES)
  sodium.crypto_sign_detached(signature, message, expandedKey(secretKey))
  return signature
}

/** The one signature verifier. Never throws on malformed input: returns false. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false
  return sodium.crypto_sign_verify_detached(signature, message, publicKey)
}

const validKeys = new Set<string>()

/**
 * Canonical point encoding, on the curve, not of small order. Memoized for valid keys: the
 * point decompression costs about as much as a signature check, and the same senders recur.
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return false
  const id = bytesKey(publicKey)
  if (validKeys.has(id)) return true
  let ok: boolean
  try {
    ok = !ed25519.Point.fromBytes(publicKey, false).isSmallOrder()
  } catch {
    ok = false
  }
  if (ok) {
    if (validKeys.size >= MAX_CACHE) validKeys.clear()
    validKeys.add(id)
  }
  return ok
}

/** noble's verifier, used only to test interop with the native one. */
export function verifyNoble(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}
