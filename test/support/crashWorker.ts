// Child process for the crash-consistency test: produces blocks full of transfers as fast as it
// can into --data, printing each committed height, until it is killed.
import { Chain } from '../../src/chain/chain.ts'
import { testGenesis, testKey, transfer } from './chainFixtures.ts'

const dir = process.argv[2]!
const validator = testKey('validator-0')
const alice = testKey('alice')
const genesis = testGenesis({ validators: [validator], funded: [{ key: alice, amount: 10n ** 15n }], schemes: ['stake'] })
const chain = await Chain.open({ dataDir: dir, genesis, validatorKey: validator, signatureWorkers: 0 })
let slot = chain.head.header.slot
for (;;) {
  const nonce = (await chain.readAccount(alice.publicKey)).nonce
  for (let i = 0; i < 200; i++) await chain.submitTx(transfer(alice, nonce + i, testKey(`r${(nonce + i) % 50}`).publicKey, 1n))
  slot++
  const made = await chain.produceBlock(slot, Number(genesis.genesisTime) + slot * genesis.slotMs)
  process.stdout.write(`${made?.block.header.height}\n`)
}
