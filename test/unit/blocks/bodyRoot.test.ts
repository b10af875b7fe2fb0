import { beforeEach, describe, expect, it, vi } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { computeBodyRoot, entryHash } from '../../../blocks/ids.ts'
import { type Block, BlockEntry } from '../../../blocks/schema.ts'
import { validateBlockStructure } from '../../../blocks/validateBlock.ts'
import { generateKeyPair, leafHash, merkleRoot, toHex, ZERO_HASH } from '../../../src/crypto/index.ts'
import { transfer } from '../../support/chainFixtures.ts'

// The real merkle functions, counted: a block is checked for structure when it arrives and
// again at import, and a proposer computes its draft's root and checks its own block.
const calls = vi.hoisted(() => ({ roots: 0, leaves: 0 }))
vi.mock('../../../src/crypto/merkle.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/crypto/merkle.ts')>()
  return {
    ...original,
    merkleRoot: (...a: Parameters<typeof original.merkleRoot>) => { calls.roots++; return original.merkleRoot(...a) },
    leafHash: (...a: Parameters<typeof original.leafHash>) => { calls.leaves++; return original.leafHash(...a) },
  }
})

const CHAIN = 'xsc-test'
const ack = (i: number): BlockEntry => ({ type: 'storageAck', acks: [{ body: { chainId: CHAIN, asset: ZERO_HASH, shardIndex: i, shardHash: ZERO_HASH, host: ZERO_HASH }, signature: new Uint8Array(64) }] })
const blockOf = (kind: Block['header']['kind'], entries: BlockEntry[]): Block => ({
  header: { chainId: CHAIN, height: 5, prevHash: ZERO_HASH, kind, slot: 11, timestamp: 0n, proposer: ZERO_HASH, bodyRoot: computeBodyRoot(entries), stateRoot: ZERO_HASH, baseFee: 0n, txBytes: 0, round: 0, beaconReveal: ZERO_HASH, proofs: [], signature: new Uint8Array(64) },
  entries,
})

describe('body root computed once per block per node', () => {
  beforeEach(() => {
    calls.roots = 0
    calls.leaves = 0
  })

  it('a block checked on arrival and again at import computes its root and entry hashes once', () => {
    const entries = [ack(0), ack(1), ack(2)]
    const block = blockOf('storage', entries)
    expect([calls.roots, calls.leaves]).toEqual([1, 3])
    validateBlockStructure(block, CHAIN)
    validateBlockStructure({ ...block, header: { ...block.header } }, CHAIN) // the sealed copy of a draft: same entries array
    expect([calls.roots, calls.leaves]).toEqual([1, 3])
  })

  it('the memoized root is the one computed afresh (transfers and other entries)', () => {
    const key = generateKeyPair()
    const txs: BlockEntry[] = [0, 1, 2, 3, 4].map((n) => ({ type: 'tx', tx: transfer(key, n, generateKeyPair().publicKey, 10n) }))
    for (const entries of [txs, [ack(0), ack(1)]]) {
      const fresh = toHex(merkleRoot(entries.map((e) => leafHash(encode(BlockEntry, e)))))
      expect(toHex(computeBodyRoot(entries))).toBe(fresh)
      expect(toHex(computeBodyRoot(entries))).toBe(fresh)
      expect(entries.map((e) => toHex(entryHash(e)))).toEqual(entries.map((e) => toHex(leafHash(encode(BlockEntry, e)))))
    }
  })

  it('an entries array that changed after its root was taken gets its new root', () => {
    const entries = [ack(0), ack(1)]
    const before = toHex(computeBodyRoot(entries))
    entries.push(ack(2))
    const grown = toHex(computeBodyRoot(entries))
    expect(grown).not.toBe(before)
    expect(grown).toBe(toHex(computeBodyRoot([...entries])))
    entries[1] = ack(7)
    expect(toHex(computeBodyRoot(entries))).toBe(toHex(computeBodyRoot([ack(0), ack(7), ack(2)])))
    expect(toHex(computeBodyRoot(entries))).not.toBe(grown)
  })

  it('a block whose header carries another root is still refused on the second check', () => {
    const block = blockOf('storage', [ack(0), ack(1)])
    validateBlockStructure(block, CHAIN)
    const forged = { ...block, header: { ...block.header, bodyRoot: new Uint8Array(32).fill(1) } }
    expect(() => validateBlockStructure(forged, CHAIN)).toThrow(/body root/)
  })
})
