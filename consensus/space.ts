import type { Address, Hash } from '../blocks/schema.ts'
import { equalBytes, hashParts, toHex, u32be, utf8 } from '../src/crypto/index.ts'
import { ConsensusError } from './errors.ts'
import { checkIntField } from './params.ts'
import type { ProofScheme, ProveContext, VerifyContext } from './proofScheme.ts'

/**
 * space (where): a proof that the proposer keeps a table it could only have made by hashing a
 * lot, bound to its own key. See docs/consensus.md for the security argument and its limits.
 *
 * Plot of key pk with N = 2^k entries: value(i) = sha256("XSC/plot/v1" || pk || i) for
 * i in [0, N). The proposer keeps the values' top 32 bits and their indexes, sorted by value.
 *
 * Proof for a block: for each lookup j in [0, spaceLookups), the first try t in [0, 16) whose
 * challenge c(j, t) = sha256("XSC/space/v1" || prevHash || slot || j || t) has an entry i with
 * top_k(value(i)) = top_k(c). The proof lists (t: u8, i: u32 big-endian) per lookup.
 *
 * A verifier recomputes c(j, t) and value(i): 2 hashes per lookup, no table. Without the table, a
 * faker must hash about N / 16 candidate indexes per lookup to find a match (each fresh hash hits
 * one of 16 tries' buckets with probability 16/N); with it, one binary search.
 */
export const PLOT_DOMAIN = utf8('XSC/plot/v1')
export const SPACE_CHALLENGE_DOMAIN = utf8('XSC/space/v1')
/** Tries per lookup: an honest plot has no entry for a given bucket with probability ~1/e, so 16 tries fail with ~e^-16 ≈ 1e-7. */
export const SPACE_MAX_TRIES = 16
const ANSWER_BYTES = 5
const MAX_PLOT_ENTRIES = 2 ** 31
const PLOT_MAGIC = utf8('XSCPLOT1')
const PLOT_HEADER_BYTES = PLOT_MAGIC.length + 32 + 4

export interface SpacePlot {
  publicKey: Address
  entries: number
  /** Top 32 bits of each value, ascending. */
  prefixes: Uint32Array
  /** prefixes[n] is the prefix of value(indexes[n]); ties ordered by index. */
  indexes: Uint32Array
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 2 && n <= MAX_PLOT_ENTRIES && (n & (n - 1)) === 0
}

function log2(n: number): number {
  return 31 - Math.clz32(n)
}

function top32(h: Uint8Array): number {
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0
}

/** The top k bits of a 32-bit prefix (k in [1, 31]). */
function bucketOf(prefix: number, k: number): number {
  return prefix >>> (32 - k)
}

export function computePlotValue(publicKey: Address, index: number): Hash {
  return hashParts(PLOT_DOMAIN, publicKey, u32be(index))
}

export function computeSpaceChallenge(prevHash: Hash, slot: number, lookup: number, attempt: number): Hash {
  return hashParts(SPACE_CHALLENGE_DOMAIN, prevHash, u32be(slot), new Uint8Array([lookup, attempt]))
}

/** Builds the plot of a key: N hashes and a sort. The node builds it once and keeps it (`encodePlot`). */
export function buildPlot(publicKey: Address, entries: number): SpacePlot {
  if (!isPowerOfTwo(entries)) throw new ConsensusError('BAD_PLOT', 'plot entries must be a power of two in [2, 2^31]', { scheme: 'space', got: entries })
  const keyed = new BigUint64Array(entries)
  for (let i = 0; i < entries; i++) keyed[i] = (BigInt(top32(computePlotValue(publicKey, i))) << 32n) | BigInt(i)
  keyed.sort()
  const prefixes = new Uint32Array(entries)
  const indexes = new Uint32Array(entries)
  for (let n = 0; n < entries; n++) {
    const v = keyed[n]!
    prefixes[n] = Number(v >> 32n)
    indexes[n] = Number(v & 0xffff_ffffn)
  }
  return { publicKey: new Uint8Array(publicKey), entries, prefixes, indexes }
}

/** First plot index whose value's top k bits equal `bucket`, or -1. Binary search: O(log N). */
export function findPlotIndex(plot: SpacePlot, bucket: number): number {
  const k = log2(plot.entries)
  const lowest = (bucket << (32 - k)) >>> 0
  let lo = 0
  let hi = plot.entries
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (plot.prefixes[mid]! < lowest) lo = mid + 1
    else hi = mid
  }
  if (lo < plot.entries && bucketOf(plot.prefixes[lo]!, k) === bucket) return plot.indexes[lo]!
  return -1
}

/** Serialized plot: "XSCPLOT1" || publicKey || entries u32 BE || (prefix u32 BE, index u32 BE) per entry. */
export function encodePlot(plot: SpacePlot): Uint8Array {
  const out = new Uint8Array(PLOT_HEADER_BYTES + plot.entries * 8)
  out.set(PLOT_MAGIC, 0)
  out.set(plot.publicKey, PLOT_MAGIC.length)
  const view = new DataView(out.buffer)
  view.setUint32(PLOT_MAGIC.length + 32, plot.entries)
  for (let n = 0, o = PLOT_HEADER_BYTES; n < plot.entries; n++, o += 8) {
    view.setUint32(o, plot.prefixes[n]!)
    view.setUint32(o + 4, plot.indexes[n]!)
  }
  return out
}

/**
 * Reads a plot back, checking its shape, its order and a deterministic sample of entries
 * against the key (a plot from another key or a corrupted file fails here, not at proving time).
 */
export function decodePlot(bytes: Uint8Array): SpacePlot {
  const bad = (reason: string): never => {
    throw new ConsensusError('BAD_PLOT', `space: ${reason}`, { scheme: 'space', reason })
  }
  if (bytes.length < PLOT_HEADER_BYTES || !equalBytes(bytes.subarray(0, PLOT_MAGIC.length), PLOT_MAGIC)) bad('not a plot file')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const publicKey = bytes.slice(PLOT_MAGIC.length, PLOT_MAGIC.length + 32)
  const entries = view.getUint32(PLOT_MAGIC.length + 32)
  if (!isPowerOfTwo(entries)) bad('entry count is not a power of two')
  if (bytes.length !== PLOT_HEADER_BYTES + entries * 8) bad('length does not match the entry count')
  const prefixes = new Uint32Array(entries)
  const indexes = new Uint32Array(entries)
  const seen = new Uint8Array(entries)
  for (let n = 0, o = PLOT_HEADER_BYTES; n < entries; n++, o += 8) {
    const p = view.getUint32(o)
    const i = view.getUint32(o + 4)
    if (i >= entries || seen[i] === 1) bad('index out of range or repeated')
    if (n > 0 && (p < prefixes[n - 1]! || (p === prefixes[n - 1]! && i < indexes[n - 1]!))) bad('entries are not sorted')
    seen[i] = 1
    prefixes[n] = p
    indexes[n] = i
  }
  const plot: SpacePlot = { publicKey, entries, prefixes, indexes }
  const samples = Math.min(entries, 64)
  for (let s = 0; s < samples; s++) {
    const n = Math.floor((s * (entries - 1)) / Math.max(1, samples - 1))
    if (top32(computePlotValue(publicKey, indexes[n]!)) !== prefixes[n]) bad(`entry ${n} does not belong to this key`)
  }
  return plot
}

function verifyAnswers(ctx: VerifyContext, data: Uint8Array): void {
  const { spaceLookups: lookups, spacePlotEntries: entries } = ctx.config
  if (data.length !== lookups * ANSWER_BYTES) {
    throw new ConsensusError('MALFORMED_PROOF', `space: proof must be ${lookups} answers of ${ANSWER_BYTES} bytes`, {
      scheme: 'space',
      got: data.length,
      expected: lookups * ANSWER_BYTES,
    })
  }
  const k = log2(entries)
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  for (let j = 0; j < lookups; j++) {
    const attempt = data[j * ANSWER_BYTES]!
    const index = view.getUint32(j * ANSWER_BYTES + 1)
    if (attempt >= SPACE_MAX_TRIES || index >= entries) {
      throw new ConsensusError('MALFORMED_PROOF', `space: answer ${j} is out of range`, { scheme: 'space', lookup: j, attempt, index, entries })
    }
    const want = bucketOf(top32(computeSpaceChallenge(ctx.prevHash, ctx.seal.slot, j, attempt)), k)
    const got = bucketOf(top32(computePlotValue(ctx.seal.proposer, index)), k)
    if (got !== want) {
      throw new ConsensusError('BAD_PROOF', `space: answer ${j} does not match its challenge`, { scheme: 'space', lookup: j, attempt, index, got, expected: want })
    }
  }
}

export const spaceScheme: ProofScheme = {
  name: 'space',
  verifyCost: 2,
  checkConfig(config) {
    const entries = checkIntField('space', config, 'spacePlotEntries', 2, MAX_PLOT_ENTRIES)
    if (!isPowerOfTwo(entries)) throw new ConsensusError('BAD_CONFIG', 'space: spacePlotEntries must be a power of two', { scheme: 'space', field: 'spacePlotEntries', got: entries })
    checkIntField('space', config, 'spaceLookups', 1, 255)
  },
  prove(ctx: ProveContext): Uint8Array {
    const plot = ctx.plot
    if (plot === undefined) throw new ConsensusError('PROVE_FAILED', 'space: no plot given', { scheme: 'space' })
    if (!equalBytes(plot.publicKey, ctx.seal.proposer) || plot.entries !== ctx.config.spacePlotEntries) {
      throw new ConsensusError('PROVE_FAILED', 'space: the plot is not the proposer\'s plot of the configured size', {
        scheme: 'space',
        plotKey: toHex(plot.publicKey),
        proposer: toHex(ctx.seal.proposer),
        got: plot.entries,
        expected: ctx.config.spacePlotEntries,
      })
    }
    const k = log2(plot.entries)
    const lookups = ctx.config.spaceLookups
    const out = new Uint8Array(lookups * ANSWER_BYTES)
    const view = new DataView(out.buffer)
    for (let j = 0; j < lookups; j++) {
      let found = -1
      let attempt = 0
      for (; attempt < SPACE_MAX_TRIES && found < 0; attempt++) {
        found = findPlotIndex(plot, bucketOf(top32(computeSpaceChallenge(ctx.prevHash, ctx.seal.slot, j, attempt)), k))
      }
      if (found < 0) throw new ConsensusError('PROVE_FAILED', `space: no plot entry for lookup ${j} in ${SPACE_MAX_TRIES} tries`, { scheme: 'space', lookup: j })
      out[j * ANSWER_BYTES] = attempt - 1
      view.setUint32(j * ANSWER_BYTES + 1, found)
    }
    // A corrupted plot would make an invalid block: check our own answer (2 hashes per lookup).
    try {
      verifyAnswers(ctx, out)
    } catch (cause) {
      throw new ConsensusError('PROVE_FAILED', 'space: the plot gave an answer that does not verify (corrupted plot?)', { scheme: 'space' }, { cause })
    }
    return out
  },
  verify(ctx: VerifyContext, data: Uint8Array): void {
    verifyAnswers(ctx, data)
  },
}
