import { afterEach, describe, expect, it } from 'vitest'

import { attestationSigningHash, txId } from '../../../blocks/ids.ts'
import type { Attestation, Block, Hash } from '../../../blocks/schema.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { signHeader } from '../../../consensus/stake.ts'
import { Chain, type ImportedBlock } from '../../../src/chain/chain.ts'
import { ForkChoiceError } from '../../../src/chain/errors.ts'
import { ForkChoiceStore, revertTo, switchBranch } from '../../../src/chain/forkChoice.ts'
import { equalBytes, hash, type KeyPair, sign, toHex } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

const v0 = testKey('fork-v0')
const v1 = testKey('fork-v1')
const alice = testKey('fork-alice')
const bob = testKey('fork-bob')
const genesis = testGenesis({ validators: [v0, v1], funded: [{ key: alice, amount: 1_000_000n }], schemes: ['stake', 'time', 'work'] })

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function open(key: KeyPair): Promise<Chain> {
  const tmp = tempDir('xsc-fork-')
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: key, signatureWorkers: 0 })
  cleanups.push(tmp.cleanup, () => chain.close())
  return chain
}

/** Produces on `chain` in the first slot after `after` that belongs to `key`. */
async function produce(chain: Chain, key: KeyPair, after: number): Promise<ImportedBlock> {
  for (let slot = after + 1; ; slot++) {
    if (!equalBytes(chain.proposerOf(slot), key.publicKey)) continue
    const b = await chain.produceBlock(slot, Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot)))
    if (b) return b
  }
}

const branch = (...bs: ImportedBlock[]) => bs.map((b) => ({ block: b.block, hash: b.hash }))

describe('switchBranch (real chains in classic-level)', () => {
  it('reverts to the common ancestor, imports the other branch, re-admits the reverted txs, and can switch back', async () => {
    const a = await open(v0)
    const b = await open(v1)
    const genesisRef = { hash: a.head.hash, height: 0 }
    a.submitTx(transfer(alice, 0, bob.publicKey, 500n))
    const a1 = await produce(a, v0, 100)
    expect(a1.block.entries).toHaveLength(1)
    // Two more of alice's txs wait in the pool; their nonces follow the one in a1.
    a.submitTx(transfer(alice, 1, bob.publicKey, 1n))
    a.submitTx(transfer(alice, 2, bob.publicKey, 1n))
    const b1 = await produce(b, v1, 100)
    const b2 = await produce(b, v1, b1.block.header.slot)

    const res = await switchBranch(a, genesisRef, branch(b1, b2))
    expect(toHex(a.head.hash)).toBe(toHex(b2.hash))
    expect(toHex(a.head.header.stateRoot)).toBe(toHex(b.head.header.stateRoot))
    expect(res.reverted.map((r) => toHex(r.hash))).toEqual([toHex(a1.hash)])
    expect(res.readmitted).toBe(1)
    // a1's tx is back, and the pending ones after it were not dropped as gapped.
    expect(a.mempool.pending().map((tx) => tx.body.nonce)).toEqual([0, 1, 2])
    expect(readAccount(a.store.state, bob.publicKey).balance).toBe(0n)
    const entry = a1.block.entries[0]!
    if (entry.type !== 'tx') throw new Error('expected a tx entry')
    expect(await a.store.getTx(txId(entry.tx))).toBeUndefined() // the reverted block's tx index is gone

    // Back to a1: a block this store verified before is re-applied (importBlock would call it known).
    await switchBranch(a, genesisRef, branch(a1))
    expect(toHex(a.head.hash)).toBe(toHex(a1.hash))
    expect(readAccount(a.store.state, bob.publicKey).balance).toBe(500n)
    expect(a.mempool.pending().map((tx) => tx.body.nonce)).toEqual([1, 2])
  })

  it('rolls back to the old branch when a block of the new one is invalid', async () => {
    const a = await open(v0)
    const b = await open(v1)
    const genesisRef = { hash: a.head.hash, height: 0 }
    const a1 = await produce(a, v0, 100)
    const b1 = await produce(b, v1, 100)
    // b1 with its time proof altered and signed again by its proposer: only the proof is wrong.
    const proofs = b1.block.header.proofs.map((p) => (p.scheme === 'time' ? { scheme: p.scheme, data: Uint8Array.from(p.data, (x, i) => (i === 0 ? x ^ 1 : x)) } : p))
    const bad: Block = { header: signHeader({ ...b1.block.header, proofs }, v1.secretKey), entries: b1.block.entries }
    const err = await switchBranch(a, genesisRef, [{ block: bad, hash: hash(new Uint8Array([1])) }]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ForkChoiceError)
    expect((err as ForkChoiceError).code).toBe('BRANCH_INVALID')
    expect((err as ForkChoiceError).cause).toMatchObject({ code: 'BAD_PROOF', details: { scheme: 'time' } })
    expect(toHex(a.head.hash)).toBe(toHex(a1.hash))
    expect(toHex(a.head.header.stateRoot)).toBe(toHex(a1.block.header.stateRoot))
  })

  it('never reverts a finalized block', async () => {
    const a = await open(v0)
    const genesisRef = { hash: a.head.hash, height: 0 }
    const a1 = await produce(a, v0, 100)
    await a.store.setFinalized({ hash: a1.hash, height: 1 })
    await expect(revertTo(a, genesisRef)).rejects.toMatchObject({ code: 'BELOW_FINALIZED' })
    await expect(switchBranch(a, genesisRef, [])).rejects.toMatchObject({ code: 'BELOW_FINALIZED' })
    expect(toHex(a.head.hash)).toBe(toHex(a1.hash))
  })
})

// --- ForkChoiceStore: pure ---

const vals = [testKey('fc-0'), testKey('fc-1'), testKey('fc-2'), testKey('fc-3')]
const stakes = vals.map((k) => ({ address: k.publicKey, stake: 100n }))
const h = (name: string): Hash => hash(new TextEncoder().encode(name))
const node = (name: string, parent: string, height: number) => ({ hash: h(name), parentHash: h(parent), height })
function attest(key: KeyPair, name: string, height: number): Attestation {
  const body = { chainId: 'xsc-test', height, blockHash: h(name), validator: key.publicKey }
  return { body, signature: sign(key.secretKey, attestationSigningHash(body)) }
}

describe('ForkChoiceStore', () => {
  function tree(): ForkChoiceStore {
    const fc = new ForkChoiceStore({ chainId: 'xsc-test', validators: stakes, finalized: node('g', 'none', 0) })
    // g ─ a1 ─ a2
    //   └ b1 ─ b2 ─ b3
    fc.addBlock(node('a1', 'g', 1))
    fc.addBlock(node('a2', 'a1', 2))
    fc.addBlock(node('b1', 'g', 1))
    fc.addBlock(node('b2', 'b1', 2))
    fc.addBlock(node('b3', 'b2', 3))
    return fc
  }

  it('follows votes over length, finalizes at more than 2/3 of stake, and removes an invalid subtree', () => {
    const fc = tree()
    expect(toHex(fc.head())).toBe(toHex(h('b3'))) // no votes: the longest branch
    fc.addAttestation(attest(vals[0]!, 'a2', 2))
    expect(toHex(fc.head())).toBe(toHex(h('a2'))) // weight beats length
    fc.addAttestation(attest(vals[1]!, 'b3', 3))
    fc.addAttestation(attest(vals[2]!, 'b2', 2))
    expect(toHex(fc.head())).toBe(toHex(h('b3')))
    expect(fc.addAttestation(attest(vals[3]!, 'b3', 3)).finalizedMoved).toBe(true) // 3 of 4 in b2's subtree
    expect(toHex(fc.finalized.hash)).toBe(toHex(h('b2')))
    fc.prune()
    expect(fc.has(h('a1'))).toBe(false)
    expect(fc.removeSubtree(h('b3')).map(String)).toEqual([toHex(h('b3'))])
    expect(toHex(fc.head())).toBe(toHex(h('b2')))
    expect(() => fc.removeSubtree(h('b2'))).toThrow()
  })

  it('holds an attestation for a block not seen yet and counts it when the block arrives', () => {
    const fc = tree()
    expect(() => fc.addAttestation(attest(vals[0]!, 'a3', 3))).toThrow(expect.objectContaining({ code: 'UNKNOWN_BLOCK' }))
    expect(toHex(fc.head())).toBe(toHex(h('b3')))
    fc.addBlock(node('a3', 'a2', 3))
    expect(toHex(fc.head())).toBe(toHex(h('a3')))
    expect(fc.votes.size).toBe(1)
  })

  it('rejects a forged attestation and a second vote at the same height', () => {
    const fc = tree()
    const forged = { ...attest(vals[0]!, 'a1', 1), signature: new Uint8Array(64) }
    expect(() => fc.addAttestation(forged)).toThrow(expect.objectContaining({ code: 'BAD_ATTESTATION_SIGNATURE' }))
    fc.addAttestation(attest(vals[0]!, 'a1', 1))
    expect(() => fc.addAttestation(attest(vals[0]!, 'b1', 1))).toThrow(expect.objectContaining({ code: 'EQUIVOCATION' }))
    expect(fc.addAttestation(attest(vals[0]!, 'a1', 1)).voted).toBe(false)
  })

  it('hands out each validator\'s latest counted vote, signed, so a peer that missed the gossip reaches the same finality', () => {
    const a = tree()
    a.addAttestation(attest(vals[0]!, 'b1', 1))
    a.addAttestation(attest(vals[0]!, 'b2', 2))
    a.addAttestation(attest(vals[1]!, 'b3', 3))
    a.addAttestation(attest(vals[2]!, 'b2', 2))
    const latest = a.latestAttestations()
    expect(latest.map((x) => [toHex(x.body.validator), x.body.height]).sort()).toEqual([
      [toHex(vals[0]!.publicKey), 2],
      [toHex(vals[1]!.publicKey), 3],
      [toHex(vals[2]!.publicKey), 2],
    ].sort())
    // A node that saw none of that gossip counts the exchanged votes and finalizes as `a` did.
    const b = tree()
    for (const att of latest) b.addAttestation(att)
    expect(toHex(b.head())).toBe(toHex(a.head()))
    expect(toHex(b.finalized.hash)).toBe(toHex(a.finalized.hash))
    expect(toHex(b.finalized.hash)).toBe(toHex(h('b2')))
  })
})
