import type { ConsensusConfig, Hash } from '../blocks/schema.ts'
import { concatBytes, equalBytes, hashParts, u32be, utf8 } from '../src/crypto/index.ts'
import { ConsensusError } from './errors.ts'
import { iterateSha256 } from './iterateSha256.ts'
import { checkIntField } from './params.ts'
import type { ProofScheme, ProveContext, VerifyContext } from './proofScheme.ts'
import { verifySlotTiming } from './slot.ts'

/**
 * time (when): two parts.
 *
 * 1. Timing rule (cheap): the header's slot is the slot of its timestamp, after the parent's
 *    slot, and the timestamp is at most `driftMs` after the slot start. "Is this block from the
 *    future by my clock" is NOT here: it depends on the local clock, so it lives in the shell
 *    (`isFromFuture`) and may only delay a block, never mark it bad.
 * 2. Sequential work: x0 = hash(domain || prevHash || slot), x(i+1) = sha256(x(i)), for
 *    `timeIterations` steps. The proof is `timeCheckpoints` 32-byte values: x at the end of each
 *    of that many near-equal segments, the last one being x(timeIterations). Each segment is
 *    checked from its own start, so a verifier can spread segments over cores.
 */
export const TIME_DOMAIN = utf8('XSC/time/v1')
const HASH_BYTES = 32

/** Where a chain starts: hash(domain || prevHash || slot as u32 big-endian). */
export function computeTimeSeed(prevHash: Hash, slot: number): Hash {
  return hashParts(TIME_DOMAIN, prevHash, u32be(slot))
}

/** End position (iteration count from x0) of each segment: floor((k+1) * T / C). Every segment has ≥ 1 step. */
export function computeCheckpointPositions(iterations: number, checkpoints: number): number[] {
  const out: number[] = []
  for (let k = 1; k <= checkpoints; k++) out.push(Math.floor((k * iterations) / checkpoints))
  return out
}

/** x after `iterations` sequential sha256 steps from `start` (32 bytes, as every seed and checkpoint is). */
export function iterateHash(start: Hash, iterations: number): Hash {
  return iterateSha256(start, iterations)
}

/** One independent piece of a time proof: `iterations` steps from `start` must land on `end`. */
export function verifyTimeSegment(start: Hash, end: Hash, iterations: number): boolean {
  return equalBytes(iterateHash(start, iterations), end)
}

export interface TimeSegment {
  index: number
  start: Hash
  end: Hash
  iterations: number
}

/** Splits a time proof into its independent segments; throws MALFORMED_PROOF on a wrong length. */
export function computeTimeSegments(config: ConsensusConfig, prevHash: Hash, slot: number, data: Uint8Array): TimeSegment[] {
  const checkpoints = config.timeCheckpoints
  if (data.length !== checkpoints * HASH_BYTES) {
    throw new ConsensusError('MALFORMED_PROOF', `time: proof must be ${checkpoints} checkpoints of 32 bytes`, {
      scheme: 'time',
      got: data.length,
      expected: checkpoints * HASH_BYTES,
    })
  }
  const positions = computeCheckpointPositions(config.timeIterations, checkpoints)
  const segments: TimeSegment[] = []
  let start = computeTimeSeed(prevHash, slot)
  let at = 0
  for (let k = 0; k < checkpoints; k++) {
    const end = data.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES)
    segments.push({ index: k, start, end, iterations: positions[k]! - at })
    start = end
    at = positions[k]!
  }
  return segments
}

/** The proposer's side: run the chain and record its checkpoints. */
export function computeTimeProof(config: ConsensusConfig, prevHash: Hash, slot: number): Uint8Array {
  const positions = computeCheckpointPositions(config.timeIterations, config.timeCheckpoints)
  const out: Uint8Array[] = []
  let x = computeTimeSeed(prevHash, slot)
  let at = 0
  for (const p of positions) {
    x = iterateHash(x, p - at)
    at = p
    out.push(x)
  }
  return concatBytes(...out)
}

/** The cheap part of `time`: slot of the timestamp, after the parent, within drift of the slot start. */
export function verifyTimeWindow(ctx: VerifyContext): void {
  const slotStart = verifySlotTiming(ctx, 'time')
  const offset = ctx.seal.timestamp - slotStart
  if (offset > BigInt(ctx.config.driftMs)) {
    throw new ConsensusError('TIMESTAMP_DRIFT', `time: timestamp is ${offset} ms after its slot start, more than driftMs ${ctx.config.driftMs}`, {
      scheme: 'time',
      got: offset,
      max: ctx.config.driftMs,
    })
  }
}

/** Throws BAD_PROOF naming the first failing segment. */
export function throwBadTimeSegment(index: number): never {
  throw new ConsensusError('BAD_PROOF', `time: hash chain segment ${index} does not verify`, { scheme: 'time', segment: index })
}

/**
 * Shell-side only (it reads the local clock's value): is the header timestamp more than
 * `driftMs` ahead of `nowMs`? A true answer means "wait and retry", never "invalid".
 */
export function isFromFuture(header: { timestamp: bigint }, nowMs: bigint | number, driftMs: number): boolean {
  const now = typeof nowMs === 'bigint' ? nowMs : BigInt(Math.floor(nowMs))
  return header.timestamp > now + BigInt(driftMs)
}

export const timeScheme: ProofScheme = {
  name: 'time',
  verifyCost: 3,
  checkConfig(config) {
    const iterations = checkIntField('time', config, 'timeIterations', 1, 0xffff_ffff)
    checkIntField('time', config, 'timeCheckpoints', 1, Math.min(255, iterations))
  },
  prove(ctx: ProveContext): Uint8Array {
    verifyTimeWindow(ctx)
    return computeTimeProof(ctx.config, ctx.prevHash, ctx.seal.slot)
  },
  verify(ctx: VerifyContext, data: Uint8Array): void {
    verifyTimeWindow(ctx)
    for (const s of computeTimeSegments(ctx.config, ctx.prevHash, ctx.seal.slot, data)) {
      if (!verifyTimeSegment(s.start, s.end, s.iterations)) throwBadTimeSegment(s.index)
    }
  },
}
