import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import { XscError } from '../../../blocks/errors.ts'
import type { Block, ChainParams, SignedTx, TxPayload } from '../../../blocks/schema.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { applyBlock } from '../../../src/state/applyBlock.ts'
import { computeBlockTxBytes, computeNextBaseFee, FEE_PARAM_DEFAULTS } from '../../../src/state/fees.ts'
import { computeGenesis } from '../../../src/state/genesis.ts'
import { UnbondingBucket } from '../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { signTx, testBeaconReveal, testGenesis, testKey } from '../../support/chainFixtures.ts'

const KINDS = ['genesis', 'ledger', 'deployment', 'execution', 'completion', 'audit'] as const

describe('base fee (property)', () => {
  const feeParams = fc.record({ minBaseFee: fc.bigInt({ min: 0n, max: 1000n }), span: fc.bigInt({ min: 0n, max: 10n ** 12n }), targetBlockTxBytes: fc.integer({ min: 1, max: 1 << 20 }), minFeePerByte: fc.bigInt({ min: 0n, max: 10n }) })
    .map(({ minBaseFee, span, targetBlockTxBytes, minFeePerByte }) => ({ minBaseFee, maxBaseFee: minBaseFee + span, targetBlockTxBytes, minFeePerByte }))

  it('a block a slot or more after its parent: stays within [minBaseFee, maxBaseFee], moves at most 1/8 (1 under 8), up above the target, down below it, still on blocks without txs', () => {
    fc.assert(fc.property(feeParams, fc.constantFrom(...KINDS), fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 1 << 22 }), fc.integer({ min: 1, max: 10_000 }), fc.nat(10_000), (p, kind, raw, txBytes, slotMs, extraMs) => {
      const base = raw < p.minBaseFee ? p.minBaseFee : raw > p.maxBaseFee ? p.maxBaseFee : raw
      const next = computeNextBaseFee({ kind, baseFee: base, txBytes, timestamp: 0n }, BigInt(slotMs) + BigInt(extraMs), p, slotMs)
      expect(next >= p.minBaseFee && next <= p.maxBaseFee).toBe(true)
      if (kind === 'genesis') return
      if (kind === 'completion' || kind === 'audit') {
        expect(next).toBe(base)
      } else if (txBytes > p.targetBlockTxBytes) {
        expect(next >= base).toBe(true)
        expect(next - base <= (base / 8n > 0n ? base / 8n : 1n)).toBe(true)
      } else {
        expect(next <= base).toBe(true)
        expect(base - next <= (base / 8n > 0n ? base / 8n : 1n)).toBe(true)
      }
    }))
  })
})


describe('base fee over time (property)', () => {
  const p = { ...FEE_PARAM_DEFAULTS, minBaseFee: 0n, maxBaseFee: 10n ** 15n, targetBlockTxBytes: 64 * 1024 }
  const slotMs = 500
  // The base fee after a run of ledger blocks, the first at base fee `start`; each carries `bytes` and the next comes `interval` ms later.
  const runOf = (start: bigint, blocks: readonly { interval: number; bytes: number }[]): bigint => {
    let fee = start
    let timestamp = 0n
    for (const b of blocks) {
      fee = computeNextBaseFee({ kind: 'ledger', baseFee: fee, txBytes: b.bytes, timestamp }, timestamp + BigInt(b.interval), p, slotMs)
      timestamp += BigInt(b.interval)
    }
    return fee
  }

  // Up to the most one block may carry (twice the target). Beyond it early blocks carry more per slot
  // than one block could, and the fee rightly rises faster (each block moves it by at most 1/8).
  it('splitting one slot of txs over n early blocks neither escapes a rise nor speeds a fall (within rounding)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 10n ** 6n, max: 10n ** 12n }), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 2 * 64 * 1024 }), (start, n, bytesPerSlot) => {
      // One full-slot block carrying bytesPerSlot, against n blocks slotMs/n apart carrying a share each.
      const one = runOf(start, [{ interval: slotMs, bytes: bytesPerSlot }])
      const split = runOf(start, Array.from({ length: n }, () => ({ interval: Math.floor(slotMs / n), bytes: Math.floor(bytesPerSlot / n) })))
      if (bytesPerSlot > p.targetBlockTxBytes + n) expect(split > start).toBe(true)
      // Both move the fee by about the same fraction of start: they differ by compounding and rounding only (< 2 %).
      expect(Number(one > split ? one - split : split - one) <= Number(start) / 50).toBe(true)
    }))
  })
})

describe('conservation with fees (property)', () => {
  const validator = testKey('prop-fees-validator')
  const users = Array.from({ length: 4 }, (_, i) => testKey(`prop-fees-user-${i}`))
  const fresh = Array.from({ length: 4 }, (_, i) => testKey(`prop-fees-fresh-${i}`))
  const params: Partial<ChainParams> = { ...FEE_PARAM_DEFAULTS, minFeePerByte: 1n, minBaseFee: 1n, maxBaseFee: 1_000n, targetBlockTxBytes: 400, existentialDeposit: 500n, minStake: 1_000n }
  const genesis = testGenesis({ validators: [validator], funded: users.map((key) => ({ key, amount: 200_000n })), schemes: ['stake'], params })

  const txArb = fc.record({
    from: fc.nat(users.length - 1),
    kind: fc.constantFrom('transfer', 'transferFresh', 'stake', 'unstake'),
    to: fc.nat(users.length - 1),
    amount: fc.bigInt({ min: 0n, max: 60_000n }),
    fee: fc.bigInt({ min: 0n, max: 3_000n }),
  })
  const blocksArb = fc.array(fc.array(txArb, { maxLength: 6 }), { minLength: 1, maxLength: 8 })

  it('every block: Σ balances + Σ stakes = supply total; total + burned = the genesis supply; refused txs change nothing', () => {
    fc.assert(fc.property(blocksArb, (blocks) => {
      const g = computeGenesis(genesis)
      const state = new MemoryState()
      state.apply(g.writes)
      const initial = new StateOverlay(state).read(TABLES.supply.at())!.total
      let parent: Pick<Block['header'], 'kind' | 'baseFee' | 'txBytes' | 'timestamp'> = g.block.header
      const nonces = users.map(() => 0)
      for (const [height, specs] of blocks.entries()) {
        const baseFee = computeNextBaseFee(parent, parent.timestamp + BigInt(genesis.slotMs), genesis.params, genesis.slotMs)
        const included: SignedTx[] = []
        for (const t of specs) {
          const key = users[t.from]!
          const payload: TxPayload = t.kind === 'stake' ? { type: 'stake', amount: t.amount + 1_000n }
            : t.kind === 'unstake' ? { type: 'unstake', amount: t.amount + 1n }
            : { type: 'transfer', to: (t.kind === 'transferFresh' ? fresh[t.to]! : users[t.to]!).publicKey, amount: t.amount }
          const tx = signTx(key, nonces[t.from]!, payload, { fee: t.fee, chainId: genesis.chainId })
          const block = blockOf([...included, tx], height + 1, baseFee)
          // Keep a tx only if the block still applies with it (what a proposer does).
          try {
            applyBlock(state, block, new Uint8Array(32), { genesis, height: height + 1, slot: height + 1, proposer: validator.publicKey, prevHash: new Uint8Array(32), beaconMix: new Uint8Array(32), baseFee })
            included.push(tx)
            nonces[t.from]!++
          } catch (err) {
            expect(err).toBeInstanceOf(XscError)
          }
        }
        const block = blockOf(included, height + 1, baseFee)
        const { writes } = applyBlock(state, block, new Uint8Array(32), { genesis, height: height + 1, slot: height + 1, proposer: validator.publicKey, prevHash: new Uint8Array(32), beaconMix: new Uint8Array(32), baseFee })
        state.apply(writes)
        const supply = new StateOverlay(state).read(TABLES.supply.at())!
        const held = [validator, ...users, ...fresh].reduce((sum, k) => sum + readAccount(state, k.publicKey).balance + (new StateOverlay(state).read(TABLES.validator.at(k.publicKey))?.stake ?? 0n), 0n)
        // Unstaked funds wait in unbonding buckets until their release height (bonds).
        const unbonding = state.scan(TABLES.unbonding.prefix).reduce((sum, w) => sum + decode(UnbondingBucket, w.value!).entries.reduce((s, e) => s + e.amount, 0n), 0n)
        expect(held + unbonding).toBe(supply.total)
        expect(supply.total + supply.burned).toBe(initial)
        for (const f of fresh) {
          const b = readAccount(state, f.publicKey).balance
          expect(b === 0n || b >= 500n).toBe(true)
        }
        parent = block.header
      }
    }), { numRuns: 60 })
  })

  function blockOf(txs: SignedTx[], height: number, baseFee: bigint): Block {
    const entries = txs.map((tx) => ({ type: 'tx' as const, tx }))
    return { header: { chainId: genesis.chainId, height, prevHash: new Uint8Array(32), kind: 'ledger', slot: height, timestamp: 0n, proposer: validator.publicKey, bodyRoot: new Uint8Array(32), stateRoot: new Uint8Array(32), baseFee, txBytes: computeBlockTxBytes(entries), round: 0, beaconReveal: testBeaconReveal(validator, genesis, height - 1), proofs: [], signature: new Uint8Array(64) }, entries }
  }
})
