import { describe, expect, it } from 'vitest'

import {
  computeCheckpointPositions,
  computeSlot,
  computeTimeProof,
  computeTimeSeed,
  computeTimeSegments,
  isFromFuture,
  iterateHash,
  sealBlock,
  verifyProofs,
  verifyTimeSegment,
} from '../../../consensus/index.ts'
import { ZERO_HASH } from '../../../src/crypto/index.ts'
import { expectConsensusError, flipByte, GENESIS_TIME, KEYS, makeConfig, makeContext, makeFields, replaceProof, resign, sealValid, SLOT_MS } from './fixtures.ts'

describe('time: hash chain', () => {
  it('splits T iterations into C segments of near-equal length that add up to T', () => {
    expect(computeCheckpointPositions(2000, 4)).toEqual([500, 1000, 1500, 2000])
    expect(computeCheckpointPositions(10, 3)).toEqual([3, 6, 10])
    expect(computeCheckpointPositions(5, 5)).toEqual([1, 2, 3, 4, 5])
  })

  it('checkpoints are the sequential chain at the segment ends, each segment verifiable alone', () => {
    const config = makeConfig(['time'], { timeIterations: 10, timeCheckpoints: 3 })
    const proof = computeTimeProof(config, ZERO_HASH, 4)
    const seed = computeTimeSeed(ZERO_HASH, 4)
    expect(proof.subarray(64, 96)).toEqual(iterateHash(seed, 10))
    expect(proof.subarray(0, 32)).toEqual(iterateHash(seed, 3))
    const segments = computeTimeSegments(config, ZERO_HASH, 4, proof)
    expect(segments.map((s) => s.iterations)).toEqual([3, 3, 4])
    for (const s of segments) expect(verifyTimeSegment(s.start, s.end, s.iterations)).toBe(true)
    expect(verifyTimeSegment(segments[1]!.start, segments[1]!.end, 2)).toBe(false)
  })

  it('the slot of a timestamp is floor((t - genesisTime) / slotMs), -1 before genesis', () => {
    expect(computeSlot(GENESIS_TIME, SLOT_MS, GENESIS_TIME)).toBe(0)
    expect(computeSlot(GENESIS_TIME, SLOT_MS, GENESIS_TIME + 999n)).toBe(0)
    expect(computeSlot(GENESIS_TIME, SLOT_MS, GENESIS_TIME + 1000n)).toBe(1)
    expect(computeSlot(GENESIS_TIME, SLOT_MS, GENESIS_TIME - 1n)).toBe(-1)
  })
})

describe('time: proofs', () => {
  const ctx = makeContext(['time'])

  it('accepts a valid header', () => {
    const header = sealValid(ctx)
    expect(header.proofs[0]!.data.length).toBe(4 * 32)
    expect(() => verifyProofs(ctx, header)).not.toThrow()
  })

  it('rejects a tampered checkpoint, naming the segment', () => {
    const header = sealValid(ctx)
    const error = expectConsensusError(() => verifyProofs(ctx, replaceProof(header, 'time', flipByte(header.proofs[0]!.data, 2 * 32 + 5))), 'BAD_PROOF', 'time')
    expect(error.details.segment).toBe(2)
  })

  it('rejects a proof of the wrong length', () => {
    const header = sealValid(ctx)
    expectConsensusError(() => verifyProofs(ctx, replaceProof(header, 'time', header.proofs[0]!.data.subarray(32))), 'MALFORMED_PROOF', 'time')
  })

  it('rejects a header missing the time proof', () => {
    expectConsensusError(() => verifyProofs(ctx, resign({ ...sealValid(ctx), proofs: [] })), 'MISSING_PROOF', 'time')
  })

  it('rejects a slot that does not match the timestamp', () => {
    expectConsensusError(() => verifyProofs(ctx, resign({ ...sealValid(ctx, 5), slot: 4 })), 'WRONG_SLOT', 'time')
  })

  it('rejects a chain computed for another slot (timestamp moved with it)', () => {
    const header = sealValid(ctx, 5)
    const moved = resign({ ...header, slot: 6, timestamp: header.timestamp + BigInt(SLOT_MS) })
    expectConsensusError(() => verifyProofs(ctx, moved), 'BAD_PROOF', 'time')
  })

  it('rejects a chain computed from another previous hash', () => {
    const header = sealValid(ctx, 5)
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, prevHash: new Uint8Array(32).fill(3) })), 'BAD_PROOF', 'time')
  })

  it('rejects a slot before the parent\'s and accepts the parent\'s own slot (blocks proposed on commit)', () => {
    const header = sealValid(ctx, 5)
    expectConsensusError(() => verifyProofs({ ...ctx, parentSlot: 6 }, header), 'SLOT_BEFORE_PARENT', 'time')
    expectConsensusError(() => verifyProofs({ ...ctx, parentSlot: 9 }, header), 'SLOT_BEFORE_PARENT', 'time')
    expect(() => verifyProofs({ ...ctx, parentSlot: 5 }, header)).not.toThrow()
  })

  it('rejects a timestamp more than driftMs after its slot start', () => {
    const key = KEYS[0]!
    const fields = makeFields(5, key.publicKey, ZERO_HASH, 600n)
    // The proposer refuses to make it...
    expectConsensusError(() => sealBlock({ ...ctx, secretKey: key.secretKey }, fields), 'TIMESTAMP_DRIFT', 'time')
    // ...and a verifier rejects it when made under a looser drift.
    const loose = makeContext(['time'], { driftMs: 900 })
    const header = sealBlock({ ...loose, secretKey: key.secretKey }, fields)
    expect(() => verifyProofs(loose, header)).not.toThrow()
    expectConsensusError(() => verifyProofs(ctx, header), 'TIMESTAMP_DRIFT', 'time')
  })

  it('skips only the hash chain when the caller verified it in parallel', () => {
    const header = sealValid(ctx)
    const tampered = replaceProof(header, 'time', flipByte(header.proofs[0]!.data, 40))
    expect(() => verifyProofs(ctx, tampered, { timeChainVerified: true })).not.toThrow()
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, slot: 4 }), { timeChainVerified: true }), 'WRONG_SLOT', 'time')
    expectConsensusError(() => verifyProofs(ctx, replaceProof(header, 'time', new Uint8Array(3)), { timeChainVerified: true }), 'MALFORMED_PROOF', 'time')
  })
})

describe('time: the local clock is a shell concern', () => {
  it('isFromFuture compares a header timestamp with a given now and drift', () => {
    const header = { timestamp: 10_000n }
    expect(isFromFuture(header, 10_000n, 0)).toBe(false)
    expect(isFromFuture(header, 9_000n, 500)).toBe(true)
    expect(isFromFuture(header, 9_600, 500)).toBe(false)
  })

  it('verifyProofs accepts a header far ahead of any clock (clock skew never marks a block bad)', () => {
    const ctx = makeContext(['time'])
    const header = sealValid(ctx, 4_000_000)
    expect(() => verifyProofs(ctx, header)).not.toThrow()
  })
})
