import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { Chain } from '../../../src/chain/chain.ts'
import { NonceCounter, tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

const validator = testKey('sig-once-validator')
const payer = testKey('sig-once-payer')
const genesis = testGenesis({ validators: [validator], funded: [{ key: payer, amount: 10n ** 12n }], schemes: ['stake'] })
const T0 = Number(genesis.genesisTime)
const tmp = tempDir('xsc-sig-once-')
const nonces = new NonceCounter()
let a: Chain
let b: Chain

beforeAll(async () => {
  a = await Chain.open({ dataDir: join(tmp.dir, 'a'), genesis, validatorKey: validator, signatureWorkers: 0 })
  b = await Chain.open({ dataDir: join(tmp.dir, 'b'), genesis, validatorKey: validator, signatureWorkers: 0 })
})

afterAll(async () => {
  await a.close()
  await b.close()
  tmp.cleanup()
})

describe('one signature check per tx per node', () => {
  it('a block of txs this node admitted imports without verifying them again; a node that never saw them verifies each', async () => {
    for (let i = 0; i < 3; i++) await a.submitTx(transfer(payer, nonces.next(payer), testKey(`sig-once-to-${i}`).publicKey, 10n))
    const made = (await a.produceBlock(1, T0 + genesis.slotMs))!
    expect(made.block.entries).toHaveLength(3)
    expect(a.verificationCounts.signaturesCheckedAtImport).toBe(0)
    await b.importBlock(made.block)
    expect(b.verificationCounts.signaturesCheckedAtImport).toBe(3)
  })

  it('a tx that reaches a node in a block before its gossip copy is refused as stale without a second check; a forged tx on a live nonce is still BAD_SIGNATURE', async () => {
    const tx = transfer(payer, nonces.next(payer), testKey('sig-once-late').publicKey, 10n)
    await a.submitTx(tx)
    const made = (await a.produceBlock(2, T0 + 2 * genesis.slotMs))!
    await b.importBlock(made.block)
    const before = b.mempool.signaturesChecked + b.verificationCounts.signaturesCheckedAtImport
    // The gossip copy arrives late: same bytes, nonce now used.
    await expect(b.submitTx(tx)).rejects.toMatchObject({ code: 'NONCE_TOO_LOW' })
    expect(b.mempool.signaturesChecked + b.verificationCounts.signaturesCheckedAtImport - before).toBe(0)
    // A stale nonce is never a way around the check: a live nonce with a forged signature is refused for it.
    const live = transfer(payer, nonces.next(payer), testKey('sig-once-late').publicKey, 10n)
    const forged = { ...live, signature: live.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) }
    await expect(b.submitTx(forged)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    expect(b.mempool.signaturesChecked + b.verificationCounts.signaturesCheckedAtImport - before).toBe(1)
  })

  it('a gossip copy arriving after the proposal that carried it was checked is admitted without a second check; other bytes (same body, forged signature) are still checked and refused', async () => {
    const tx = transfer(payer, await a.nextNonce(payer.publicKey), testKey('sig-once-race').publicKey, 10n)
    await a.submitTx(tx)
    const proposal = (await a.buildProposal(T0 + 4 * genesis.slotMs))!
    const before = b.mempool.signaturesChecked + b.verificationCounts.signaturesCheckedAtImport
    await b.checkBlock(proposal.block)
    expect(b.verificationCounts.signaturesCheckedAtImport + b.mempool.signaturesChecked - before).toBe(1)
    const forged = { ...tx, signature: tx.signature.map((x, i) => (i === 5 ? x ^ 1 : x)) }
    await expect(b.submitTx(forged)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    expect(b.verificationCounts.signaturesCheckedAtImport + b.mempool.signaturesChecked - before).toBe(2)
    await b.submitTx(structuredClone(tx))
    expect(b.verificationCounts.signaturesCheckedAtImport + b.mempool.signaturesChecked - before).toBe(2)
    expect(b.mempool.size).toBe(1)
  })

  it('a tx refused at admission for a nonce ahead of this node (its predecessor still in a proposal) costs no verify there: its block verifies it, once', async () => {
    const c = await Chain.open({ dataDir: join(tmp.dir, 'c'), genesis, validatorKey: validator, signatureWorkers: 0 })
    try {
      for (let h = 1; h <= a.store.head.height; h++) await c.importBlock((await a.store.getBlockByHeight(h))!)
      const first = transfer(payer, await a.nextNonce(payer.publicKey), testKey('sig-once-ahead').publicKey, 10n)
      await a.submitTx(first)
      const second = transfer(payer, first.body.nonce + 1, testKey('sig-once-ahead').publicKey, 10n)
      await a.submitTx(second)
      const before = c.mempool.signaturesChecked + c.verificationCounts.signaturesCheckedAtImport
      // The second arrives by gossip before the first: refused (nonce ahead) before its signature is looked at.
      await expect(c.submitTx(structuredClone(second))).rejects.toMatchObject({ code: 'NONCE_TOO_HIGH' })
      expect(c.mempool.signaturesChecked + c.verificationCounts.signaturesCheckedAtImport - before).toBe(0)
      const made = (await a.produceBlock(6, T0 + 6 * genesis.slotMs))!
      expect(made.block.entries.map((e) => 'tx' in e && e.tx.body.nonce)).toContain(second.body.nonce)
      const importBefore = c.verificationCounts.signaturesCheckedAtImport
      await c.importBlock(made.block)
      // Every tx of the block is verified at import (this node admitted none of them).
      expect(c.verificationCounts.signaturesCheckedAtImport - importBefore).toBe(made.block.entries.length)
      expect(c.mempool.signaturesChecked + c.verificationCounts.signaturesCheckedAtImport - before).toBe(made.block.entries.length)
    } finally {
      await c.close()
    }
  })
})
