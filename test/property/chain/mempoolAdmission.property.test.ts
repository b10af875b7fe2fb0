import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { decodeTrusted } from '../../../blocks/codec.ts'
import { txId } from '../../../blocks/ids.ts'
import { CAPABILITY, type ExecutionEntry, type SignedTx } from '../../../blocks/schema.ts'
import { Mempool } from '../../../src/chain/mempool.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { HostIndex } from '../../../src/router/index.ts'
import type { ApplyContext } from '../../../src/state/applyContext.ts'
import { applyDeployment, computePlacement } from '../../../src/state/applyDeployment.ts'
import { applyExecution, computeAssignment } from '../../../src/state/applyExecution.ts'
import { applyLedgerTx } from '../../../src/state/applyLedger.ts'
import { StateError } from '../../../src/state/errors.ts'
import { computeEscrow } from '../../../src/state/market/index.ts'
import { HostRecord } from '../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { codingParamsOf, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { signTx, testGenesis, testKey } from '../../support/chainFixtures.ts'

const validator = testKey('prop-mp-validator')
const hosts = Array.from({ length: 4 }, (_, i) => testKey(`prop-mp-host-${i}`))
const senders = Array.from({ length: 3 }, (_, i) => testKey(`prop-mp-sender-${i}`))
const genesis = testGenesis({ validators: [validator], funded: hosts.map((key) => ({ key, amount: 10n ** 12n })), schemes: ['stake'] })
const params = { ...genesis.params, dataShards: 2, parityShards: 1, chunkSize: 1024 }
const g = { ...genesis, params }

function contextAt(height: number, hostIndex: HostIndex): ApplyContext {
  return { genesis: g, height, slot: height, proposer: validator.publicKey, prevHash: new Uint8Array(32).fill(height & 0xff), beaconMix: new Uint8Array(32).fill(height & 0xff), baseFee: params.minBaseFee, hostIndex }
}

function indexOf(state: StateOverlay): HostIndex {
  return HostIndex.build(
    params,
    state.scan(TABLES.host.prefix).map((w) => [w.key.subarray(1), decodeTrusted(HostRecord, w.value!)] as const),
  )
}

/** Hosts joined and one module deployed, through the real transition. */
function baseState(): { state: StateOverlay; asset: Uint8Array } {
  const state = new StateOverlay(new MemoryState())
  for (const h of hosts) state.write(TABLES.account.at(h.publicKey), { balance: 10n ** 12n, nonce: 0 })
  const owner = hosts[0]!
  hosts.forEach((h, i) =>
    applyLedgerTx(state, signTx(h, 0, { type: 'host.join', host: { coord: { x: i, y: 0, z: 0 }, zone: `z${i}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `p${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined } }), contextAt(1, indexOf(state))),
  )
  const { manifest } = encodeAsset(new Uint8Array(64), codingParamsOf(params))
  const deploy = signTx(owner, 1, { type: 'deploy', assetKind: 1, manifest, deposit: 1_000n, bidPerByteEpoch: 5n, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0 })
  const ctx = contextAt(2, indexOf(state))
  applyDeployment(state, { type: 'deployment', tx: deploy, placement: computePlacement(deploy.body.payload as never, txId(deploy), ctx) }, ctx)
  return { state, asset: txId(deploy) }
}

const base = baseState()

type Op =
  | { kind: 'transfer'; sender: number; to: number; amount: bigint; fee: bigint; nonceShift: number }
  | { kind: 'stake'; sender: number; amount: bigint; fee: bigint; nonceShift: number }
  | { kind: 'execute'; sender: number; fuel: bigint; bid: bigint; replicas: number; fee: bigint; nonceShift: number }

const sender = fc.nat({ max: senders.length - 1 })
const fee = fc.bigInt({ min: 0n, max: 50n })
/** Mostly the next nonce; sometimes a queued one again (replace-by-fee), sometimes a gap. */
const nonceShift = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.constant(1) })
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('transfer' as const), sender, to: sender, amount: fc.bigInt({ min: 0n, max: 4_000n }), fee, nonceShift }),
  fc.record({ kind: fc.constant('stake' as const), sender, amount: fc.bigInt({ min: 1n, max: 4_000n }), fee, nonceShift }),
  fc.record({ kind: fc.constant('execute' as const), sender, fuel: fc.bigInt({ min: 1n, max: 200n }), bid: fc.bigInt({ min: 1n, max: 5n }), replicas: fc.integer({ min: 1, max: 3 }), fee, nonceShift }),
)

function buildTx(o: Op, nonce: number, asset: Uint8Array): SignedTx {
  const key = senders[o.sender]!
  switch (o.kind) {
    case 'transfer':
      return signTx(key, nonce, { type: 'transfer', to: senders[o.to]!.publicKey, amount: o.amount }, { fee: o.fee })
    case 'stake':
      return signTx(key, nonce, { type: 'stake', amount: o.amount }, { fee: o.fee })
    case 'execute':
      return signTx(key, nonce, { type: 'execute', asset, fn: 'run', input: new Uint8Array(0), fuelLimit: o.fuel, bidPerFuel: o.bid, replicas: o.replicas, quorum: 1, private: false, deadlineSlots: 5, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0, minMemoryBytes: 0n }, { fee: o.fee })
  }
}

describe('mempool admission (property)', () => {
  it('every admitted-and-selected set applies to state without INSUFFICIENT_FUNDS', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 5_000n }), { minLength: senders.length, maxLength: senders.length }), fc.array(op, { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), (balances, ops, maxTxs) => {
        const state = base.state.child()
        senders.forEach((k, i) => state.write(TABLES.account.at(k.publicKey), { balance: balances[i]!, nonce: 0 }))
        const mp = new Mempool({ chainId: g.chainId, params })
        const next = senders.map(() => 0)
        for (const o of ops) {
          const nonce = Math.max(0, next[o.sender]! + o.nonceShift)
          try {
            mp.add(buildTx(o, nonce, base.asset), state)
            if (nonce === next[o.sender]) next[o.sender]!++
          } catch {
            // refused at admission: nothing to check
          }
        }
        for (let height = 3; height < 60; height++) {
          const picked = mp.select(maxTxs, height)
          if (picked === undefined) break
          const ctx = contextAt(height, indexOf(state))
          const included = new Set<string>()
          for (const tx of picked.txs) {
            try {
              if (picked.kind === 'execution' && tx.body.payload.type === 'execute') {
                const p = tx.body.payload
                const entry: ExecutionEntry = { type: 'execution', tx, assignment: computeAssignment(p, txId(tx), ctx), escrow: computeEscrow(p, params) }
                applyExecution(state, entry, ctx)
              } else applyLedgerTx(state, tx, ctx)
              included.add(toHex(txId(tx)))
            } catch (err) {
              expect(err).toBeInstanceOf(StateError)
              expect((err as StateError).code).not.toBe('INSUFFICIENT_FUNDS')
              mp.drop(tx, err as StateError, height)
            }
          }
          mp.prune(state, { height, kind: picked.kind, included })
        }
      }),
      { numRuns: 150 },
    )
  })
})
