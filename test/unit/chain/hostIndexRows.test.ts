import { afterAll, describe, expect, it } from 'vitest'

import { CAPABILITY } from '../../../blocks/schema.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { readRow, TABLES } from '../../../src/state/tables.ts'
import { signTx, tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

// A block's write set carries the rows its transition held decoded (StateWrite.row): the host
// index and the state's decoded rows take those objects instead of decoding the block's writes.
const validator = testKey('hir-validator')
const hosts = [0, 1].map((i) => testKey(`hir-host-${i}`))
const genesis = testGenesis({ validators: [validator], funded: hosts.map((key) => ({ key, amount: 10n ** 12n })), schemes: ['stake'] })
const tmp = tempDir('xsc-host-index-rows-')
let chain: Chain | undefined
afterAll(async () => {
  await chain?.close()
  tmp.cleanup()
})

describe('committed rows are not decoded again', () => {
  it('the host index holds the record object the transition wrote, the same one a state read returns', async () => {
    chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: validator, signatureWorkers: 0 })
    for (const [i, h] of hosts.entries()) {
      await chain.submitTx(signTx(h, 0, {
        type: 'host.join',
        host: { coord: { x: 10 + i, y: 10, z: 10 }, zone: `zone-${i}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined },
      }))
    }
    const made = await chain.produceBlock(1, Number(genesis.genesisTime) + genesis.slotMs)
    expect(made?.block.entries.length).toBe(2)
    for (const h of hosts) {
      const indexed = chain.hostIndex.get(h.publicKey)
      expect(indexed?.params.zone).toBeDefined()
      expect(readRow(chain.store.state, TABLES.host.at(h.publicKey))).toBe(indexed)
    }
  })
})
