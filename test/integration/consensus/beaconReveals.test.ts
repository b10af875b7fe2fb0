import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { NO_REVEAL } from '../../../consensus/beacon.ts'
import { createClient, getBlock, getChainStatus, http } from '../../../src/client/index.ts'
import { equalBytes, hash, toHex } from '../../../src/crypto/index.ts'
import { type ComputeNetwork, startComputeNetwork } from '../../support/computeNetwork.ts'
import { waitFor } from '../../support/nodeProcess.ts'

let net: ComputeNetwork
beforeAll(async () => {
  net = await startComputeNetwork({ name: 'beacon', validators: 4, hosts: 0 })
}, 120_000)
afterAll(async () => {
  await net?.close()
})

describe('the beacon over 4 validator processes', () => {
  it('every committed block reveals its proposer\'s next hash-chain link, in chain order, from several proposers', async () => {
    const client = createClient({ transport: http(net.validators[0]!.rpc) })
    const target = 12
    await waitFor(async () => (await getChainStatus(client)).finalized.height >= target, 90_000, `height ${target}`)
    // The last value each proposer revealed: its genesis commitment first.
    const last = new Map(net.genesis.validators.map((v) => [toHex(v.address), v.beaconCommitment]))
    const proposers = new Set<string>()
    for (let height = 1; height <= target; height++) {
      const header = (await getBlock(client, { height }))!.header
      const proposer = toHex(header.proposer)
      expect(equalBytes(header.beaconReveal, NO_REVEAL), `block ${height} reveals nothing`).toBe(false)
      expect(toHex(hash(header.beaconReveal)), `block ${height}'s reveal is not the preimage of ${proposer}'s last`).toBe(toHex(last.get(proposer)!))
      last.set(proposer, header.beaconReveal)
      proposers.add(proposer)
    }
    expect(proposers.size).toBeGreaterThanOrEqual(2)
  }, 120_000)
})
