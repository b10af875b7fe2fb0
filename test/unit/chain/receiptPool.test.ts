import { describe, expect, it, vi } from 'vitest'

import { computeResultHash, computeWriteSetHash } from '../../../blocks/executionHashes.ts'
import { receiptSigningHash } from '../../../blocks/ids.ts'
import { OUTCOME, type Receipt, type ReceiptBody } from '../../../blocks/schema.ts'
import { ReceiptPool } from '../../../src/chain/receiptPool.ts'
import { hash, sign, utf8 } from '../../../src/crypto/index.ts'
import { EXECUTION_STATUS } from '../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { testGenesis, testKey } from '../../support/chainFixtures.ts'

/** ed25519 verifies made (every receipt is verified once per node; one this node signed, none). */
const verifies = vi.hoisted(() => ({ count: 0 }))
vi.mock('../../../src/crypto/ed25519.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/crypto/ed25519.ts')>()
  return { ...original, verify: (...args: Parameters<typeof original.verify>): boolean => { verifies.count++; return original.verify(...args) } }
})

const genesis = testGenesis({})
const host = testKey('receipt-pool-host')
const executionId = hash(utf8('receipt-pool-execution'))
const state = new StateOverlay(new MemoryState())
state.write(TABLES.execution.at(executionId), {
  client: testKey('receipt-pool-client').publicKey, asset: hash(utf8('asset')), fn: 'run', input: new Uint8Array(0), fuelLimit: 1000n, bidPerFuel: 1n, replicas: 1, quorum: 1, private: false,
  assignment: [host.publicKey], escrow: 1000n, startSlot: 1, deadlineSlot: 50, status: EXECUTION_STATUS.pending, origin: { x: 0, y: 0, z: 0 }, seq: 0n, agreed: undefined,
})

function signed(body: ReceiptBody): Receipt {
  return { body, signature: sign(host.secretKey, receiptSigningHash(body)) }
}
const output = utf8('out')
const body: ReceiptBody = { chainId: genesis.chainId, executionId, host: host.publicKey, outcome: OUTCOME.ok, resultHash: computeResultHash(OUTCOME.ok, output), fuelUsed: 10n, writeSetHash: computeWriteSetHash([]), output, preStateHash: hash(utf8('pre')) }

describe('ReceiptPool.hasChecked: block import skips only the receipts this pool verified, byte for byte', () => {
  const pool = new ReceiptPool(genesis.chainId)
  const receipt = signed(body)
  pool.add(receipt, [], state)

  it('the receipt the pool admitted (same body, same signature) counts as checked', () => {
    expect(pool.hasChecked({ body: { ...body }, signature: new Uint8Array(receipt.signature) })).toBe(true)
  })

  it('a forged signature on the held body is not: import verifies it and refuses it', () => {
    const forged = { body, signature: receipt.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) }
    expect(pool.hasChecked(forged)).toBe(false)
  })

  it('the held signature on a changed body (other output, other fuel) is not', () => {
    expect(pool.hasChecked({ body: { ...body, fuelUsed: 11n }, signature: receipt.signature })).toBe(false)
    expect(pool.hasChecked({ body: { ...body, output: utf8('other') }, signature: receipt.signature })).toBe(false)
  })

  it('a receipt for an execution the pool holds nothing of is not', () => {
    expect(pool.hasChecked(signed({ ...body, executionId: hash(utf8('other-execution')) }))).toBe(false)
  })
})

describe('ReceiptPool.prune: receipts of settled executions come back (a left-out contradicting one is evidence)', () => {
  it('returns the receipts of an execution the state settled and drops them; keeps pending ones', () => {
    const pool = new ReceiptPool(genesis.chainId)
    const local = new StateOverlay(state)
    const receipt = signed(body)
    pool.add(receipt, [], local)
    expect(pool.prune(local)).toEqual([])
    expect(pool.receiptsOf(executionId)).toHaveLength(1)
    const rec = local.read(TABLES.execution.at(executionId))!
    local.write(TABLES.execution.at(executionId), { ...rec, status: EXECUTION_STATUS.completed })
    expect(pool.prune(local)).toEqual([receipt])
    expect(pool.receiptsOf(executionId)).toEqual([])
  })
})

describe('ReceiptPool.add: one verify per receipt, none for a receipt this node signed', () => {
  it('a receipt from the network is verified once; the host\'s own (signedHere) is not, and still counts as checked for import', () => {
    const other = testKey('receipt-pool-other-host')
    const local = new StateOverlay(state)
    local.write(TABLES.execution.at(executionId), { ...local.read(TABLES.execution.at(executionId))!, replicas: 2, assignment: [host.publicKey, other.publicKey] })
    const pool = new ReceiptPool(genesis.chainId)
    const before = verifies.count
    const own = signed(body)
    pool.add(own, [], local, { signedHere: true })
    expect(verifies.count - before).toBe(0)
    expect(pool.hasChecked(own)).toBe(true)
    const otherBody = { ...body, host: other.publicKey }
    pool.add({ body: otherBody, signature: sign(other.secretKey, receiptSigningHash(otherBody)) }, [], local)
    expect(verifies.count - before).toBe(1)
  })

  it('without signedHere a forged receipt is refused (BAD_SIGNATURE)', () => {
    const pool = new ReceiptPool(genesis.chainId)
    const receipt = signed(body)
    expect(() => pool.add({ body, signature: receipt.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) }, [], state)).toThrow(/signature/)
  })
})
