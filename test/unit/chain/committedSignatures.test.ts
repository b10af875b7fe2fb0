import { afterEach, describe, expect, it } from 'vitest'

import { computeResultHash, computeWriteSetHash } from '../../../blocks/executionHashes.ts'
import { blockHash, computeBodyRoot, receiptSigningHash, txId } from '../../../blocks/ids.ts'
import { type Block, type BlockEntry, CAPABILITY, type Hash, OUTCOME, type ReceiptBody } from '../../../blocks/schema.ts'
import { createRegistry } from '../../../consensus/proofScheme.ts'
import { sealBlock } from '../../../consensus/sealBlock.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { Chain } from '../../../src/chain/chain.ts'
import type { ChainOpts } from '../../../src/chain/chainTypes.ts'
import { equalBytes, sign, toHex } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { readExecutionQueue } from '../../../src/state/executionQueue.ts'
import { codingParamsOf, computeManifest } from '../../../src/storage/encodeAsset.ts'
import { NonceCounter, signTx, soleValidatorCommit, tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

// docs/consensus.md "What a commit vouches for": a block taken with a verified commit is not
// checked again for its tx and receipt signatures (the validators whose precommits make the
// quorum checked them before voting); everything else, the state root included, still is.
const proposer = testKey('committed-signatures-validator')
const alice = testKey('committed-signatures-alice')
const bob = testKey('committed-signatures-bob')
const hosts = Array.from({ length: 4 }, (_, i) => testKey(`committed-signatures-host-${i}`))
const genesis = testGenesis({ validators: [proposer], schemes: ['stake'], funded: [{ key: alice, amount: 10n ** 15n }, ...hosts.map((key) => ({ key, amount: 10n ** 12n }))], params: { dataShards: 2, parityShards: 1 } })
const at = (slot: number): number => Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

async function open(opts: Partial<ChainOpts> = {}): Promise<Chain> {
  const tmp = tempDir()
  cleanups.push(tmp.cleanup)
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, signatureWorkers: 0, ...opts })
  cleanups.push(() => void chain.close())
  return chain
}

const commitFor = (blockId: Hash, height = 1) => soleValidatorCommit(genesis, proposer, blockId, height)

/** `block` with `entries`, sealed again by the validator on `chain`'s head (its parent). */
function resealed(chain: Chain, block: Block, entries: BlockEntry[]): { block: Block; hash: Hash } {
  const { proofs: _proofs, signature: _signature, ...fields } = block.header
  const header = sealBlock(
    { registry: createRegistry(genesis.consensus), genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: chain.validators(), parentSlot: chain.store.head.header.slot, secretKey: proposer.secretKey },
    { ...fields, bodyRoot: computeBodyRoot(entries) },
  )
  return { block: { header, entries }, hash: blockHash(header) }
}

function flipped(signature: Uint8Array): Uint8Array {
  const out = Uint8Array.from(signature)
  out[0]! ^= 1
  return out
}

/**
 * A proposal of the validator's carrying a transfer whose signature was altered afterwards,
 * sealed again by the validator (what a Byzantine quorum could finalize). The transfer's effect
 * on state does not depend on its signature, so the state root stays right.
 */
async function forgedProposal(): Promise<{ block: Block; hash: Hash }> {
  const producer = await open({ validatorKey: proposer })
  await producer.submitTx(transfer(alice, 0, bob.publicKey, 500n))
  const built = (await producer.buildProposal(at(1)))!
  return resealed(producer, built.block, built.block.entries.map((e) => e.type === 'tx' ? { ...e, tx: { body: e.tx.body, signature: flipped(e.tx.signature) } } : e))
}

describe('signatures of a committed block', () => {
  it('a follower takes a block with a verified commit without checking its tx signatures, and still computes the same state', async () => {
    const { block, hash } = await forgedProposal()
    const follower = await open()
    await follower.commitBlock(block, commitFor(hash))
    expect(toHex(follower.store.head.hash)).toBe(toHex(hash))
    expect(readAccount(follower.store.state, bob.publicKey).balance).toBe(500n)
    expect(follower.verificationCounts.signaturesCheckedAtImport).toBe(0)
  })

  it('the same block is refused for its bad signature without a commit, as a proposal, and by a node that checks committed blocks in full', async () => {
    const { block, hash } = await forgedProposal()
    await expect((await open()).importBlock(block)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    await expect((await open()).checkBlock(block)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    const auditor = await open({ checkCommittedSignatures: true })
    await expect(auditor.commitBlock(block, commitFor(hash))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    expect(auditor.store.head.height).toBe(0)
  })

  it('a node that casts no vote checks a proposal for a commit (forCommitOnly) on the same terms; that verdict never stands for a full check', async () => {
    const { block, hash } = await forgedProposal()
    const follower = await open()
    await follower.checkBlock(block, 0, { forCommitOnly: true })
    await expect(follower.checkBlock(block)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    await follower.commitBlock(block, commitFor(hash))
    expect(toHex(follower.store.head.hash)).toBe(toHex(hash))
    const auditor = await open({ checkCommittedSignatures: true })
    await expect(auditor.checkBlock(block, 0, { forCommitOnly: true })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
  })

  it('a commit for another block, or a block whose state root is wrong, is still refused', async () => {
    const { block, hash } = await forgedProposal()
    const follower = await open()
    const other = Uint8Array.from(hash)
    other[0]! ^= 1
    await expect(follower.commitBlock(block, commitFor(other))).rejects.toThrow()
    const { proofs: _proofs, signature: _signature, ...fields } = block.header
    const wrongRoot = Uint8Array.from(fields.stateRoot)
    wrongRoot[0]! ^= 1
    const header = sealBlock(
      { registry: createRegistry(genesis.consensus), genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: follower.validators(), parentSlot: 0, secretKey: proposer.secretKey },
      { ...fields, stateRoot: wrongRoot },
    )
    await expect(follower.commitBlock({ header, entries: block.entries }, commitFor(blockHash(header)))).rejects.toMatchObject({ code: 'BAD_STATE_ROOT' })
    expect(follower.store.head.height).toBe(0)
  })
})

describe('receipts of a committed completion', () => {
  it('a follower takes a completion whose receipt signature is forged with its commit; an auditing node refuses it', async () => {
    const producer = await open({ validatorKey: proposer })
    const follower = await open()
    const auditor = await open({ checkCommittedSignatures: true })
    const nonces = new NonceCounter()
    let slot = 0
    const produce = async () => {
      slot++
      const made = (await producer.produceBlock(slot, at(slot)))!
      for (const f of [follower, auditor]) await f.commitBlock(made.block, made.commit!)
      return made.block
    }
    for (const [i, h] of hosts.entries()) {
      await producer.submitTx(signTx(h, nonces.next(h), {
        type: 'host.join',
        host: { coord: { x: 10 + i, y: 10, z: 10 }, zone: `zone-${i}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined },
      }))
    }
    await produce()
    const code = new Uint8Array(64).fill(7)
    const deploy = signTx(alice, nonces.next(alice), { type: 'deploy', assetKind: 1, manifest: computeManifest(code, codingParamsOf(genesis.params)), deposit: 10_000_000n, bidPerByteEpoch: 5n, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0 })
    await producer.submitTx(deploy)
    expect((await produce()).header.kind).toBe('deployment')
    await producer.submitTx(signTx(alice, nonces.next(alice), { type: 'execute', asset: txId(deploy), fn: 'run', input: new Uint8Array(0), fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0, minMemoryBytes: 0n }))
    const executionBlock = await produce()
    const execution = executionBlock.entries[0]!
    if (execution.type !== 'execution') throw new Error('expected an execution entry')
    const output = new Uint8Array(4)
    const preStateHash = readExecutionQueue(producer.store.state, txId(deploy)).stateHash
    for (const h of execution.assignment) {
      const body: ReceiptBody = { chainId: genesis.chainId, executionId: txId(execution.tx), host: h, outcome: OUTCOME.ok, resultHash: computeResultHash(OUTCOME.ok, output), fuelUsed: 100n, writeSetHash: computeWriteSetHash([]), output, preStateHash }
      producer.submitReceipt({ body, signature: sign(hosts.find((k) => equalBytes(k.publicKey, h))!.secretKey, receiptSigningHash(body)) }, [])
    }
    slot++
    const built = (await producer.buildProposal(at(slot)))!
    expect(built.block.header.kind).toBe('completion')
    const forged = resealed(follower, built.block, built.block.entries.map((e) => e.type === 'completion' ? { ...e, receipts: e.receipts.map((r, i) => i === 0 ? { ...r, signature: flipped(r.signature) } : r) } : e))
    const commit = commitFor(forged.hash, built.block.header.height)
    await expect(auditor.commitBlock(forged.block, commit)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    await follower.commitBlock(forged.block, commit)
    expect(toHex(follower.store.head.header.stateRoot)).toBe(toHex(built.block.header.stateRoot))
  })
})

