import type { Hash } from '../blocks/schema.ts'
import { hashInto, hashParts, toHex, u64be } from '../src/crypto/index.ts'
import { ConsensusError } from './errors.ts'
import { checkIntField } from './params.ts'
import type { ProofScheme, ProveContext, VerifyContext } from './proofScheme.ts'

/**
 * work (what it cost): an 8-byte big-endian nonce such that sha256(sealHash || nonce) has at
 * least `workBits` leading zero bits. The seal hash covers every header field except proofs and
 * signature, so the work is bound to this exact block (slot, parent, body, state root, proposer).
 */
export const WORK_NONCE_BYTES = 8
/** A 64-bit nonce space: more bits than that can't be expected to have a solution. */
export const MAX_WORK_BITS = 64

export function computeWorkHash(sealHash: Hash, nonce: Uint8Array): Hash {
  return hashParts(sealHash, nonce)
}

export function countLeadingZeroBits(bytes: Uint8Array): number {
  let bits = 0
  for (const b of bytes) {
    if (b === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(b) - 24
  }
  return bits
}

/**
 * Searches nonces from `start` upward; expected 2^workBits hashes. One buffer holds sealHash || nonce
 * and the nonce counts up in place, big-endian, with the digest written into one array: no arrays
 * per try (the per-try u64be, concatenation and digest were ~12 % of an idle proposer's allocation).
 */
export function computeWorkNonce(sealHash: Hash, workBits: number, start = 0n): Uint8Array {
  const MAX = (1n << 64n) - 1n
  const exhausted = (): ConsensusError => new ConsensusError('PROVE_FAILED', 'work: nonce space exhausted', { scheme: 'work', workBits })
  if (start < 0n || start > MAX) throw exhausted()
  const at = sealHash.length
  const input = new Uint8Array(at + WORK_NONCE_BYTES)
  input.set(sealHash)
  input.set(u64be(start), at)
  const digest = new Uint8Array(32)
  for (;;) {
    hashInto(input, digest, 0)
    if (countLeadingZeroBits(digest) >= workBits) return input.slice(at)
    let i = input.length - 1
    while (i >= at && input[i] === 0xff) input[i--] = 0
    if (i < at) throw exhausted()
    input[i]!++
  }
}

export const workScheme: ProofScheme = {
  name: 'work',
  verifyCost: 1,
  checkConfig(config) {
    checkIntField('work', config, 'workBits', 0, MAX_WORK_BITS)
  },
  prove(ctx: ProveContext): Uint8Array {
    return computeWorkNonce(ctx.sealHash, ctx.config.workBits, ctx.workNonceStart ?? 0n)
  },
  verify(ctx: VerifyContext, data: Uint8Array): void {
    if (data.length !== WORK_NONCE_BYTES) {
      throw new ConsensusError('MALFORMED_PROOF', 'work: proof must be an 8-byte nonce', { scheme: 'work', got: data.length, expected: WORK_NONCE_BYTES })
    }
    const got = countLeadingZeroBits(computeWorkHash(ctx.sealHash, data))
    if (got < ctx.config.workBits) {
      throw new ConsensusError('BAD_PROOF', `work: ${got} leading zero bits, ${ctx.config.workBits} required`, {
        scheme: 'work',
        got,
        expected: ctx.config.workBits,
        nonce: toHex(data),
      })
    }
  },
}
