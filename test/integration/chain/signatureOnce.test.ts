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
    expect(a.signaturesCheckedAtImport).toBe(0)
    await b.importBlock(made.block)
    expect(b.signaturesCheckedAtImport).toBe(3)
  })
})
