import { describe, expect, it } from 'vitest'

import { blockHash } from '../../../blocks/ids.ts'
import { type BlockContext, computeProposer, ConsensusError, createRegistry, sealBlock, verifyProofs } from '../../../consensus/index.ts'
import { equalBytes, ZERO_HASH } from '../../../src/crypto/index.ts'
import { expectConsensusError, keyOf, makeConfig, makeContext, makeFields, resign, sealValid, VALIDATORS } from './fixtures.ts'

const ALL = ['stake', 'time', 'work', 'space']

describe('createRegistry', () => {
  it('lists the required schemes in genesis order', () => {
    expect(createRegistry(makeConfig(['work', 'stake'])).schemes.map((s) => s.name)).toEqual(['work', 'stake'])
    expect(createRegistry(makeConfig(ALL)).schemes.map((s) => s.name)).toEqual(ALL)
  })

  it('rejects unknown, repeated or no schemes', () => {
    expectConsensusError(() => createRegistry(makeConfig(['stake', 'luck'])), 'UNKNOWN_SCHEME', 'luck')
    expectConsensusError(() => createRegistry(makeConfig(['stake', 'stake'])), 'BAD_CONFIG', 'stake')
    expectConsensusError(() => createRegistry(makeConfig([])), 'BAD_CONFIG')
  })

  it('rejects parameters a required scheme cannot work with, ignores those of schemes not required', () => {
    expectConsensusError(() => createRegistry(makeConfig(['time'], { timeIterations: 0 })), 'BAD_CONFIG', 'time')
    expectConsensusError(() => createRegistry(makeConfig(['time'], { timeIterations: 3, timeCheckpoints: 4 })), 'BAD_CONFIG', 'time')
    expectConsensusError(() => createRegistry(makeConfig(['time'], { timeCheckpoints: 0 })), 'BAD_CONFIG', 'time')
    expectConsensusError(() => createRegistry(makeConfig(['work'], { workBits: 65 })), 'BAD_CONFIG', 'work')
    expectConsensusError(() => createRegistry(makeConfig(['space'], { spacePlotEntries: 3000 })), 'BAD_CONFIG', 'space')
    expectConsensusError(() => createRegistry(makeConfig(['space'], { spaceLookups: 0 })), 'BAD_CONFIG', 'space')
    expect(() => createRegistry(makeConfig(['stake'], { timeIterations: 0, spacePlotEntries: 3 }))).not.toThrow()
  })
})

describe('sealBlock / verifyProofs with all four schemes', () => {
  const ctx = makeContext(ALL)

  it('produces one proof per scheme in registry order and accepts the result', () => {
    const header = sealValid(ctx)
    expect(header.proofs.map((p) => p.scheme)).toEqual(ALL)
    expect(() => verifyProofs(ctx, header)).not.toThrow()
  })

  it('rejects a block missing any one required proof, naming that scheme', () => {
    const header = sealValid(ctx)
    for (const scheme of ALL) {
      expectConsensusError(() => verifyProofs(ctx, resign({ ...header, proofs: header.proofs.filter((p) => p.scheme !== scheme) })), 'MISSING_PROOF', scheme)
    }
  })

  it('rejects a proof for a scheme this chain does not require', () => {
    const stakeOnly = makeContext(['stake'])
    const header = sealValid(ctx)
    // A full four-proof header on a stake-only chain: work is the first extra one.
    expectConsensusError(() => verifyProofs(stakeOnly, header), 'UNKNOWN_PROOF', 'time')
    const odd = resign({ ...sealValid(stakeOnly), proofs: [{ scheme: 'stake', data: new Uint8Array(0) }, { scheme: 'luck', data: new Uint8Array(1) }] })
    expectConsensusError(() => verifyProofs(stakeOnly, odd), 'UNKNOWN_PROOF', 'luck')
  })

  it('rejects a duplicated proof', () => {
    const header = sealValid(ctx)
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, proofs: [...header.proofs, header.proofs[2]!] })), 'DUPLICATE_PROOF', 'work')
  })

  it('rejects proofs out of registry order', () => {
    const header = sealValid(ctx)
    const [a, b, ...rest] = header.proofs
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, proofs: [b!, a!, ...rest] })), 'PROOF_ORDER', 'time')
  })

  it('a block sealed for one chain config is rejected by a chain with different parameters', () => {
    const header = sealValid(ctx)
    const harder = makeContext(ALL, { timeIterations: 2400 })
    expectConsensusError(() => verifyProofs(harder, header), 'BAD_PROOF', 'time')
  })

  it('errors thrown by verification are always ConsensusErrors (typed), never crashes', () => {
    const header = sealValid(ctx)
    const garbage = resign({ ...header, proofs: header.proofs.map((p) => ({ scheme: p.scheme, data: new Uint8Array(p.data.length).fill(0xff) })) })
    expect(() => verifyProofs(ctx, garbage)).toThrow(ConsensusError)
  })
})

describe('a chain that requires only stake', () => {
  it('seals and verifies a run of blocks, each on its parent, with the drawn proposers', () => {
    const ctx: BlockContext = makeContext(['stake'])
    let prevHash = ZERO_HASH
    let parentSlot = 0
    const proposers = new Set<string>()
    for (let slot = 1; slot <= 30; slot++) {
      const proposer = computeProposer(VALIDATORS, prevHash, slot)
      const key = keyOf(proposer)
      const header = sealBlock({ ...ctx, parentSlot, secretKey: key.secretKey }, { ...makeFields(slot, proposer, prevHash), height: slot })
      verifyProofs({ ...ctx, parentSlot }, header)
      expect(equalBytes(header.proposer, proposer)).toBe(true)
      proposers.add(Buffer.from(proposer).toString('hex'))
      prevHash = blockHash(header)
      parentSlot = slot
    }
    expect(proposers.size).toBeGreaterThan(1)
  })

  it('seals without a plot (space not required)', () => {
    const ctx = makeContext(['stake', 'work'])
    const slot = 3
    const key = keyOf(computeProposer(VALIDATORS, ZERO_HASH, slot))
    const header = sealBlock({ ...ctx, secretKey: key.secretKey }, makeFields(slot, key.publicKey))
    expect(() => verifyProofs(ctx, header)).not.toThrow()
  })
})
