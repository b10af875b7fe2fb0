import { describe, expect, it } from 'vitest'

import { XscError } from '../../../blocks/errors.ts'
import { txByteLength } from '../../../blocks/ids.ts'
import type { Block, BlockEntry, ChainParams, SignedTx } from '../../../blocks/schema.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { applyBlock } from '../../../src/state/applyBlock.ts'
import type { ApplyContext } from '../../../src/state/applyContext.ts'
import { computeNextBaseFee, computeRequiredFee, FEE_PARAM_DEFAULTS, verifyBlockFees } from '../../../src/state/fees.ts'
import { computeGenesis } from '../../../src/state/genesis.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { signTx, testBeaconReveal, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { errorCodeOf } from '../../support/errorCode.ts'

const validator = testKey('fees-validator')
const alice = testKey('fees-alice')
const bob = testKey('fees-bob')
const fresh = testKey('fees-fresh')
const FEES: Partial<ChainParams> = { ...FEE_PARAM_DEFAULTS, minFeePerByte: 2n, minBaseFee: 3n, existentialDeposit: 1_000n }
const genesis = testGenesis({ validators: [validator], funded: [{ key: alice, amount: 1_000_000n }, { key: bob, amount: 5_000n }], schemes: ['stake'], params: FEES })
const params = genesis.params

function stateAfterGenesis(): MemoryState {
  const state = new MemoryState()
  state.apply(computeGenesis(genesis).writes)
  return state
}

function ctxAt(baseFee: bigint): ApplyContext {
  return { genesis, height: 1, slot: 1, proposer: validator.publicKey, prevHash: new Uint8Array(32), beaconMix: new Uint8Array(32), baseFee }
}

function ledgerBlock(txs: SignedTx[]): Block {
  const entries: BlockEntry[] = txs.map((tx) => ({ type: 'tx', tx }))
  return { header: { chainId: genesis.chainId, height: 1, prevHash: new Uint8Array(32), kind: 'ledger', slot: 1, timestamp: 0n, proposer: validator.publicKey, bodyRoot: new Uint8Array(32), stateRoot: new Uint8Array(32), baseFee: 0n, txBytes: 0, round: 0, beaconReveal: testBeaconReveal(validator, genesis), proofs: [], signature: new Uint8Array(64) }, entries }
}

/** A transfer priced at exactly the required fee for `baseFee` (the size counts the fee's own bytes). */
function pricedTransfer(from: typeof alice, nonce: number, to: Uint8Array, amount: bigint, baseFee: bigint): SignedTx {
  let fee = 0n
  for (let i = 0; i < 4; i++) fee = computeRequiredFee(txByteLength(signTx(from, nonce, { type: 'transfer', to, amount }, { fee, chainId: genesis.chainId })), baseFee, params)
  return signTx(from, nonce, { type: 'transfer', to, amount }, { fee, chainId: genesis.chainId })
}

describe('fees in the state transition', () => {
  it('a fee below size × (base fee + minimum) is FEE_TOO_LOW naming the required fee; the exact fee applies', () => {
    const baseFee = 10n
    const ok = pricedTransfer(alice, 0, bob.publicKey, 100n, baseFee)
    const short = signTx(alice, 0, { type: 'transfer', to: bob.publicKey, amount: 100n }, { fee: ok.body.fee - 1n, chainId: genesis.chainId })
    try {
      applyBlock(stateAfterGenesis(), ledgerBlock([short]), new Uint8Array(32), ctxAt(baseFee))
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(XscError)
      expect((err as XscError<{ FEE_TOO_LOW: { required: string } }>).code).toBe('FEE_TOO_LOW')
      expect((err as XscError<{ FEE_TOO_LOW: { required: string } }>).details.required).toBe(computeRequiredFee(txByteLength(short), baseFee, params).toString())
    }
    expect(errorCodeOf(XscError, () => applyBlock(stateAfterGenesis(), ledgerBlock([ok]), new Uint8Array(32), ctxAt(baseFee)))).toBeUndefined()
  })

  it('the base-fee part is burned (supply total falls, burned rises), the rest is the proposer\'s tip', () => {
    const baseFee = 7n
    const tx = signTx(alice, 0, { type: 'transfer', to: bob.publicKey, amount: 100n }, { fee: 50_000n, chainId: genesis.chainId })
    const state = stateAfterGenesis()
    const before = new StateOverlay(state).read(TABLES.supply.at())!
    const { writes } = applyBlock(state, ledgerBlock([tx]), new Uint8Array(32), ctxAt(baseFee))
    state.apply(writes)
    const after = new StateOverlay(state).read(TABLES.supply.at())!
    const burn = BigInt(txByteLength(tx)) * baseFee
    expect(after.burned - before.burned).toBe(burn)
    expect(before.total - after.total).toBe(burn)
    expect(readAccount(state, validator.publicKey).balance).toBe(50_000n - burn)
    expect(readAccount(state, alice.publicKey).balance).toBe(1_000_000n - 100n - 50_000n)
  })

  it('a transfer creating an account below the existential deposit is refused; at the deposit, or to an existing account, it applies', () => {
    const baseFee = params.minBaseFee
    expect(errorCodeOf(XscError, () => applyBlock(stateAfterGenesis(), ledgerBlock([pricedTransfer(alice, 0, fresh.publicKey, 0n, baseFee)]), new Uint8Array(32), ctxAt(baseFee)))).toBe('BELOW_EXISTENTIAL_DEPOSIT')
    expect(errorCodeOf(XscError, () => applyBlock(stateAfterGenesis(), ledgerBlock([pricedTransfer(alice, 0, fresh.publicKey, 999n, baseFee)]), new Uint8Array(32), ctxAt(baseFee)))).toBe('BELOW_EXISTENTIAL_DEPOSIT')
    expect(errorCodeOf(XscError, () => applyBlock(stateAfterGenesis(), ledgerBlock([pricedTransfer(alice, 0, fresh.publicKey, 1_000n, baseFee)]), new Uint8Array(32), ctxAt(baseFee)))).toBeUndefined()
    expect(errorCodeOf(XscError, () => applyBlock(stateAfterGenesis(), ledgerBlock([pricedTransfer(alice, 0, bob.publicKey, 0n, baseFee)]), new Uint8Array(32), ctxAt(baseFee)))).toBeUndefined()
  })

  it('a tx that would leave its sender below the existential deposit is refused (bob holds 5000, the deposit is 1000)', () => {
    const baseFee = params.minBaseFee
    // Priced at an amount of the same encoded width as the ones sent below.
    const probe = pricedTransfer(bob, 0, alice.publicKey, 3_000n, baseFee)
    const spendable = 5_000n - 1_000n - probe.body.fee
    expect(errorCodeOf(XscError, () => applyBlock(stateAfterGenesis(), ledgerBlock([pricedTransfer(bob, 0, alice.publicKey, spendable + 1n, baseFee)]), new Uint8Array(32), ctxAt(baseFee)))).toBe('INSUFFICIENT_FUNDS')
    expect(errorCodeOf(XscError, () => applyBlock(stateAfterGenesis(), ledgerBlock([pricedTransfer(bob, 0, alice.publicKey, spendable, baseFee)]), new Uint8Array(32), ctxAt(baseFee)))).toBeUndefined()
  })
})

describe('base fee in the header', () => {
  const target = params.targetBlockTxBytes
  const SLOT_MS = 500
  const SLOT = BigInt(SLOT_MS)
  it('rises by 1/8 for a block at twice the target, falls by 1/8 for an empty one, holds at the target and across completion/audit blocks', () => {
    expect(computeNextBaseFee({ kind: 'ledger', baseFee: 800n, txBytes: 2 * target, timestamp: 0n }, SLOT, params, SLOT_MS)).toBe(900n)
    expect(computeNextBaseFee({ kind: 'ledger', baseFee: 800n, txBytes: 0, timestamp: 0n }, SLOT, params, SLOT_MS)).toBe(700n)
    expect(computeNextBaseFee({ kind: 'ledger', baseFee: 800n, txBytes: target, timestamp: 0n }, SLOT, params, SLOT_MS)).toBe(800n)
    expect(computeNextBaseFee({ kind: 'completion', baseFee: 800n, txBytes: 0, timestamp: 0n }, SLOT, params, SLOT_MS)).toBe(800n)
    expect(computeNextBaseFee({ kind: 'audit', baseFee: 800n, txBytes: 0, timestamp: 0n }, SLOT, params, SLOT_MS)).toBe(800n)
    expect(computeNextBaseFee({ kind: 'genesis', baseFee: 0n, txBytes: 0, timestamp: 0n }, SLOT, params, SLOT_MS)).toBe(params.minBaseFee)
    // Above twice the target (one big tx alone) it still moves by at most 1/8.
    expect(computeNextBaseFee({ kind: 'execution', baseFee: 800n, txBytes: 10 * target, timestamp: 0n }, SLOT, params, SLOT_MS)).toBe(900n)
  })

  it('a base fee under 8 (its 1/8 rounds to 0) rises by 1 above the target and falls back by 1 below it: no ratchet', () => {
    const next = (baseFee: bigint, txBytes: number): bigint => computeNextBaseFee({ kind: 'ledger', baseFee, txBytes, timestamp: 0n }, SLOT, { ...params, minBaseFee: 1n }, SLOT_MS)
    // Two full blocks take 1 to 3 (what a burst of transfers did on the devnet) ...
    expect(next(1n, 2 * target)).toBe(2n)
    expect(next(2n, 2 * target)).toBe(3n)
    // ... and idle blocks bring it back (it stayed at 3 for ever, and txs priced at 1 with them).
    expect(next(3n, 0)).toBe(2n)
    expect(next(2n, target / 2)).toBe(1n)
    expect(next(1n, 0)).toBe(1n)
    expect(next(7n, target)).toBe(7n)
    expect(next(7n, target - 1)).toBe(6n)
  })

  it('a block a quarter slot after its parent is measured against a quarter of the target, the move scaled to the full target', () => {
    const at = (txBytes: number, afterMs: bigint): bigint => computeNextBaseFee({ kind: 'ledger', baseFee: 800n, txBytes, timestamp: 1_000n }, 1_000n + afterMs, params, SLOT_MS)
    // A quarter of the target a quarter slot later holds; a full target then is 3/4 over: +75.
    expect(at(target / 4, SLOT / 4n)).toBe(800n)
    expect(at(target, SLOT / 4n)).toBe(875n)
    // Empty: down 1/32 a quarter slot, 1/8 a slot; a later timestamp counts as one slot.
    expect(at(0, SLOT / 4n)).toBe(775n)
    expect(at(0, 10n * SLOT)).toBe(700n)
    // A timestamp at or before the parent's (refused by the time rules anyway) counts as 1 ms.
    expect(at(target, 0n)).toBe(at(target, 1n))
  })

  it('a header whose baseFee or txBytes differs from what the parent and the entries say is refused', () => {
    const tx = pricedTransfer(alice, 0, bob.publicKey, 1n, 3n)
    const entries: BlockEntry[] = [{ type: 'tx', tx }]
    const parent = { kind: 'ledger' as const, baseFee: 800n, txBytes: 0, timestamp: 0n }
    expect(errorCodeOf(XscError, () => verifyBlockFees({ kind: 'ledger', baseFee: 700n, txBytes: txByteLength(tx), timestamp: SLOT }, entries, parent, params, SLOT_MS))).toBeUndefined()
    expect(errorCodeOf(XscError, () => verifyBlockFees({ kind: 'ledger', baseFee: 800n, txBytes: txByteLength(tx), timestamp: SLOT }, entries, parent, params, SLOT_MS))).toBe('ENTRY_MISMATCH')
    expect(errorCodeOf(XscError, () => verifyBlockFees({ kind: 'ledger', baseFee: 700n, txBytes: 0, timestamp: SLOT }, entries, parent, params, SLOT_MS))).toBe('ENTRY_MISMATCH')
  })
})
