import { createHash } from 'node:crypto'

import { ed25519 } from '@noble/curves/ed25519.js'

/** L, the order of ed25519's prime subgroup: a canonical S is below it. */
export const ED25519_ORDER = ed25519.Point.Fn.ORDER
/** A scalar as 32 little-endian bytes (how a signature's S is encoded). */
export const scalarBytes = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))
/** 32 little-endian bytes (or a SHA-512 digest) as a scalar. */
export const scalarOf = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n)

/**
 * A key owner's "signature" of `message` with R = the identity and S = k·a (k = H(R ‖ A ‖ M)):
 * the cofactorless equation [S]B = R + [k]A holds, so OpenSSL and RFC 8032 noble accept it; the
 * chain's rule (libsodium's) refuses a small-order R. Returns the signer's public key with it.
 */
export function smallOrderRSignature(secretKey: Uint8Array, message: Uint8Array): { publicKey: Uint8Array; signature: Uint8Array } {
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(secretKey)
  const R = new Uint8Array(32)
  R[0] = 1
  const k = scalarOf(createHash('sha512').update(R).update(pointBytes).update(message).digest()) % ED25519_ORDER
  const signature = new Uint8Array(64)
  signature.set(R)
  signature.set(scalarBytes((k * scalar) % ED25519_ORDER), 32)
  return { publicKey: pointBytes, signature }
}
