import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import { CAPABILITY, type TxPayload } from '../../../blocks/schema.ts'
import type { KeyPair } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { SupplyRecord } from '../../../src/state/records.ts'
import { scanRows, type StateTable, TABLES } from '../../../src/state/tables.ts'
import { signTx, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { doubleVote, equivocation, LedgerChain } from '../../support/ledgerChain.ts'

/**
 * Token conservation across every ledger effect that moves locked funds: transfers, stakes,
 * unstakes (into unbonding), releases at the unbonding height, host bonds (join, top-up on
 * update, unbonding on leave), and slashes (burned). After every block, whatever was refused:
 *   accounts + bonded stake + host bonds + unbonding = supply.total, and total + burned = genesis supply.
 */

const validators = [testKey('conserve-v0'), testKey('conserve-v1'), testKey('conserve-v2')]
const people = [testKey('conserve-a'), testKey('conserve-b'), ...validators]
const hosts = [testKey('conserve-h0'), testKey('conserve-h1')]
const everyone = [...people, ...hosts]

type Op =
  | { kind: 'tx'; who: number; payload: (k: KeyPair) => TxPayload }
  | { kind: 'evidence'; validator: number; back: number }
  | { kind: 'wait'; blocks: number }

const amount = fc.oneof(fc.bigInt(0n, 2_000n), fc.bigInt(0n, 2_000_000n))
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('tx' as const), who: fc.nat(everyone.length - 1), to: fc.nat(everyone.length - 1), amount }).map((o) => ({ kind: o.kind, who: o.who, payload: () => ({ type: 'transfer' as const, to: everyone[o.to]!.publicKey, amount: o.amount }) })),
  fc.record({ kind: fc.constant('tx' as const), who: fc.nat(people.length - 1), amount }).map((o) => ({ kind: o.kind, who: o.who, payload: () => ({ type: 'stake' as const, amount: o.amount }) })),
  fc.record({ kind: fc.constant('tx' as const), who: fc.nat(people.length - 1), amount }).map((o) => ({ kind: o.kind, who: o.who, payload: () => ({ type: 'unstake' as const, amount: o.amount }) })),
  fc.record({ kind: fc.constant('tx' as const), who: fc.integer({ min: people.length, max: everyone.length - 1 }), gib: fc.integer({ min: 0, max: 64 }), update: fc.boolean() }).map((o) => ({
    kind: o.kind,
    who: o.who,
    payload: () => ({ type: o.update ? ('host.update' as const) : ('host.join' as const), host: { coord: { x: 1, y: 1, z: 1 }, zone: 'z', capacityBytes: BigInt(o.gib) << 30n, capabilities: CAPABILITY.storage, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: 'p', memoryBytes: 0n, encryptionKey: undefined } }),
  })),
  fc.record({ kind: fc.constant('tx' as const), who: fc.integer({ min: people.length, max: everyone.length - 1 }) }).map((o) => ({ kind: o.kind, who: o.who, payload: () => ({ type: 'host.leave' as const }) })),
  fc.record({ kind: fc.constant('evidence' as const), validator: fc.nat(validators.length - 1), back: fc.nat(12) }),
  fc.record({ kind: fc.constant('wait' as const), blocks: fc.integer({ min: 1, max: 8 }) }),
)

function sumOf<T>(chain: LedgerChain, table: StateTable<never, T>, value: (t: T) => bigint): bigint {
  return scanRows(chain.state, table).reduce((s, r) => s + value(r.row), 0n)
}

function checkConservation(chain: LedgerChain, genesisSupply: bigint): void {
  const supply = decode(SupplyRecord, chain.state.get(TABLES.supply.key())!)
  const held = sumOf(chain, TABLES.account, (a) => a.balance)
    + sumOf(chain, TABLES.validator, (v) => v.stake)
    + sumOf(chain, TABLES.host, (h) => h.bond)
    + sumOf(chain, TABLES.unbonding, (b) => b.entries.reduce((s, e) => s + e.amount, 0n))
  expect(held).toBe(supply.total)
  expect(supply.total + supply.burned).toBe(genesisSupply)
}

describe('token conservation with stakes, unbonding, bonds and slashes', () => {
  it('holds after every block of a random sequence, applied or refused', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 10_000 }), (ops, slashShareBps) => {
        const g = testGenesis({ validators, funded: everyone.map((key) => ({ key, amount: 3_000_000n })) })
        const chain = new LedgerChain({ ...g, params: { ...g.params, unbondingHeights: 6, slashShareBps, hostSlashShareBps: 2_500, minStake: 1_000n, hostBondBase: 100n, hostBondPerGiB: 7n } })
        const genesisSupply = decode(SupplyRecord, chain.state.get(TABLES.supply.key())!).total
        for (const op of ops) {
          try {
            if (op.kind === 'tx') {
              const key = everyone[op.who]!
              chain.txs(signTx(key, readAccount(chain.state, key.publicKey).nonce, op.payload(key), { fee: 3n }))
            } else if (op.kind === 'evidence') {
              chain.evidence(equivocation(doubleVote(validators[op.validator]!, 'xsc-test', Math.max(0, chain.height - op.back))))
            } else {
              chain.advanceTo(chain.height + op.blocks)
            }
          } catch {
            // Refused: the state is untouched, and conservation must still hold.
          }
          checkConservation(chain, genesisSupply)
        }
        // Let every unbonding entry come back: nothing is left locked, nothing lost but the burn.
        chain.advanceTo(chain.height + 7)
        checkConservation(chain, genesisSupply)
        expect(chain.state.scan(TABLES.unbonding.prefix)).toEqual([])
      }),
      { numRuns: 150 },
    )
  })
})
