import { describe, expect, it } from 'vitest'

import type { Attestation } from '../../../blocks/schema.ts'
import {
  type BlockNode,
  chooseHead,
  computeFinalized,
  FinalityTracker,
  isSupermajority,
  recordVote,
  signAttestation,
  verifyAttestation,
  type Votes,
} from '../../../consensus/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { expectConsensusError, flipByte, KEYS } from './fixtures.ts'

const CHAIN = 'xsc-test'
/** Four validators of equal stake 100: total 400, so finality needs 3 of them (300 > 266.7). */
const EQUAL = KEYS.map((k) => ({ address: k.publicKey, stake: 100n }))

function id(label: string): Uint8Array {
  const out = new Uint8Array(32)
  out.set(new TextEncoder().encode(label).subarray(0, 32))
  return out
}

/** genesis G; main chain G-A1-A2-A3; fork G-B1-B2-B3-B4 (longer). */
function makeTree(): { nodes: Record<string, BlockNode>; tree: Map<string, BlockNode> } {
  const nodes: Record<string, BlockNode> = { G: { hash: id('G'), parentHash: new Uint8Array(32), height: 0 } }
  const add = (name: string, parent: string): void => {
    nodes[name] = { hash: id(name), parentHash: nodes[parent]!.hash, height: nodes[parent]!.height + 1 }
  }
  add('A1', 'G'); add('A2', 'A1'); add('A3', 'A2')
  add('B1', 'G'); add('B2', 'B1'); add('B3', 'B2'); add('B4', 'B3')
  return { nodes, tree: new Map(Object.values(nodes).map((n) => [toHex(n.hash), n])) }
}

function attest(validator: number, node: BlockNode, chainId = CHAIN): Attestation {
  return signAttestation({ chainId, height: node.height, blockHash: node.hash, validator: KEYS[validator]!.publicKey }, KEYS[validator]!.secretKey)
}

function votesFor(...pairs: [number, BlockNode][]): Votes {
  let votes: Votes = new Map()
  for (const [v, node] of pairs) votes = recordVote(votes, attest(v, node))
  return votes
}

describe('verifyAttestation', () => {
  const { nodes, tree } = makeTree()
  const ctx = { chainId: CHAIN, validators: EQUAL, tree }

  it('accepts a validator\'s signed attestation of a known block', () => {
    expect(() => verifyAttestation(attest(0, nodes.A1!), ctx)).not.toThrow()
  })

  it('rejects another chain id', () => {
    expectConsensusError(() => verifyAttestation(attest(0, nodes.A1!, 'other-chain'), ctx), 'WRONG_CHAIN', 'finality')
  })

  it('rejects a non-validator and a validator with zero stake', () => {
    expectConsensusError(() => verifyAttestation(attest(0, nodes.A1!), { ...ctx, validators: EQUAL.slice(1) }), 'NOT_VALIDATOR', 'finality')
    const zero = EQUAL.map((v, i) => (i === 0 ? { ...v, stake: 0n } : v))
    expectConsensusError(() => verifyAttestation(attest(0, nodes.A1!), { ...ctx, validators: zero }), 'NOT_VALIDATOR', 'finality')
  })

  it('rejects a bad signature, or a body changed after signing', () => {
    const att = attest(0, nodes.A1!)
    expectConsensusError(() => verifyAttestation({ ...att, signature: flipByte(att.signature) }, ctx), 'BAD_ATTESTATION_SIGNATURE', 'finality')
    expectConsensusError(() => verifyAttestation({ ...att, body: { ...att.body, blockHash: nodes.B1!.hash } }, ctx), 'BAD_ATTESTATION_SIGNATURE', 'finality')
  })

  it('reports an unknown block (transient) and a height that is not the block\'s', () => {
    const unknown: BlockNode = { hash: id('Z'), parentHash: nodes.G!.hash, height: 1 }
    expectConsensusError(() => verifyAttestation(attest(0, unknown), ctx), 'UNKNOWN_BLOCK', 'finality')
    const lying = signAttestation({ chainId: CHAIN, height: 2, blockHash: nodes.A1!.hash, validator: KEYS[0]!.publicKey }, KEYS[0]!.secretKey)
    expectConsensusError(() => verifyAttestation(lying, ctx), 'HEIGHT_MISMATCH', 'finality')
  })
})

describe('votes', () => {
  const { nodes } = makeTree()

  it('keep each validator\'s highest attestation; lower ones are stale', () => {
    let votes = votesFor([0, nodes.A2!])
    const same = recordVote(votes, attest(0, nodes.A1!))
    expect(same).toBe(votes)
    votes = recordVote(votes, attest(0, nodes.A3!))
    expect(toHex(votes.get(toHex(KEYS[0]!.publicKey))!.blockHash)).toBe(toHex(nodes.A3!.hash))
  })

  it('reject a second, different block at the same height (equivocation)', () => {
    const votes = votesFor([0, nodes.A2!])
    expect(recordVote(votes, attest(0, nodes.A2!))).toBe(votes)
    expectConsensusError(() => recordVote(votes, attest(0, nodes.B2!)), 'EQUIVOCATION', 'finality')
  })
})

describe('finality', () => {
  const { nodes, tree } = makeTree()
  const base = { tree, validators: EQUAL, finalized: nodes.G!.hash }

  it('needs MORE than 2/3 of the stake: exactly 2/3 is not enough', () => {
    expect(isSupermajority(2n, 3n)).toBe(false)
    expect(isSupermajority(3n, 4n)).toBe(true)
    expect(isSupermajority(0n, 0n)).toBe(false)
    const thirds = [{ address: KEYS[0]!.publicKey, stake: 1n }, { address: KEYS[1]!.publicKey, stake: 1n }, { address: KEYS[2]!.publicKey, stake: 1n }]
    const votes = votesFor([0, nodes.A1!], [1, nodes.A1!])
    expect(toHex(computeFinalized({ ...base, validators: thirds, votes }))).toBe(toHex(nodes.G!.hash))
    const more = votesFor([0, nodes.A1!], [1, nodes.A1!], [2, nodes.A1!])
    expect(toHex(computeFinalized({ ...base, validators: thirds, votes: more }))).toBe(toHex(nodes.A1!.hash))
  })

  it('counts an attestation of a descendant for its ancestors', () => {
    const votes = votesFor([0, nodes.A3!], [1, nodes.A2!], [2, nodes.A1!])
    expect(toHex(computeFinalized({ ...base, votes }))).toBe(toHex(nodes.A1!.hash))
    const deeper = votesFor([0, nodes.A3!], [1, nodes.A3!], [2, nodes.A2!])
    expect(toHex(computeFinalized({ ...base, votes: deeper }))).toBe(toHex(nodes.A2!.hash))
  })

  it('weighs by stake, not by head count', () => {
    const weighted = KEYS.map((k, i) => ({ address: k.publicKey, stake: i === 0 ? 700n : 100n }))
    const votes = votesFor([0, nodes.B2!])
    expect(toHex(computeFinalized({ ...base, validators: weighted, votes }))).toBe(toHex(nodes.B2!.hash))
  })

  it('never moves back or sideways: a later supermajority on a fork does not unfinalize', () => {
    const votes = votesFor([0, nodes.B4!], [1, nodes.B4!], [2, nodes.B4!])
    const fromA = { ...base, finalized: nodes.A1!.hash, votes }
    expect(toHex(computeFinalized(fromA))).toBe(toHex(nodes.A1!.hash))
    expect(toHex(chooseHead(fromA))).toBe(toHex(nodes.A3!.hash))
  })
})

describe('chooseHead', () => {
  const { nodes, tree } = makeTree()
  const base = { tree, validators: EQUAL, finalized: nodes.G!.hash }

  it('with no votes, follows the longest branch', () => {
    expect(toHex(chooseHead({ ...base, votes: new Map() }))).toBe(toHex(nodes.B4!.hash))
  })

  it('prefers the branch with more attested stake over a longer one', () => {
    const votes = votesFor([0, nodes.A2!], [1, nodes.A1!])
    expect(toHex(chooseHead({ ...base, votes }))).toBe(toHex(nodes.A3!.hash))
  })

  it('breaks an exact tie by the lowest hash', () => {
    const twins: BlockNode[] = [
      { hash: new Uint8Array(32).fill(2), parentHash: nodes.G!.hash, height: 1 },
      { hash: new Uint8Array(32).fill(1), parentHash: nodes.G!.hash, height: 1 },
    ]
    const small = new Map([nodes.G!, ...twins].map((n) => [toHex(n.hash), n]))
    expect(chooseHead({ ...base, tree: small, votes: new Map() })).toEqual(new Uint8Array(32).fill(1))
  })
})

describe('FinalityTracker', () => {
  it('finalizes as attestations arrive, chooses heads under the finalized block, prunes the rest', () => {
    const { nodes } = makeTree()
    const tracker = new FinalityTracker({ chainId: CHAIN, validators: EQUAL, finalized: nodes.G! })
    for (const name of ['A1', 'A2', 'A3', 'B1', 'B2', 'B3', 'B4']) tracker.addBlock(nodes[name]!)
    expect(toHex(tracker.head())).toBe(toHex(nodes.B4!.hash))
    expect(tracker.addAttestation(attest(0, nodes.A2!))).toBe(false)
    expect(tracker.addAttestation(attest(1, nodes.A2!))).toBe(false)
    expect(tracker.addAttestation(attest(2, nodes.A1!))).toBe(true)
    expect(toHex(tracker.finalized)).toBe(toHex(nodes.A1!.hash))
    expect(tracker.isFinalized(nodes.G!.hash)).toBe(true)
    expect(tracker.isFinalized(nodes.A2!.hash)).toBe(false)
    expect(toHex(tracker.head())).toBe(toHex(nodes.A3!.hash))
    tracker.prune()
    expect([...tracker.tree.values()].map((n) => n.height).sort()).toEqual([1, 2, 3])
    expectConsensusError(() => tracker.addAttestation(attest(3, nodes.B4!)), 'UNKNOWN_BLOCK', 'finality')
    expectConsensusError(() => tracker.addBlock({ hash: id('X'), parentHash: nodes.A3!.hash, height: 7 }), 'HEIGHT_MISMATCH', 'finality')
  })
})
