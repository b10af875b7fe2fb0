import { afterAll, describe, expect, it } from 'vitest'

import { computeTimeSegments, ConsensusError, verifyProofs, verifyTimeSegment } from '../../../consensus/index.ts'
import { TimeVerifierPool, verifyTimeProofParallel } from '../../../src/chain/verifyTimeProofParallel.ts'
import { flipByte, makeContext, replaceProof, resign, sealValid } from './fixtures.ts'

describe('verifyTimeProofParallel (src/chain): worker threads agree with the sequential verifier', () => {
  const pool = new TimeVerifierPool({ threads: 2 })
  afterAll(() => pool.close())
  const ctx = makeContext(['time'], { timeIterations: 3000, timeCheckpoints: 7 })

  /** Outcome of a verifier as a comparable value: 'ok' or the error code and segment. */
  async function outcome(run: () => unknown): Promise<string> {
    try {
      await run()
      return 'ok'
    } catch (error) {
      if (!(error instanceof ConsensusError)) throw error
      return `${error.code}/${String(error.details.scheme)}/${String('segment' in error.details ? error.details.segment : undefined)}`
    }
  }

  it('per segment: same verdict as verifyTimeSegment on valid and tampered segments', async () => {
    const header = sealValid(ctx)
    const data = header.proofs.find((p) => p.scheme === 'time')!.data
    const segments = computeTimeSegments(ctx.registry.config, header.prevHash, header.slot, data)
    const tampered = segments.map((s, i) => (i % 2 === 1 ? { ...s, end: flipByte(s.end, 31) } : s))
    for (const list of [segments, tampered]) {
      const parallel = await pool.verifySegments(list)
      expect(parallel).toEqual(list.map((s) => verifyTimeSegment(s.start, s.end, s.iterations)))
    }
    expect(await pool.verifySegments(tampered)).toEqual([true, false, true, false, true, false, true])
  })

  it('per header: same outcome as verifyProofs for valid, tampered-at-each-checkpoint, malformed and wrong-slot headers', async () => {
    const header = sealValid(ctx, 9)
    const data = header.proofs.find((p) => p.scheme === 'time')!.data
    const cases = [header, resign({ ...header, slot: 8 }), replaceProof(header, 'time', data.subarray(5))]
    for (let k = 0; k < 7; k++) cases.push(replaceProof(header, 'time', flipByte(data, k * 32 + 3)))
    for (const h of cases) {
      const sequential = await outcome(() => verifyProofs(ctx, h))
      const parallel = await outcome(async () => {
        await verifyTimeProofParallel(pool, ctx, h)
        verifyProofs(ctx, h, { timeChainVerified: true })
      })
      expect(parallel).toBe(sequential)
    }
    expect(await outcome(() => verifyTimeProofParallel(pool, ctx, cases[5]!))).toBe('BAD_PROOF/time/2')
  })

  it('ignores headers of chains that do not require time', async () => {
    const stakeOnly = makeContext(['stake'])
    await expect(verifyTimeProofParallel(pool, stakeOnly, sealValid(stakeOnly))).resolves.toBeUndefined()
  })

  it('a closed pool refuses work', async () => {
    const p = new TimeVerifierPool({ threads: 1 })
    await p.close()
    await expect(p.verifySegments([])).rejects.toThrow(/closed/)
  })
})
