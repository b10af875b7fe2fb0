import { describe, expect, it } from 'vitest'

import { sealHash } from '../../../blocks/ids.ts'
import { computeWorkHash, computeWorkNonce, countLeadingZeroBits, verifyProofs } from '../../../consensus/index.ts'
import { u64be } from '../../../src/crypto/index.ts'
import { expectConsensusError, makeContext, replaceProof, resign, sealValid } from './fixtures.ts'

describe('work: nonce search', () => {
  it('counts leading zero bits', () => {
    expect(countLeadingZeroBits(new Uint8Array([0x80]))).toBe(0)
    expect(countLeadingZeroBits(new Uint8Array([0x00, 0x01]))).toBe(15)
    expect(countLeadingZeroBits(new Uint8Array([0x00, 0x00]))).toBe(16)
    expect(countLeadingZeroBits(new Uint8Array([0x0f, 0xff]))).toBe(4)
  })

  it('finds a nonce whose hash meets the target', () => {
    const seal = new Uint8Array(32).fill(5)
    const nonce = computeWorkNonce(seal, 10)
    expect(countLeadingZeroBits(computeWorkHash(seal, nonce))).toBeGreaterThanOrEqual(10)
  })

  it('returns the first nonce from `start` upward that meets the target (the search order decides block bytes), carrying across bytes', () => {
    const firstFrom = (seal: Uint8Array, bits: number, start: bigint): Uint8Array => {
      for (let n = start; ; n++) if (countLeadingZeroBits(computeWorkHash(seal, u64be(n))) >= bits) return u64be(n)
    }
    for (const [fill, bits, start] of [[5, 6, 0n], [9, 7, 0xf0n], [3, 6, 0xffff_fff0n], [200, 5, 0x00ff_ffff_ffff_ff00n]] as const) {
      const seal = new Uint8Array(32).fill(fill)
      expect(computeWorkNonce(seal, bits, start)).toEqual(firstFrom(seal, bits, start))
    }
  })

  it('gives up with PROVE_FAILED past the last 64-bit nonce', () => {
    const seal = new Uint8Array(32).fill(1)
    expect(() => computeWorkNonce(seal, 64, (1n << 64n) - 2n)).toThrow(expect.objectContaining({ code: 'PROVE_FAILED' }))
    expect(() => computeWorkNonce(seal, 1, 1n << 64n)).toThrow(expect.objectContaining({ code: 'PROVE_FAILED' }))
  })
})

describe('work: proofs', () => {
  const ctx = makeContext(['work'])

  it('accepts a valid header', () => {
    const header = sealValid(ctx)
    expect(header.proofs[0]!.data.length).toBe(8)
    expect(countLeadingZeroBits(computeWorkHash(sealHash(header), header.proofs[0]!.data))).toBeGreaterThanOrEqual(8)
    expect(() => verifyProofs(ctx, header)).not.toThrow()
  })

  it('rejects a nonce that misses the target', () => {
    const header = sealValid(ctx)
    const seal = sealHash(header)
    let n = 0n
    while (countLeadingZeroBits(computeWorkHash(seal, u64be(n))) >= 8) n++
    const error = expectConsensusError(() => verifyProofs(ctx, replaceProof(header, 'work', u64be(n))), 'BAD_PROOF', 'work')
    expect(error.details.expected).toBe(8)
  })

  it('rejects proof data that is not an 8-byte nonce', () => {
    expectConsensusError(() => verifyProofs(ctx, replaceProof(sealValid(ctx), 'work', new Uint8Array(9))), 'MALFORMED_PROOF', 'work')
  })

  it('rejects a header missing the work proof', () => {
    expectConsensusError(() => verifyProofs(ctx, resign({ ...sealValid(ctx), proofs: [] })), 'MISSING_PROOF', 'work')
  })

  it('binds the work to the header: another slot or state root invalidates it', () => {
    const header = sealValid(ctx, 5)
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, slot: 6, timestamp: header.timestamp + 1000n })), 'BAD_PROOF', 'work')
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, stateRoot: new Uint8Array(32) })), 'BAD_PROOF', 'work')
  })

  it('accepts any nonce when workBits is 0', () => {
    const free = makeContext(['work'], { workBits: 0 })
    expect(() => verifyProofs(free, replaceProof(sealValid(free), 'work', u64be(12345n)))).not.toThrow()
  })
})
