import { describe, expect, it } from 'vitest'

import { txId } from '../../../blocks/ids.ts'
import { ASSET_KIND, type ExecutePayload, type SignedTx } from '../../../blocks/schema.ts'
import { MempoolError } from '../../../src/chain/errors.ts'
import { type DroppedTx, Mempool } from '../../../src/chain/mempool.ts'
import { type KeyPair, toHex } from '../../../src/crypto/index.ts'
import { StateError } from '../../../src/state/errors.ts'
import { FREE_FEE_PARAMS } from '../../../src/state/fees.ts'
import { DEFAULT_PARAMS as PROTOCOL_DEFAULTS } from '../../../src/state/genesisJson.ts'

// Fees are off here (their own tests below and in test/unit/state/fees.test.ts turn them on).
const DEFAULT_PARAMS = { ...PROTOCOL_DEFAULTS, ...FREE_FEE_PARAMS }
import { computeEscrow } from '../../../src/state/market/index.ts'
import { ASSET_STATUS } from '../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { codingParamsOf, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { signTx, testKey, transfer } from '../../support/chainFixtures.ts'

const alice = testKey('mp-alice')
const bob = testKey('mp-bob')
const carol = testKey('mp-carol')
const ASSET = new Uint8Array(32).fill(7)

function stateWith(balances: [KeyPair, bigint, number?][]): StateOverlay {
  const s = new StateOverlay(new MemoryState())
  for (const [k, balance, nonce] of balances) s.write(TABLES.account.at(k.publicKey), { balance, nonce: nonce ?? 0 })
  // The asset the execute txs target: admission checks it is stored.
  s.write(TABLES.asset.at(ASSET), { owner: alice.publicKey, kind: ASSET_KIND.module, manifest: { size: 1n, dataHash: ASSET, k: 4, m: 2, segmentSize: 4, shardSize: 1n, chunkSize: 1, shardHashes: [], chunkRoots: [] }, placement: [], shardFailures: [], deposit: 0n, bidPerByteEpoch: 0n, createdHeight: 0, status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined })
  return s
}

function pool(opts: { maxKindWaitSlots?: number; maxDroppedRecords?: number; onDrop?: (d: DroppedTx) => void } = {}): Mempool {
  return new Mempool({ chainId: 'xsc-test', params: DEFAULT_PARAMS, ...opts })
}

const executePayload: ExecutePayload = { type: 'execute', asset: ASSET, fn: 'run', input: new Uint8Array(0), fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0, minMemoryBytes: 0n }
const ESCROW = computeEscrow(executePayload, DEFAULT_PARAMS)
const execute = (key: KeyPair, nonce: number, fee = 0n): SignedTx => signTx(key, nonce, executePayload, { fee })
const stake = (key: KeyPair, nonce: number, amount: bigint, fee = 1n): SignedTx => signTx(key, nonce, { type: 'stake', amount }, { fee })

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    expect(e instanceof StateError || e instanceof MempoolError).toBe(true)
    return (e as StateError).code
  }
  return undefined
}

describe('mempool admission: the full cost against the balance minus what is pending', () => {
  it('an execute must cover fee + escrow: fee 0 from an unfunded key is refused', () => {
    expect(ESCROW).toBeGreaterThan(0n)
    const mp = pool()
    expect(codeOf(() => mp.add(execute(alice, 0), stateWith([])))).toBe('INSUFFICIENT_FUNDS')
    expect(codeOf(() => mp.add(execute(alice, 0, 5n), stateWith([[alice, ESCROW + 4n]])))).toBe('INSUFFICIENT_FUNDS')
    expect(codeOf(() => mp.add(execute(alice, 0, 5n), stateWith([[alice, ESCROW + 5n]])))).toBeUndefined()
  })

  it('a malformed execute (no escrow exists for it) is INVALID_TX, not a crash', () => {
    const bad = signTx(alice, 0, { ...executePayload, replicas: 0 }, { fee: 1n })
    expect(codeOf(() => pool().add(bad, stateWith([[alice, 10n ** 18n]])))).toBe('INVALID_TX')
  })

  it('an execute with an unknown routing strategy or a repeated zone is INVALID_TX at admission', () => {
    for (const over of [{ strategy: 9 }, { zones: ['eu-1', 'eu-1'] }, { zones: [''] }]) {
      const bad = signTx(alice, 0, { ...executePayload, ...over }, { fee: 1n })
      expect(codeOf(() => pool().add(bad, stateWith([[alice, 10n ** 18n]])))).toBe('INVALID_TX')
    }
  })

  it('deploy deposits and stakes count, and so does everything the sender already has pending', () => {
    const state = stateWith([[alice, 1_000n]])
    const mp = pool()
    mp.add(transfer(alice, 0, bob.publicKey, 600n, 1n), state)
    expect(codeOf(() => mp.add(transfer(alice, 1, bob.publicKey, 399n, 1n), state))).toBe('INSUFFICIENT_FUNDS')
    expect(codeOf(() => mp.add(stake(alice, 1, 399n), state))).toBe('INSUFFICIENT_FUNDS')
    const deploy = signTx(alice, 1, { type: 'deploy', assetKind: 1, manifest: encodeAsset(new Uint8Array(100), codingParamsOf(DEFAULT_PARAMS)).manifest, deposit: 399n, bidPerByteEpoch: 1n, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0 }, { fee: 1n })
    expect(codeOf(() => mp.add(deploy, state))).toBe('INSUFFICIENT_FUNDS')
    expect(codeOf(() => mp.add(transfer(alice, 1, bob.publicKey, 398n, 1n), state))).toBeUndefined()
  })
})

describe('signature checks', () => {
  it('a forged tx is verified once: the same bytes again are refused as BAD_SIGNATURE without a second verify; other bytes are verified', () => {
    const mp = pool()
    const state = stateWith([[alice, 1_000n]])
    const good = transfer(alice, 0, bob.publicKey, 1n)
    const forged = { ...good, signature: good.signature.map((b, i) => (i === 3 ? b ^ 1 : b)) }
    expect(codeOf(() => mp.add(forged, state))).toBe('BAD_SIGNATURE')
    expect(mp.signaturesChecked).toBe(1)
    for (let i = 0; i < 3; i++) expect(codeOf(() => mp.add(structuredClone(forged), state))).toBe('BAD_SIGNATURE')
    expect(mp.signaturesChecked).toBe(1)
    const forgedOtherwise = { ...good, signature: good.signature.map((b, i) => (i === 4 ? b ^ 1 : b)) }
    expect(codeOf(() => mp.add(forgedOtherwise, state))).toBe('BAD_SIGNATURE')
    expect(mp.signaturesChecked).toBe(2)
    // The honest tx on the same nonce is verified and admitted.
    expect(codeOf(() => mp.add(good, state))).toBeUndefined()
    expect(mp.signaturesChecked).toBe(3)
  })

  it('every check the signature plays no part in runs before the verify: junk costs none, is counted by reason and stage, and a forged tx refused early does not block the good one', () => {
    const mp = pool()
    const state = stateWith([[alice, 1_000n]])
    const good = transfer(alice, 0, bob.publicKey, 1n)
    const forge = (tx: SignedTx): SignedTx => ({ ...tx, signature: tx.signature.map((b, i) => (i === 3 ? b ^ 1 : b)) })
    // Unfunded sender, a nonce past the queue, a used nonce (state nonce 0: none), a cost beyond the balance, forged or not.
    expect(codeOf(() => mp.add(transfer(carol, 0, bob.publicKey, 1n), state))).toBe('INSUFFICIENT_FUNDS')
    expect(codeOf(() => mp.add(forge(transfer(carol, 0, bob.publicKey, 2n)), state))).toBe('INSUFFICIENT_FUNDS')
    expect(codeOf(() => mp.add(transfer(alice, 5, bob.publicKey, 1n), state))).toBe('NONCE_TOO_HIGH')
    expect(codeOf(() => mp.add(forge(transfer(alice, 0, bob.publicKey, 10_000n)), state))).toBe('INSUFFICIENT_FUNDS')
    expect(mp.signaturesChecked).toBe(0)
    // A forgery that passes them is verified, and refused after.
    expect(codeOf(() => mp.add(forge(good), state))).toBe('BAD_SIGNATURE')
    expect(mp.signaturesChecked).toBe(1)
    expect(codeOf(() => mp.add(good, state))).toBeUndefined()
    expect(codeOf(() => mp.add(good, state))).toBe('ALREADY_KNOWN')
    expect(mp.signaturesChecked).toBe(2)
    // A small-order sender key (the identity point) is refused by its key check, after the state checks: unfunded, for its funds.
    const identity = new Uint8Array(32)
    identity[0] = 1
    const fromIdentity = (amount: bigint): SignedTx => ({ ...good, body: { ...good.body, from: identity, payload: { type: 'transfer', to: bob.publicKey, amount } } })
    expect(codeOf(() => mp.add(fromIdentity(1n), state))).toBe('INSUFFICIENT_FUNDS')
    state.write(TABLES.account.at(identity), { balance: 1_000n, nonce: 0 })
    expect(codeOf(() => mp.add(fromIdentity(2n), state))).toBe('INVALID_KEY')
    expect(mp.signaturesChecked).toBe(2)
    const byKey = Object.fromEntries(mp.refusals().map((r) => [`${r.reason}/${r.stage}`, r.count]))
    expect(byKey).toEqual({ 'INSUFFICIENT_FUNDS/before_verify': 4, 'NONCE_TOO_HIGH/before_verify': 1, 'BAD_SIGNATURE/after_verify': 1, 'ALREADY_KNOWN/before_verify': 1, 'INVALID_KEY/before_verify': 1 })
  })
})

describe('executes of an asset still being deployed', () => {
  it('are admitted while its deploy is pending here (a client sends both at once); an unknown asset is refused', () => {
    const state = stateWith([[alice, 10n ** 12n], [bob, 10n ** 12n]])
    const mp = pool()
    const deploy = signTx(alice, 0, { type: 'deploy', assetKind: 1, manifest: encodeAsset(new Uint8Array(100), codingParamsOf(DEFAULT_PARAMS)).manifest, deposit: 1_000n, bidPerByteEpoch: 1n, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0 })
    const pendingAsset = txId(deploy)
    const runIt = (key: KeyPair, nonce: number, asset: Uint8Array): SignedTx => signTx(key, nonce, { ...executePayload, asset }, { fee: 0n })
    expect(codeOf(() => mp.add(runIt(bob, 0, pendingAsset), state))).toBe('UNKNOWN_ASSET')
    mp.add(deploy, state)
    expect(mp.isPendingDeploy(pendingAsset)).toBe(true)
    expect(codeOf(() => mp.add(runIt(alice, 1, pendingAsset), state))).toBeUndefined()
    expect(codeOf(() => mp.add(runIt(bob, 0, pendingAsset), state))).toBeUndefined()
    // A pending tx that is not a deploy creates no asset.
    const t = transfer(carol, 0, bob.publicKey, 1n)
    expect(mp.isPendingDeploy(txId(t))).toBe(false)
    expect(codeOf(() => mp.add(runIt(bob, 1, new Uint8Array(32).fill(9)), state))).toBe('UNKNOWN_ASSET')
  })
})

describe('replace-by-fee', () => {
  it('a tx with a queued nonce and a strictly higher fee replaces the queued one; the sender sees the old one as REPLACED', () => {
    const state = stateWith([[alice, 1_000n]])
    const drops: DroppedTx[] = []
    const mp = pool({ onDrop: (d) => drops.push(d) })
    const first = transfer(alice, 0, bob.publicKey, 10n, 2n)
    const second = transfer(alice, 1, bob.publicKey, 10n, 2n)
    mp.add(first, state)
    mp.add(second, state)
    const same = transfer(alice, 0, carol.publicKey, 10n, 2n)
    expect(codeOf(() => mp.add(same, state))).toBe('REPLACEMENT_UNDERPRICED')
    // The refusal names the next free nonce, for a client that meant a new tx; so does nextNonce.
    expect(() => mp.add(same, state)).toThrow(expect.objectContaining({ details: expect.objectContaining({ expected: 2 }) }))
    expect(mp.nextNonce(alice.publicKey, state)).toBe(2)
    const lower = transfer(alice, 0, carol.publicKey, 10n, 1n)
    expect(codeOf(() => mp.add(lower, state))).toBe('REPLACEMENT_UNDERPRICED')
    const better = transfer(alice, 0, carol.publicKey, 10n, 3n)
    mp.add(better, state)
    expect(mp.size).toBe(2)
    expect(mp.pending().map((t) => toHex(txId(t)))).toEqual([toHex(txId(better)), toHex(txId(second))])
    expect(mp.has(txId(first))).toBe(false)
    expect(mp.dropped(txId(first))).toMatchObject({ code: 'REPLACED' })
    expect(drops.map((d) => d.code)).toEqual(['REPLACED'])
  })

  it('a replacement is checked for funds with the rest of the queue', () => {
    const state = stateWith([[alice, 100n]])
    const mp = pool()
    mp.add(transfer(alice, 0, bob.publicKey, 40n, 1n), state)
    mp.add(transfer(alice, 1, bob.publicKey, 40n, 1n), state)
    expect(codeOf(() => mp.add(transfer(alice, 0, bob.publicKey, 58n, 2n), state))).toBe('INSUFFICIENT_FUNDS')
    expect(codeOf(() => mp.add(transfer(alice, 0, bob.publicKey, 57n, 2n), state))).toBeUndefined()
  })

  it('counts a host.join\'s bond in its cost: a joiner that can pay the fee but not the bond is refused at admission', () => {
    const join = (fee: bigint) => signTx(alice, 0, { type: 'host.join', host: { coord: { x: 0, y: 0, z: 0 }, zone: 'z', capacityBytes: 2n << 30n, capabilities: 1, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: 'p', memoryBytes: 0n, encryptionKey: undefined } }, { fee })
    const bond = DEFAULT_PARAMS.hostBondBase + 2n * DEFAULT_PARAMS.hostBondPerGiB
    expect(codeOf(() => pool().add(join(1n), stateWith([[alice, bond]])))).toBe('INSUFFICIENT_FUNDS')
    expect(codeOf(() => pool().add(join(1n), stateWith([[alice, bond + 1n]])))).toBeUndefined()
  })

  it('a new nonce still obeys the per-sender limit; a replacement does not need room', () => {
    const state = stateWith([[alice, 1_000n]])
    const mp = new Mempool({ chainId: 'xsc-test', params: DEFAULT_PARAMS, maxQueuedPerSender: 2 })
    mp.add(transfer(alice, 0, bob.publicKey, 1n), state)
    mp.add(transfer(alice, 1, bob.publicKey, 1n), state)
    expect(codeOf(() => mp.add(transfer(alice, 2, bob.publicKey, 1n), state))).toBe('SENDER_QUEUE_FULL')
    expect(codeOf(() => mp.add(transfer(alice, 1, bob.publicKey, 1n, 5n), state))).toBeUndefined()
  })
})

describe('block building fair across kinds', () => {
  it('the kind whose best ready tx pays the most takes the block, ties to the older, and txs within it go best fee first', () => {
    const state = stateWith([[alice, 10n ** 18n], [bob, 10n ** 18n], [carol, 10n ** 18n]])
    const mp = pool()
    mp.add(transfer(alice, 0, bob.publicKey, 1n, 5n), state)
    mp.add(execute(bob, 0, 9n), state)
    mp.add(transfer(carol, 0, bob.publicKey, 1n, 7n), state)
    expect(mp.select(10, 1)?.kind).toBe('execution')
    const tie = pool()
    tie.add(transfer(alice, 0, bob.publicKey, 1n, 9n), state)
    tie.add(execute(bob, 0, 9n), state)
    expect(tie.select(10, 1)?.kind).toBe('ledger')
    const ledger = pool()
    const low = transfer(alice, 0, bob.publicKey, 1n, 1n)
    const high = transfer(carol, 0, bob.publicKey, 1n, 8n)
    ledger.add(low, state)
    ledger.add(high, state)
    expect(ledger.select(10, 1)?.txs.map((t) => t.body.fee)).toEqual([8n, 1n])
  })

  it('a kind passed over for maxKindWaitSlots slots takes the next block whatever the fees', () => {
    const state = stateWith([[alice, 10n ** 18n], [bob, 10n ** 18n]])
    const mp = pool({ maxKindWaitSlots: 3 })
    for (let n = 0; n < 20; n++) mp.add(execute(bob, n, 100n), state)
    mp.add(transfer(alice, 0, bob.publicKey, 1n, 1n), state)
    const kinds = [1, 2, 3, 4, 5].map((slot) => mp.select(1, slot)?.kind)
    expect(kinds).toEqual(['execution', 'execution', 'execution', 'ledger', 'execution'])
  })
})

describe('drops are remembered with their reason', () => {
  it('drop records the reason for the tx and NONCE_GAP for its successors; re-admission clears it; the record is bounded', () => {
    const state = stateWith([[alice, 1_000n], [bob, 1_000n]])
    const drops: DroppedTx[] = []
    const mp = pool({ maxDroppedRecords: 2, onDrop: (d) => drops.push(d) })
    const a0 = transfer(alice, 0, bob.publicKey, 1n)
    const a1 = transfer(alice, 1, bob.publicKey, 1n)
    mp.add(a0, state)
    mp.add(a1, state)
    mp.drop(a0, { code: 'UNKNOWN_ASSET', message: 'no such asset' }, 7)
    expect(mp.size).toBe(0)
    expect(mp.dropped(txId(a0))).toMatchObject({ code: 'UNKNOWN_ASSET', message: 'no such asset', height: 7 })
    expect(mp.dropped(txId(a1))).toMatchObject({ code: 'NONCE_GAP', height: 7 })
    mp.add(a0, state)
    expect(mp.dropped(txId(a0))).toBeUndefined()
    const b0 = transfer(bob, 0, alice.publicKey, 1n)
    mp.add(b0, state)
    mp.drop(b0, { code: 'INVALID_TX', message: 'x' }, 8)
    mp.drop(a0, { code: 'INVALID_TX', message: 'y' }, 8)
    // Bounded: the oldest record (a1) went first.
    expect(mp.dropped(txId(a1))).toBeUndefined()
    expect(mp.dropped(txId(b0))).toBeDefined()
    expect(drops).toHaveLength(4)
  })

  it('prune: an included tx leaves silently; a tx whose nonce another tx used, or that the sender can no longer pay, is dropped with why', () => {
    const mp = pool()
    const before = stateWith([[alice, 1_000n], [bob, 1_000n]])
    const included = transfer(alice, 0, bob.publicKey, 1n)
    const raced = transfer(bob, 0, alice.publicKey, 1n)
    const unpaid = transfer(bob, 1, alice.publicKey, 500n)
    mp.add(included, before)
    mp.add(raced, before)
    mp.add(unpaid, before)
    // After the block: alice's tx is in it; bob's nonce 0 went to another tx that left him 100.
    const after = stateWith([[alice, 999n, 1], [bob, 100n, 1]])
    mp.prune(after, { height: 3, included: new Set([toHex(txId(included))]) })
    expect(mp.size).toBe(0)
    expect(mp.dropped(txId(included))).toBeUndefined()
    expect(mp.dropped(txId(raced))).toMatchObject({ code: 'NONCE_TOO_LOW', height: 3 })
    expect(mp.dropped(txId(unpaid))).toMatchObject({ code: 'INSUFFICIENT_FUNDS', height: 3 })
  })

  it('a sender\'s queue stays payable as a whole through replacements, prunes and drops (its summed cost is kept, not walked)', () => {
    const mp = pool()
    const before = stateWith([[alice, 1_000n], [carol, 1_000n]])
    // Fee 1 each: a transfer of 299 costs 300.
    for (let n = 0; n < 3; n++) mp.add(transfer(alice, n, carol.publicKey, 299n), before)
    expect(codeOf(() => mp.add(transfer(alice, 3, carol.publicKey, 100n), before))).toBe('INSUFFICIENT_FUNDS')
    // Nonce 1 replaced by a cheaper tx (cost 202): 802 pending, 198 free.
    mp.add(transfer(alice, 1, carol.publicKey, 200n, 2n), before)
    expect(codeOf(() => mp.add(transfer(alice, 3, carol.publicKey, 198n), before))).toBe('INSUFFICIENT_FUNDS')
    mp.add(transfer(alice, 3, carol.publicKey, 197n), before)
    expect(codeOf(() => mp.add(transfer(alice, 4, carol.publicKey, 0n), before))).toBe('INSUFFICIENT_FUNDS')
    // Nonce 0 in a block, alice left with 800: 202 + 300 + 198 pending, 100 free.
    const after = stateWith([[alice, 800n, 1], [carol, 1_300n]])
    mp.prune(after, { height: 2, accounts: [toHex(alice.publicKey)] })
    expect(codeOf(() => mp.add(transfer(alice, 4, carol.publicKey, 100n), after))).toBe('INSUFFICIENT_FUNDS')
    mp.add(transfer(alice, 4, carol.publicKey, 99n), after)
    // Nonce 3 dropped with its successor: 202 + 300 pending, 298 free for a new nonce 3.
    mp.drop(transfer(alice, 3, carol.publicKey, 197n), { code: 'X', message: 'x' }, 2)
    expect(codeOf(() => mp.add(transfer(alice, 3, carol.publicKey, 298n), after))).toBe('INSUFFICIENT_FUNDS')
    mp.add(transfer(alice, 3, carol.publicKey, 297n), after)
    expect(mp.size).toBe(3)
  })

  it('prune with the accounts a block wrote re-checks those senders only (a block costs the pool in proportion to the block)', () => {
    const mp = pool()
    const before = stateWith([[alice, 1_000n], [bob, 1_000n], [carol, 1_000n]])
    const a0 = transfer(alice, 0, carol.publicKey, 1n)
    const b0 = transfer(bob, 0, carol.publicKey, 1n)
    mp.add(a0, before)
    mp.add(b0, before)
    // alice's nonce 0 was used by a tx this pool never saw; bob's state is left inconsistent on
    // purpose, so a re-check of bob would drop his tx: only the named accounts are looked at.
    const after = stateWith([[alice, 900n, 1], [bob, 1_000n, 1], [carol, 1_000n]])
    mp.prune(after, { height: 4, included: new Set(), accounts: [toHex(alice.publicKey), toHex(carol.publicKey)] })
    expect(mp.dropped(txId(a0))).toMatchObject({ code: 'NONCE_TOO_LOW', height: 4 })
    expect(mp.has(txId(b0))).toBe(true)
    mp.prune(after, { height: 5, accounts: [toHex(bob.publicKey)] })
    expect(mp.has(txId(b0))).toBe(false)
  })
})
