import { describe, expect, it } from 'vitest'

import {
  buildPlot,
  computePlotValue,
  decodePlot,
  encodePlot,
  findPlotIndex,
  sealBlock,
  SPACE_MAX_TRIES,
  verifyProofs,
} from '../../../consensus/index.ts'
import { ZERO_HASH } from '../../../src/crypto/index.ts'
import { expectConsensusError, KEYS, makeContext, makeFields, plotOf, replaceProof, resign, sealValid } from './fixtures.ts'

const ENTRIES = 1 << 12

function answer(attempt: number, index: number): Uint8Array {
  const out = new Uint8Array(5)
  out[0] = attempt
  new DataView(out.buffer).setUint32(1, index)
  return out
}

describe('space: plot', () => {
  const plot = plotOf(KEYS[0]!)

  it('holds every index once, sorted by value, each prefix the top 32 bits of hash(pk || i)', () => {
    expect(plot.entries).toBe(ENTRIES)
    expect(new Set(plot.indexes).size).toBe(ENTRIES)
    for (let n = 1; n < ENTRIES; n++) expect(plot.prefixes[n]! >= plot.prefixes[n - 1]!).toBe(true)
    for (const n of [0, 17, ENTRIES - 1]) {
      const v = computePlotValue(KEYS[0]!.publicKey, plot.indexes[n]!)
      expect(new DataView(v.buffer, v.byteOffset).getUint32(0)).toBe(plot.prefixes[n])
    }
  })

  it('finds an entry for about 63% of buckets (1 - 1/e)', () => {
    let hits = 0
    for (let b = 0; b < ENTRIES; b++) if (findPlotIndex(plot, b) >= 0) hits++
    expect(hits / ENTRIES).toBeGreaterThan(0.58)
    expect(hits / ENTRIES).toBeLessThan(0.68)
  })

  it('round-trips through its file format and rejects a corrupted or foreign file', () => {
    const bytes = encodePlot(plot)
    const back = decodePlot(bytes)
    expect(back.prefixes).toEqual(plot.prefixes)
    expect(back.indexes).toEqual(plot.indexes)
    expect(back.publicKey).toEqual(plot.publicKey)
    const foreign = new Uint8Array(bytes)
    foreign.set(KEYS[1]!.publicKey, 8)
    expectConsensusError(() => decodePlot(foreign), 'BAD_PLOT', 'space')
    expectConsensusError(() => decodePlot(bytes.subarray(0, bytes.length - 8)), 'BAD_PLOT', 'space')
    const unsorted = new Uint8Array(bytes)
    unsorted.set(bytes.subarray(44, 52), 52)
    unsorted.set(bytes.subarray(52, 60), 44)
    expectConsensusError(() => decodePlot(unsorted), 'BAD_PLOT', 'space')
    expectConsensusError(() => buildPlot(KEYS[0]!.publicKey, 1000), 'BAD_PLOT', 'space')
  })
})

describe('space: proofs', () => {
  const ctx = makeContext(['space'])

  it('accepts a valid header', () => {
    const header = sealValid(ctx)
    expect(header.proofs[0]!.data.length).toBe(4 * 5)
    expect(() => verifyProofs(ctx, header)).not.toThrow()
  })

  it('rejects an answer whose plot value does not match the challenge', () => {
    const header = sealValid(ctx)
    const data = new Uint8Array(header.proofs[0]!.data)
    // Point lookup 1 at an index from the other end of the sorted plot: its bucket differs.
    const plot = plotOf(KEYS[0]!)
    const current = new DataView(data.buffer).getUint32(6)
    const pos = plot.indexes.indexOf(current)
    data.set(answer(data[5]!, plot.indexes[(pos + ENTRIES / 2) % ENTRIES]!), 5)
    const error = expectConsensusError(() => verifyProofs(ctx, replaceProof(header, 'space', data)), 'BAD_PROOF', 'space')
    expect(error.details.lookup).toBe(1)
  })

  it('rejects an index outside the plot and a try number beyond the limit', () => {
    const header = sealValid(ctx)
    const data = new Uint8Array(header.proofs[0]!.data)
    data.set(answer(0, ENTRIES), 0)
    expectConsensusError(() => verifyProofs(ctx, replaceProof(header, 'space', data)), 'MALFORMED_PROOF', 'space')
    data.set(answer(SPACE_MAX_TRIES, 0), 0)
    expectConsensusError(() => verifyProofs(ctx, replaceProof(header, 'space', data)), 'MALFORMED_PROOF', 'space')
    expectConsensusError(() => verifyProofs(ctx, replaceProof(header, 'space', data.subarray(1))), 'MALFORMED_PROOF', 'space')
  })

  it('rejects a header missing the space proof', () => {
    expectConsensusError(() => verifyProofs(ctx, resign({ ...sealValid(ctx), proofs: [] })), 'MISSING_PROOF', 'space')
  })

  it('rejects answers to another slot\'s challenges', () => {
    const header = sealValid(ctx, 5)
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, slot: 6, timestamp: header.timestamp + 1000n })), 'BAD_PROOF', 'space')
  })

  it('rejects answers to another parent\'s challenges', () => {
    const header = sealValid(ctx, 5)
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, prevHash: new Uint8Array(32).fill(3) })), 'BAD_PROOF', 'space')
  })

  it('rejects answers from another key\'s plot', () => {
    const [a, b] = [KEYS[0]!, KEYS[1]!]
    const fromA = sealBlock({ ...ctx, secretKey: a.secretKey, plot: plotOf(a) }, makeFields(5, a.publicKey))
    const asB = resign({ ...makeFields(5, b.publicKey), proofs: fromA.proofs, signature: fromA.signature })
    expectConsensusError(() => verifyProofs(ctx, asB), 'BAD_PROOF', 'space')
  })

  it('will not prove without the proposer\'s plot of the configured size', () => {
    const [a, b] = [KEYS[0]!, KEYS[1]!]
    const fields = makeFields(5, a.publicKey)
    expectConsensusError(() => sealBlock({ ...ctx, secretKey: a.secretKey }, fields), 'PROVE_FAILED', 'space')
    expectConsensusError(() => sealBlock({ ...ctx, secretKey: a.secretKey, plot: plotOf(b) }, fields), 'PROVE_FAILED', 'space')
    expectConsensusError(() => sealBlock({ ...ctx, secretKey: a.secretKey, plot: plotOf(a, 1 << 10) }, fields), 'PROVE_FAILED', 'space')
  })

  it('will not sign answers from a corrupted plot', () => {
    const a = KEYS[0]!
    const good = plotOf(a)
    const corrupt = { ...good, indexes: good.indexes.map((i) => (i + 1) % ENTRIES) }
    expectConsensusError(() => sealBlock({ ...ctx, secretKey: a.secretKey, plot: corrupt }, makeFields(5, a.publicKey, ZERO_HASH)), 'PROVE_FAILED', 'space')
  })
})
