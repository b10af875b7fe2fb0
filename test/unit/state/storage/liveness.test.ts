import { describe, expect, it } from 'vitest'

import { computeBodyRoot } from '../../../../blocks/ids.ts'
import type { Block, BlockEntry, BlockKind, ChainParams, Heartbeat, LivenessEntry } from '../../../../blocks/schema.ts'
import { REPUTATION_CAUSE } from '../../../../blocks/schema.ts'
import { validateBlockStructure } from '../../../../blocks/validateBlock.ts'
import { buildLivenessEntry, HeartbeatPool } from '../../../../src/chain/produceBlock/buildLivenessEntry.ts'
import { compareBytes, hash, type KeyPair, sign, toHex, u32be, utf8, ZERO_HASH } from '../../../../src/crypto/index.ts'
import type { ApplyContext } from '../../../../src/state/applyContext.ts'
import type { StateError } from '../../../../src/state/errors.ts'
import { computeReputationUpdate } from '../../../../src/state/market/reputation.ts'
import { HOST_STATUS } from '../../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../../src/state/stateView.ts'
import { computeHeartbeatSigningHash, computeLivenessEpoch } from '../../../../src/state/storage/livenessRules.ts'
import { applyLiveness, readLivenessHost, settleLivenessEpoch, trackHostLiveness } from '../../../../src/state/storage/livenessState.ts'
import { readRepairQueue, writeAssetRecord } from '../../../../src/state/storage/repairQueue.ts'
import { TABLES } from '../../../../src/state/tables.ts'
import { testGenesis, testKey } from '../../../support/chainFixtures.ts'
import { assetRecord, hostRecord } from './storageTestState.ts'

const L = 10
const PARAMS: Partial<ChainParams> = { livenessEpochSlots: L, livenessMissThreshold: 2, livenessQuorumBlocks: 5 }

/**
 * A chain of liveness epochs driven block by block through the state functions applyBlock calls
 * (applyLiveness for the entry, settleLivenessEpoch after the entries).
 */
class LivenessWorld {
  readonly genesis = testGenesis({ params: PARAMS })
  readonly state = new MemoryState()
  height = 0
  readonly hosts: KeyPair[]
  /** Four validators of equal stake; slot s is proposed by validators[s % 4] unless `proposerOf` says otherwise. */
  readonly validators = [0, 1, 2, 3].map((i) => testKey(`liveness-validator-${i}`))
  proposerOf: (slot: number) => KeyPair = (slot) => this.validators[slot % 4]!

  constructor(hosts: number) {
    this.hosts = Array.from({ length: hosts }, (_, i) => testKey(`liveness-host-${i}`))
    // Block 1 at slot 0 opens epoch 0; the hosts join in it.
    this.block(0, (s, ctx) => {
      for (const v of this.validators) s.write(TABLES.validator.at(v.publicKey), { stake: 1_000_000n, peerId: '' })
      for (const h of this.hosts) {
        s.write(TABLES.host.at(h.publicKey), hostRecord({ reputation: 8000 }))
        trackHostLiveness(s, h.publicKey, ctx)
      }
    })
  }

  mixAt(slot: number): Uint8Array {
    return hash(utf8(`mix-${slot}`))
  }

  ctx(slot: number): ApplyContext {
    return { genesis: this.genesis, height: this.height + 1, slot, proposer: this.proposerOf(slot).publicKey, prevHash: ZERO_HASH, beaconMix: this.mixAt(slot), baseFee: 0n }
  }

  /** The open epoch's mix as the state holds it. */
  openMix(): Uint8Array {
    return this.state.get(TABLES.livenessEpoch.key())! && TABLES.livenessEpoch.codec.decode(this.state.get(TABLES.livenessEpoch.key())!).mix
  }

  heartbeat(key: KeyPair, epoch = computeLivenessEpoch(this.lastSlot, L), mix = this.openMix(), signer: KeyPair = key): Heartbeat {
    return { host: key.publicKey, signature: sign(signer.secretKey, computeHeartbeatSigningHash(this.genesis.chainId, epoch, mix, key.publicKey)) }
  }

  entry(heartbeats: Heartbeat[], epoch = computeLivenessEpoch(this.lastSlot + 1, L)): LivenessEntry {
    return { type: 'liveness', epoch, heartbeats: heartbeats.slice().sort((a, b) => compareBytes(a.host, b.host)) }
  }

  lastSlot = 0

  /** One block at `slot`: `body` (the entries), then the epoch settlement; committed when it applies. */
  block(slot: number, body?: (s: StateOverlay, ctx: ApplyContext) => void, kind: BlockKind = 'ledger'): void {
    const ctx = this.ctx(slot)
    const s = new StateOverlay(this.state)
    body?.(s, ctx)
    settleLivenessEpoch(s, ctx, kind)
    this.state.apply(s.writeSet())
    this.height++
    this.lastSlot = slot
  }

  /** A block carrying `heartbeats` (signed for the open epoch unless given). */
  blockWith(slot: number, heartbeats: Heartbeat[], epoch?: number): void {
    this.block(slot, (s, ctx) => applyLiveness(s, this.entry(heartbeats, epoch ?? computeLivenessEpoch(slot, L)), ctx))
  }

  /** Tries a block with the entry; returns the error message, or undefined when it applied (and was committed). */
  tryBlock(slot: number, entry: LivenessEntry): string | undefined {
    try {
      this.block(slot, (s, ctx) => applyLiveness(s, entry, ctx))
      return undefined
    } catch (err) {
      return (err as Error).message
    }
  }

  status(key: KeyPair): number {
    return this.state.get(TABLES.host.key(key.publicKey)) === undefined ? -1 : TABLES.host.codec.decode(this.state.get(TABLES.host.key(key.publicKey))!).status
  }

  reputation(key: KeyPair): number {
    return TABLES.host.codec.decode(this.state.get(TABLES.host.key(key.publicKey))!).reputation
  }

  /** Every slot of epochs [from, to): each live host heartbeats in the epoch's second block (unless `censored(slot)`). */
  run(fromEpoch: number, toEpoch: number, live: (k: KeyPair) => boolean, censored: (slot: number) => boolean = () => false): void {
    for (let e = fromEpoch; e < toEpoch; e++) {
      // A host joined in epoch e is due from e + 1.
      const pending = new Set(this.hosts.filter((k) => live(k) && (readLivenessHost(this.state, k.publicKey)?.due ?? Infinity) <= e).map((k) => toHex(k.publicKey)))
      for (let slot = e * L; slot < (e + 1) * L; slot++) {
        if (slot === 0) continue
        const first = slot === e * L
        const due = first || censored(slot) ? [] : this.hosts.filter((k) => pending.has(toHex(k.publicKey)))
        if (due.length === 0) {
          this.block(slot)
          continue
        }
        const beats = due.map((k) => this.heartbeat(k, e, this.openMix()))
        this.blockWith(slot, beats)
        for (const k of due) pending.delete(toHex(k.publicKey))
      }
    }
  }
}

describe('liveness: a heartbeat per host per epoch', () => {
  it('a host that stops heartbeating is suspended after livenessMissThreshold epochs, its assets queued for repair, then disqualified by further misses', () => {
    const w = new LivenessWorld(7)
    const dead = w.hosts[0]!
    // Six assets on the dead host and five others.
    const s = new StateOverlay(w.state)
    const assets = Array.from({ length: 6 }, (_, i) => hash(utf8(`asset-${i}`)))
    const manifest = { size: 4n, dataHash: ZERO_HASH, k: 4, m: 2, segmentSize: 4, shardSize: 1n, chunkSize: 1, shardHashes: Array(6).fill(ZERO_HASH), chunkRoots: Array(6).fill(ZERO_HASH) }
    for (const a of assets) writeAssetRecord(s, a, assetRecord(manifest, w.hosts.slice(0, 6).map((k) => k.publicKey)))
    w.state.apply(s.writeSet())
    w.run(0, 1, () => true)
    expect(readLivenessHost(w.state, dead.publicKey)).toEqual({ due: 1, misses: 0 })
    w.run(1, 2, (k) => k !== dead)
    expect(w.status(dead)).toBe(HOST_STATUS.active) // one miss: nothing but the count
    w.block(20)
    expect(readLivenessHost(w.state, dead.publicKey)?.misses).toBe(1)
    w.run(2, 3, (k) => k !== dead)
    w.block(30) // closes epoch 2: the second miss
    expect(w.status(dead)).toBe(HOST_STATUS.suspended)
    expect(readRepairQueue(w.state, 100).map(toHex).sort()).toEqual(assets.map(toHex).sort())
    for (const k of w.hosts.slice(1)) expect(w.status(k)).toBe(HOST_STATUS.active)
    let epochs = 3
    while (w.status(dead) === HOST_STATUS.suspended && epochs < 200) w.run(epochs, ++epochs, (k) => k !== dead)
    expect(w.status(dead)).toBe(HOST_STATUS.disqualified)
    expect(w.reputation(dead)).toBeLessThan(w.genesis.params.reputationDisqualifyBp)
    // Disqualified hosts are no longer tracked: closing epochs stops reading them.
    expect(readLivenessHost(w.state, dead.publicKey)).toBeUndefined()
  })

  it('a heartbeat again makes a suspended host active (misses back to 0)', () => {
    const w = new LivenessWorld(3)
    const h = w.hosts[0]!
    w.run(0, 4, (k) => k !== h)
    w.block(40)
    expect(w.status(h)).toBe(HOST_STATUS.suspended)
    w.run(4, 5, () => true)
    expect(w.status(h)).toBe(HOST_STATUS.active)
    expect(readLivenessHost(w.state, h.publicKey)?.misses).toBe(0)
  })

  it('censorship by one proposer of four does not make an honest host miss', () => {
    const w = new LivenessWorld(4)
    // The Byzantine proposer has every fourth slot and leaves every heartbeat out of its blocks; the others include them.
    w.run(0, 12, () => true, (slot) => slot % 4 === 1)
    w.block(120)
    for (const k of w.hosts) {
      expect(w.status(k)).toBe(HOST_STATUS.active)
      expect(readLivenessHost(w.state, k.publicKey)?.misses).toBe(0)
    }
  })

  it('a Byzantine coalition (< 1/3 of the stake) proposing every block of an epoch cannot make honest hosts miss: the epoch does not count', () => {
    const w = new LivenessWorld(3)
    w.run(0, 2, () => true)
    // Epoch 2: every slot is proposed by validator 3 (a quarter of the stake), which leaves every heartbeat out.
    w.proposerOf = () => w.validators[3]!
    w.run(2, 3, () => true, () => true)
    w.proposerOf = (slot) => w.validators[slot % 4]!
    w.block(30)
    for (const k of w.hosts) expect(readLivenessHost(w.state, k.publicKey)?.misses).toBe(0)
    // Two of the four (half the stake) are enough for an epoch to count: a silent host misses.
    w.proposerOf = (slot) => w.validators[slot % 2]!
    w.run(3, 4, (k) => k !== w.hosts[0])
    w.block(40)
    expect(readLivenessHost(w.state, w.hosts[0]!.publicKey)?.misses).toBe(1)
  })

  it('a heartbeat signed by another key (another host, or the proposer) is refused', () => {
    const w = new LivenessWorld(2)
    w.block(10)
    const [a, b] = w.hosts
    expect(w.tryBlock(11, w.entry([w.heartbeat(a!, 1, w.openMix(), b!)]))).toMatch(/bad signature/)
    expect(w.tryBlock(11, w.entry([w.heartbeat(a!, 1, w.openMix(), testKey('proposer'))]))).toMatch(/bad signature/)
    expect(w.tryBlock(11, w.entry([w.heartbeat(a!, 1, w.openMix())]))).toBeUndefined()
  })

  it("an old epoch's heartbeat is refused, in an entry of its epoch or of the current one", () => {
    const w = new LivenessWorld(2)
    const [a] = w.hosts
    w.run(0, 1, () => true)
    const oldMix = w.openMix()
    const old = w.heartbeat(a!, 0, oldMix)
    w.block(10) // opens epoch 1
    expect(w.tryBlock(11, w.entry([old], 0))).toMatch(/epoch 0 in a block that cannot carry them/)
    expect(w.tryBlock(11, w.entry([old], 1))).toMatch(/bad signature/)
  })

  it('a heartbeat signed over another mix (made before the epoch started) is refused', () => {
    const w = new LivenessWorld(1)
    w.block(10)
    const guessed = w.heartbeat(w.hosts[0]!, 1, hash(utf8('a guess')))
    expect(w.tryBlock(11, w.entry([guessed], 1))).toMatch(/bad signature/)
  })

  it('a second heartbeat in the epoch is refused (in a later block or twice in one entry), with no state change', () => {
    const w = new LivenessWorld(2)
    w.block(10)
    const beat = w.heartbeat(w.hosts[0]!, 1)
    w.blockWith(11, [beat])
    const before = w.state.get(TABLES.livenessHost.key(w.hosts[0]!.publicKey))
    expect(w.tryBlock(12, w.entry([beat], 1))).toMatch(/already heartbeat this epoch/)
    expect(w.state.get(TABLES.livenessHost.key(w.hosts[0]!.publicKey))).toEqual(before)
    const other = w.heartbeat(w.hosts[1]!, 1)
    expect(w.tryBlock(12, { type: 'liveness', epoch: 1, heartbeats: [other, other] })).toMatch(/strictly increasing/)
  })

  it('a non-host (or a host no longer tracked) cannot put heartbeats in blocks', () => {
    const w = new LivenessWorld(1)
    w.block(10)
    const outsider = testKey('not-a-host')
    expect(w.tryBlock(11, w.entry([w.heartbeat(outsider, 1)], 1))).toMatch(/not a tracked host/)
  })

  it('the first block of an epoch carries no heartbeats (nobody could sign over its mix yet)', () => {
    const w = new LivenessWorld(1)
    w.block(9)
    const early = w.heartbeat(w.hosts[0]!, 1, w.mixAt(10))
    expect(w.tryBlock(10, w.entry([early], 1))).toMatch(/cannot carry them/)
  })

  it('an epoch without enough blocks counts no misses; a stalled network (no blocks for epochs) counts none', () => {
    const w = new LivenessWorld(2)
    w.run(0, 1, () => true)
    // Epoch 1: only 3 blocks after its first (quorum 5), nobody heartbeats.
    for (const slot of [10, 13, 16, 19]) w.block(slot)
    w.block(20)
    for (const k of w.hosts) expect(readLivenessHost(w.state, k.publicKey)?.misses).toBe(0)
    // Epochs 2 counted? It had only its opening block; then nothing until epoch 9.
    w.block(90)
    for (const k of w.hosts) {
      expect(readLivenessHost(w.state, k.publicKey)).toEqual({ due: 9, misses: 0 })
      expect(w.status(k)).toBe(HOST_STATUS.active)
    }
  })

  it('closing an epoch reads only the hosts still due in it', () => {
    const w = new LivenessWorld(50)
    const silent = w.hosts.slice(0, 3)
    w.run(0, 2, (k) => !silent.includes(k))
    w.block(20)
    const due = w.state.scan(TABLES.livenessDue.key(2, new Uint8Array(0)))
    expect(due.length).toBe(50)
    const dueIn1 = w.state.scan(new Uint8Array([...TABLES.livenessDue.prefix, ...u32be(1)]))
    expect(dueIn1.length).toBe(0)
    // Only the 3 silent hosts were due in epoch 1 when it closed (the others had moved on to 2).
    expect(silent.every((k) => readLivenessHost(w.state, k.publicKey)?.misses === 1)).toBe(true)
  })
})


describe('where a liveness entry rides (validateBlockStructure)', () => {
  const genesis = testGenesis({ params: PARAMS })
  const liveness: LivenessEntry = { type: 'liveness', epoch: 1, heartbeats: [{ host: testKey('h').publicKey, signature: new Uint8Array(64) }] }
  const ack: BlockEntry = { type: 'storageAck', acks: [{ body: { chainId: genesis.chainId, asset: ZERO_HASH, shardIndex: 0, shardHash: ZERO_HASH, host: ZERO_HASH }, signature: new Uint8Array(64) }] }
  const audit: BlockEntry = { type: 'audit', epoch: 1, results: [], repairs: [], rent: [], expired: [], reputation: [] }
  const blockOf = (kind: BlockKind, entries: BlockEntry[]): Block => ({
    header: { chainId: genesis.chainId, height: 5, prevHash: ZERO_HASH, kind, slot: 11, timestamp: 0n, proposer: ZERO_HASH, bodyRoot: computeBodyRoot(entries), stateRoot: ZERO_HASH, baseFee: 0n, txBytes: 0, round: 0, beaconReveal: ZERO_HASH, proofs: [], signature: new Uint8Array(64) },
    entries,
  })
  const check = (kind: BlockKind, entries: BlockEntry[]): string | undefined => {
    try {
      validateBlockStructure(blockOf(kind, entries), genesis.chainId)
      return undefined
    } catch (err) {
      return (err as Error).message
    }
  }

  it('first in a ledger or storage block; never second, twice, in an audit block, or alone in a block kind that needs its entries', () => {
    expect(check('ledger', [liveness])).toBeUndefined()
    expect(check('storage', [liveness, ack])).toBeUndefined()
    expect(check('storage', [ack, liveness])).toMatch(/holds a liveness entry at 1/)
    expect(check('ledger', [liveness, liveness])).toMatch(/holds a liveness entry at 1/)
    expect(check('audit', [liveness, audit])).toMatch(/holds a liveness entry at 0/)
    expect(check('storage', [liveness])).toMatch(/no storageAck entries/)
  })
})

describe('the heartbeat pool (gossip and RPC intake) and the suspension line', () => {
  it('takes a valid heartbeat once; ignores another epoch or an untracked host; rejects a bad signature (scored)', () => {
    const w = new LivenessWorld(2)
    w.block(10)
    const pool = new HeartbeatPool()
    const [a, b] = w.hosts
    const signed = { epoch: 1, ...w.heartbeat(a!, 1) }
    expect(pool.add(w.state, w, signed)).toBe(true)
    expect(pool.add(w.state, w, signed)).toBe(false)
    const verdict = (f: () => unknown): string | undefined => {
      try {
        f()
        return undefined
      } catch (err) {
        return (err as StateError).verdict
      }
    }
    expect(verdict(() => pool.add(w.state, w, { ...signed, epoch: 0 }))).toBe('IGNORE')
    expect(verdict(() => pool.add(w.state, w, { epoch: 1, ...w.heartbeat(testKey('outsider'), 1) }))).toBe('IGNORE')
    expect(verdict(() => pool.add(w.state, w, { epoch: 1, ...w.heartbeat(b!, 1, w.openMix(), a!) }))).toBe('REJECT')
    // What the pool holds goes into the next block; once on chain it leaves the pool.
    const entry = buildLivenessEntry(w.state, w.ctx(11), pool)
    expect(entry?.heartbeats.map((h) => toHex(h.host))).toEqual([toHex(a!.publicKey)])
    w.block(11, (s, ctx) => applyLiveness(s, entry!, ctx))
    pool.prune(w.state)
    expect(pool.size).toBe(0)
  })

  it('suspension caps reputation under reputationSuspendBp (an unanswered audit cannot lift it, as it could before the cap); a heartbeat restores eligibility', () => {
    const w = new LivenessWorld(1)
    const h = w.hosts[0]!
    w.run(0, 3, () => false)
    w.block(30)
    expect(readLivenessHost(w.state, h.publicKey)).toEqual({ due: 3, misses: 2 })
    expect(w.status(h)).toBe(HOST_STATUS.suspended)
    const params = w.genesis.params
    expect(w.reputation(h)).toBeLessThan(params.reputationSuspendBp)
    const record = TABLES.host.codec.decode(w.state.get(TABLES.host.key(h.publicKey))!)
    expect(computeReputationUpdate(h.publicKey, record, REPUTATION_CAUSE.auditNoAnswer, params, 40, ZERO_HASH).record.status).toBe(HOST_STATUS.suspended)
    w.run(3, 4, () => true)
    expect(w.status(h)).toBe(HOST_STATUS.active)
    expect(w.reputation(h)).toBe(params.reputationSuspendBp)
  })
})
