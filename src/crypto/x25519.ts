import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto'

import { CryptoError } from './errors.ts'

/**
 * X25519 (RFC 7748) through node:crypto, for wrapping private executions' keys to hosts. Raw
 * 32-byte keys go in and out; DER prefixes as for ed25519 (FACTS.md), with the X25519 OID.
 */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')
const HOST_KEY_INFO = new TextEncoder().encode('XSC/host-x25519/v1')

export interface X25519KeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

function privateKeyObject(secret: Uint8Array): KeyObject {
  if (secret.length !== 32) throw new CryptoError('BAD_KEY', 'an X25519 secret key is 32 bytes', { got: secret.length })
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' })
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw new CryptoError('BAD_KEY', 'an X25519 public key is 32 bytes', { got: publicKey.length })
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
}

export function x25519KeyPairFromSecret(secretKey: Uint8Array): X25519KeyPair {
  const der = createPublicKey(privateKeyObject(secretKey)).export({ format: 'der', type: 'spki' })
  return { secretKey: new Uint8Array(secretKey), publicKey: new Uint8Array(der.subarray(SPKI_PREFIX.length)) }
}

/**
 * A host's encryption key, derived from its ed25519 seed with a domain tag (HKDF-SHA256), so the
 * host keeps one secret and the X25519 key can never be mistaken for its signing key.
 */
export function deriveHostEncryptionKey(ed25519Seed: Uint8Array): X25519KeyPair {
  if (ed25519Seed.length !== 32) throw new CryptoError('BAD_KEY', 'an ed25519 seed is 32 bytes', { got: ed25519Seed.length })
  return x25519KeyPairFromSecret(new Uint8Array(hkdfSync('sha256', ed25519Seed, new Uint8Array(0), HOST_KEY_INFO, 32)))
}

/**
 * The shared secret of X25519(secret, public). A low-order public key makes it all zeros, which
 * OpenSSL refuses; either way the caller gets a typed error, never a predictable secret.
 */
export function computeX25519SharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  let shared: Buffer
  try {
    shared = diffieHellman({ privateKey: privateKeyObject(secretKey), publicKey: publicKeyObject(publicKey) })
  } catch (e) {
    if (e instanceof CryptoError) throw e
    throw new CryptoError('BAD_KEY', 'X25519 key agreement failed (low-order or malformed public key)', {}, { cause: e })
  }
  if (shared.every((b) => b === 0)) throw new CryptoError('BAD_KEY', 'X25519 shared secret is zero (low-order public key)', {})
  return new Uint8Array(shared)
}
