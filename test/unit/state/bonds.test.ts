import { beforeEach, describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { receiptSigningHash } from '../../../blocks/ids.ts'
import { CAPABILITY, type HostParams, type Receipt, type ReceiptBody } from '../../../blocks/schema.ts'
import { sign } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { EXECUTION_STATUS, ExecutionRecord, HostRecord, SupplyRecord, UnbondingBucket, Validator } from '../../../src/state/records.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { computeHostBond, readBondAccount } from '../../../src/state/unbonding.ts'
import { NonceCounter, signTx, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { doubleVote, equivocation, LedgerChain } from '../../support/ledgerChain.ts'
import { makeExecution } from './market/marketFixtures.ts'

const validator = testKey('bonds-validator')
const other = testKey('bonds-other')
const host = testKey('bonds-host')
const U = 20
const STAKE = 1_000_000n

function genesis() {
  const g = testGenesis({ validators: [validator, other], funded: [{ key: validator, amount: 10_000_000n }, { key: host, amount: 1_000_000n }] })
  return { ...g, params: { ...g.params, unbondingHeights: U, slashShareBps: 1000, hostSlashShareBps: 2000, minStake: 1000n, hostBondBase: 500n, hostBondPerGiB: 10n } }
}

const hostParams: HostParams = { coord: { x: 1, y: 2, z: 3 }, zone: 'z1', capacityBytes: 3n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: 'p', memoryBytes: 0n, encryptionKey: undefined }

let chain: LedgerChain
let nonces: NonceCounter
const stakeOf = (c: LedgerChain, key: { publicKey: Uint8Array }): bigint | undefined => {
  const b = c.state.get(TABLES.validator.key(key.publicKey))
  return b === undefined ? undefined : decode(Validator, b).stake
}
const balanceOf = (c: LedgerChain, key: { publicKey: Uint8Array }): bigint => readAccount(c.state, key.publicKey).balance
const signReceipt = (body: ReceiptBody, secretKey: Uint8Array): Receipt => ({ body, signature: sign(secretKey, receiptSigningHash(body)) })
const supply = (c: LedgerChain) => decode(SupplyRecord, c.state.get(TABLES.supply.key())!)

beforeEach(() => {
  chain = new LedgerChain(genesis())
  nonces = new NonceCounter()
})

describe('unbonding', () => {
  it('unstaked stake is released exactly unbondingHeights later, by the bucket of that height', () => {
    const before = balanceOf(chain, validator)
    chain.txs(signTx(validator, nonces.next(validator), { type: 'unstake', amount: 400_000n }))
    const unstakedAt = chain.height
    expect(stakeOf(chain, validator)).toBe(600_000n)
    expect(balanceOf(chain, validator)).toBe(before - 1n)
    expect(decode(UnbondingBucket, chain.state.get(TABLES.unbonding.key(unstakedAt + U))!).entries[0]!.amount).toBe(400_000n)
    chain.advanceTo(unstakedAt + U - 1)
    expect(balanceOf(chain, validator)).toBe(before - 1n)
    chain.advanceTo(unstakedAt + U)
    expect(balanceOf(chain, validator)).toBe(before - 1n + 400_000n)
    expect(chain.state.get(TABLES.unbonding.key(unstakedAt + U))).toBeUndefined()
    expect(readBondAccount(chain.state, validator.publicKey).releaseHeights).toEqual([])
  })

  it('staking needs minStake in total, and a partial unstake may not leave less', () => {
    const fresh = testKey('bonds-fresh')
    const c = new LedgerChain({ ...genesis(), allocations: [{ to: fresh.publicKey, amount: 10_000n }] })
    expect(() => c.txs(signTx(fresh, 0, { type: 'stake', amount: 999n }))).toThrow(expect.objectContaining({ code: 'STAKE_TOO_LOW' }))
    c.txs(signTx(fresh, 0, { type: 'stake', amount: 1000n }))
    expect(() => c.txs(signTx(fresh, 1, { type: 'unstake', amount: 1n }))).toThrow(expect.objectContaining({ code: 'STAKE_TOO_LOW' }))
  })
})

describe('slashing equivocation', () => {
  it('burns slashShareBps of the stake, removes the validator, unbonds the rest and refuses replays', () => {
    chain.advanceTo(5)
    const evidence = doubleVote(validator, 'xsc-test', 4)
    const supplyBefore = supply(chain)
    chain.evidence(equivocation(evidence))
    expect(stakeOf(chain, validator)).toBeUndefined()
    const burned = STAKE / 10n
    expect(supply(chain)).toEqual({ total: supplyBefore.total - burned, burned: supplyBefore.burned + burned })
    expect(decode(UnbondingBucket, chain.state.get(TABLES.unbonding.key(chain.height + U))!).entries[0]!.amount).toBe(STAKE - burned)
    expect(readBondAccount(chain.state, validator.publicKey).slashedAtHeight).toBe(chain.height)
    // The same evidence again, and another equivocation of the same validator: refused.
    expect(() => chain.evidence(equivocation(evidence))).toThrow(expect.objectContaining({ code: 'ALREADY_SLASHED' }))
    expect(() => chain.evidence(equivocation(doubleVote(validator, 'xsc-test', 5)))).toThrow(expect.objectContaining({ code: 'ALREADY_SLASHED' }))
    // A slashed validator may not come back.
    expect(() => chain.txs(signTx(validator, nonces.next(validator), { type: 'stake', amount: 5000n }))).toThrow(expect.objectContaining({ code: 'SLASHED' }))
  })

  it('unstake-then-equivocate: stake unbonding since the offence is still slashed', () => {
    chain.advanceTo(3)
    const offence = doubleVote(validator, 'xsc-test', 3)
    chain.txs(signTx(validator, nonces.next(validator), { type: 'unstake', amount: STAKE }))
    const releaseAt = chain.height + U
    expect(stakeOf(chain, validator)).toBeUndefined()
    chain.advanceTo(10)
    chain.evidence(equivocation(offence))
    expect(decode(UnbondingBucket, chain.state.get(TABLES.unbonding.key(releaseAt))!).entries[0]!.amount).toBe(STAKE - STAKE / 10n)
    const balance = balanceOf(chain, validator)
    chain.advanceTo(releaseAt)
    expect(balanceOf(chain, validator)).toBe(balance + STAKE - STAKE / 10n)
  })

  it('refuses evidence older than the unbonding period, from the future, or against a non-validator', () => {
    chain.advanceTo(U + 3)
    expect(() => chain.evidence(equivocation(doubleVote(validator, 'xsc-test', 2)))).toThrow(expect.objectContaining({ code: 'EVIDENCE_EXPIRED' }))
    expect(() => chain.evidence(equivocation(doubleVote(validator, 'xsc-test', 99)))).toThrow(expect.objectContaining({ code: 'EVIDENCE_FROM_FUTURE' }))
    expect(() => chain.evidence(equivocation(doubleVote(host, 'xsc-test', U)))).toThrow(expect.objectContaining({ code: 'NOT_VALIDATOR' }))
    expect(() => chain.evidence(equivocation(doubleVote(validator, 'other-chain', U)))).toThrow(expect.objectContaining({ code: 'WRONG_CHAIN' }))
    expect(stakeOf(chain, validator)).toBe(STAKE)
  })
})

describe('host bonds', () => {
  it('host.join locks base + perGiB × capacity; host.leave returns it after the unbonding period', () => {
    const bond = computeHostBond(hostParams.capacityBytes, chain.genesis.params)
    expect(bond).toBe(500n + 3n * 10n)
    const before = balanceOf(chain, host)
    chain.txs(signTx(host, nonces.next(host), { type: 'host.join', host: hostParams }))
    expect(decode(HostRecord, chain.state.get(TABLES.host.key(host.publicKey))!).bond).toBe(bond)
    expect(balanceOf(chain, host)).toBe(before - 1n - bond)
    chain.txs(signTx(host, nonces.next(host), { type: 'host.update', host: { ...hostParams, capacityBytes: 5n << 30n } }))
    expect(decode(HostRecord, chain.state.get(TABLES.host.key(host.publicKey))!).bond).toBe(550n)
    chain.txs(signTx(host, nonces.next(host), { type: 'host.leave' }))
    const leftAt = chain.height
    expect(decode(HostRecord, chain.state.get(TABLES.host.key(host.publicKey))!).bond).toBe(0n)
    chain.advanceTo(leftAt + U)
    expect(balanceOf(chain, host)).toBe(before - 3n)
  })

  it('a signed receipt contradicting the settled result, arriving after settlement, slashes the bond once', () => {
    chain.txs(signTx(host, nonces.next(host), { type: 'host.join', host: hostParams }))
    const executionId = new Uint8Array(32).fill(0x42)
    // An execution that settled with result 0x01 (written as the completion would leave it).
    chain.state.apply([
      { key: TABLES.execution.key(executionId), value: encode(ExecutionRecord, makeExecution({ assignment: [host.publicKey], status: EXECUTION_STATUS.completed, agreed: { outcome: 0, resultHash: new Uint8Array(32).fill(1), fuelUsed: 10n, settledHeight: chain.height } })) },
    ])
    const receipt = (result: number) => signReceipt({ chainId: 'xsc-test', executionId, host: host.publicKey, outcome: 0, resultHash: new Uint8Array(32).fill(result), fuelUsed: 10n, writeSetHash: new Uint8Array(32), output: new Uint8Array(0), preStateHash: new Uint8Array(32) }, host.secretKey)
    expect(() => chain.evidence({ type: 'contradictingReceipt', receipt: receipt(1) })).toThrow(expect.objectContaining({ code: 'BAD_EVIDENCE' }))
    const forged = { ...receipt(2), signature: new Uint8Array(64) }
    expect(() => chain.evidence({ type: 'contradictingReceipt', receipt: forged })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }))
    const supplyBefore = supply(chain)
    chain.evidence({ type: 'contradictingReceipt', receipt: receipt(2) })
    expect(decode(HostRecord, chain.state.get(TABLES.host.key(host.publicKey))!).bond).toBe(530n - 106n)
    expect(supply(chain).burned).toBe(supplyBefore.burned + 106n)
    expect(() => chain.evidence({ type: 'contradictingReceipt', receipt: receipt(3) })).toThrow(expect.objectContaining({ code: 'ALREADY_SLASHED' }))
  })
})
