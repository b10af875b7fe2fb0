import { describe, expect, it } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import { CAPABILITY, type HostParams } from '../../../blocks/schema.ts'
import { deriveHostEncryptionKey } from '../../../src/crypto/x25519.ts'
import { StateError } from '../../../src/state/errors.ts'
import { HostRecord } from '../../../src/state/records.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { signTx, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { LedgerChain } from '../../support/ledgerChain.ts'

const validator = testKey('private-join-validator')
const host = testKey('private-join-host')
const params: HostParams = { coord: { x: 1, y: 2, z: 3 }, zone: 'z1', capacityBytes: 1n << 30n, capabilities: CAPABILITY.compute | CAPABILITY.private, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: 'p', memoryBytes: 0n, encryptionKey: undefined }

describe('host.join with the private capability', () => {
  it('is refused without an encryption key (clients could not deliver keys to it) and recorded with one', () => {
    const chain = new LedgerChain(testGenesis({ validators: [validator], funded: [{ key: host, amount: 10_000_000n }] }))
    expect(() => chain.txs(signTx(host, 0, { type: 'host.join', host: params }))).toThrow(StateError)
    const encryptionKey = deriveHostEncryptionKey(host.secretKey).publicKey
    chain.txs(signTx(host, 0, { type: 'host.join', host: { ...params, encryptionKey } }))
    expect(decode(HostRecord, chain.state.get(TABLES.host.key(host.publicKey))!).params.encryptionKey).toEqual(encryptionKey)
  })
})
