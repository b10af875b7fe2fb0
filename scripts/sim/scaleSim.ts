import { type Address, type Hash, LIMITS, type Manifest, REPUTATION_CAUSE } from '../../blocks/schema.ts'
import { HEARTBEATS_PER_BUILT_BLOCK } from '../../src/chain/produceBlock/buildLivenessEntry.ts'
import { hashParts, toHex, u32be, utf8, ZERO_HASH } from '../../src/crypto/index.ts'
import { computeDeploymentRequest, HostIndex, route } from '../../src/router/index.ts'
import { DEFAULT_PARAMS } from '../../src/state/genesisJson.ts'
import { computeReputationUpdate } from '../../src/state/market/reputation.ts'
import { ASSET_STATUS, type AssetRecord, HOST_STATUS, type HostRecord } from '../../src/state/records.ts'
import { computeAssetsPerAudit, computeAuditSamplePositions } from '../../src/state/storage/auditIndex.ts'
import { computeShardsToRepair } from '../../src/state/storage/computeRepairs.ts'
import { computeLivenessEpoch, computeLivenessMiss, computeLivenessRestore, isLivenessEpochCounted, isLivenessTracked } from '../../src/state/storage/livenessRules.ts'
import { REPAIRS_PER_AUDIT } from '../../src/state/storage/repairQueue.ts'
import { runConsensusSim } from './consensusSim.ts'
import { Prng } from './prng.ts'

/**
 * Scale simulation (issue 12 item 8), in one process and deterministic for a seed:
 *  - finality: the consensus simulator (consensusSim.ts) with `validators` validators, Byzantine
 *    ones and a lossy, partitioned network until GST; safety violations are counted;
 *  - storage: `hosts` hosts and `assets` assets over `heights` blocks, driven by the chain's own
 *    pure code: the router (HostIndex, updated incrementally, and route) places deploys and
 *    repairs; audits sample assets with computeAuditSamplePositions / computeAssetsPerAudit once
 *    per audit epoch; each audit result moves the host's reputation and status with
 *    computeReputationUpdate; lost shards are found with computeShardsToRepair.
 * What is simulated (docs/design.md "Scale simulation"): hosts are state-level actors. A live host
 * always answers its audits; a failed host never does (no proofs are built or checked); a leaving
 * host drains (still serving) until its shards are moved. No txs, signatures, blocks on disk or
 * network: `blockProcessingMs` is the wall time of the storage work of each block (deploy
 * routing, audits, reputation, repairs, index updates), not a full node's import.
 * Repair modes: `host-index` (what the chain does, src/state/storage/repairQueue.ts) also repairs,
 * in audit blocks and within the same per-entry limit, every asset with a shard on a host that
 * became lost; `sampled` repairs only assets the epoch's audit sampled (the chain before the
 * repair queue), kept for comparison.
 */
export interface ScaleSimOptions {
  seed: number
  validators: number
  hosts: number
  assets: number
  heights: number
  /** Assets deployed per block until `assets` exist. */
  deploysPerBlock: number
  /** Percent of the initial hosts that fail silently / leave / join over the run. */
  failPercent: number
  leavePercent: number
  joinPercent: number
  k: number
  m: number
  blockIntervalMs: number
  repairMode: 'sampled' | 'host-index'
  auditSamplesPerBlock: number
  /** The liveness rule (docs/storage.md "Liveness"): off reproduces the chain before it. */
  liveness: boolean
  livenessEpochSlots: number
  livenessMissThreshold: number
  livenessQuorumBlocks: number
  /** Percent of the validators (a contiguous run of the proposer rotation: the worst case) whose blocks carry no heartbeats. */
  byzantinePercent: number
  /** A live host's heartbeat reaches the proposers 1..(1 + this) blocks into the epoch. */
  heartbeatDelayBlocks: number
  /** Wall clock for the block timings only; never read by the simulation's logic. */
  clock: () => number
  /** This process's CPU time in ms (steadier than wall time on a loaded machine); timings only. */
  cpuClock?: () => number
}

export interface ScaleSimResult {
  seed: number
  validators: number
  consensusHeights: number
  safetyViolations: number
  livenessFailures: number
  hosts: number
  hostsJoined: number
  hostsLeft: number
  hostsFailed: number
  assets: number
  heights: number
  k: number
  m: number
  repairMode: string
  auditSamplesPerBlock: number
  challenges: number
  repairs: number
  /** Lowest count of shards on live hosts any asset had at the end of any block. */
  minHealthyShards: number
  /** Assets that were below k + 1 healthy shards at the end of some block / at the end of the run. */
  assetsBelowKPlus1: number
  assetsBelowKPlus1AtEnd: number
  /** Assets that fell below k healthy shards (data lost). */
  assetsLost: number
  failedHostsDetected: number
  liveness: boolean
  livenessEpochSlots: number
  livenessMissThreshold: number
  byzantinePercent: number
  heartbeatsIncluded: number
  heartbeatsPerBlockMax: number
  /** Epochs whose misses did not count (too few blocks or proposer stake ≤ 1/3). */
  voidEpochs: number
  /** Missed epochs of hosts that never failed (heartbeats censored, delayed or over the per-block cap); one alone costs nothing. */
  honestHostMisses: number
  /** Hosts that never failed but were suspended by the liveness rule (censorship or delay): should be 0. */
  honestHostsSuspended: number
  /** Failed hosts that failed at least (threshold + 1) × livenessEpochSlots blocks before the end: each must be detected. */
  hostsFailedBeforeDetectionBound: number
  /** Blocks from a host's failure to its suspension (or disqualification), over detected hosts. */
  detectionBlocksMax: number
  /** Blocks from a host's failure until none of its shards was left to repair, over detected hosts. */
  repairedWithinBlocksMax: number
  /** Expected assets ever below k + 1: shards on failed hosts × (k + m − 1) × per-host failure rate per block × W, with W = (threshold + 1) × livenessEpochSlots + auditEpochSlots. */
  analyticEverBelowKPlus1: number
  blockProcessingP50Ms: number
  blockProcessingP99Ms: number
  blockProcessingMaxMs: number
  /** CPU time of the block's work (when a cpuClock is given, else 0). */
  blockCpuP50Ms: number
  blockCpuP99Ms: number
  blockIntervalMs: number
}

interface SimHost {
  address: Address
  record: HostRecord
  dead: boolean
  /** Shards held: asset index × 256 + shard index. */
  shards: Set<number>
}

const defaults = DEFAULT_PARAMS
const SHARD_BYTES = 1n << 20n

function hostRecord(prng: Prng, height: number, vetted: boolean, params = defaults): HostRecord {
  return {
    params: {
      coord: { x: prng.int(params.gridSize), y: prng.int(params.gridSize), z: prng.int(params.gridSize) },
      zone: `zone-${prng.int(16)}`,
      capacityBytes: 1n << 40n,
      capabilities: 3,
      askPerFuel: BigInt(prng.int(100)),
      askPerByteEpoch: BigInt(prng.int(100)),
      peerId: 'sim',
      memoryBytes: 16n << 20n,
      encryptionKey: undefined,
    },
    reputation: vetted ? 7_000 + prng.int(3_001) : 5_000,
    status: HOST_STATUS.active,
    usedBytes: 0n,
    joinedHeight: height,
    failedAudits: 0,
    bond: 10_000n,
    passedChecks: vetted ? params.vettingPasses + prng.int(50) : 0,
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

export function runScaleSim(o: ScaleSimOptions): ScaleSimResult {
  const params = { ...defaults, livenessEpochSlots: o.livenessEpochSlots, livenessMissThreshold: o.livenessMissThreshold, livenessQuorumBlocks: o.livenessQuorumBlocks }
  // ---- finality ----
  const consensus = runConsensusSim({ seed: o.seed, validators: o.validators })

  // ---- storage ----
  const prng = new Prng(o.seed * 7_919 + 12)
  const index = new HostIndex(params)
  const hosts: SimHost[] = []
  const byHex = new Map<string, number>()
  const hostOf = (a: Address): HostRecord | undefined => {
    const i = byHex.get(toHex(a))
    return i === undefined ? undefined : hosts[i]!.record
  }
  // ---- liveness (the chain's livenessDue / livenessHost tables, as maps) ----
  const tracked = new Map<number, { due: number; misses: number }>()
  const dueSets = new Map<number, Set<number>>()
  const setDue = (i: number, next: { due: number; misses: number } | undefined): void => {
    const before = tracked.get(i)
    if (before) dueSets.get(before.due)?.delete(i)
    if (next === undefined) {
      tracked.delete(i)
      return
    }
    tracked.set(i, next)
    let set = dueSets.get(next.due)
    if (!set) dueSets.set(next.due, (set = new Set()))
    set.add(i)
  }
  const addHost = (height: number, vetted: boolean): void => {
    const address = hashParts(utf8('xsc-sim-scale/host'), u32be(o.seed), u32be(hosts.length))
    const h: SimHost = { address, record: hostRecord(prng, height, vetted, params), dead: false, shards: new Set() }
    byHex.set(toHex(address), hosts.length)
    hosts.push(h)
    index.upsert(address, h.record)
    // host.join starts tracking: due from the epoch after the join.
    if (o.liveness) setDue(hosts.length - 1, { due: computeLivenessEpoch(height, params.livenessEpochSlots) + 1, misses: 0 })
  }
  const setRecord = (i: number, record: HostRecord): void => {
    hosts[i]!.record = record
    index.upsert(hosts[i]!.address, record)
  }
  for (let i = 0; i < o.hosts; i++) addHost(0, true)

  const shards = o.k + o.m
  const manifest: Manifest = { size: SHARD_BYTES * BigInt(o.k), dataHash: ZERO_HASH, k: o.k, m: o.m, segmentSize: 4 << 20, shardSize: SHARD_BYTES, chunkSize: 256, shardHashes: Array(shards).fill(ZERO_HASH), chunkRoots: Array(shards).fill(ZERO_HASH) }
  const assets: { asset: Hash; record: AssetRecord; deploy: Parameters<typeof computeDeploymentRequest>[0] }[] = []
  /** Shards of each asset on live hosts (the ground truth the sim knows and the chain does not). */
  const healthy: number[] = []
  const everBelow = new Set<number>()
  const lostAssets = new Set<number>()
  let minHealthy = shards
  const noteHealth = (a: number): void => {
    const n = healthy[a]!
    if (n < minHealthy) minHealthy = n
    if (n < o.k + 1) everBelow.add(a)
    if (n < o.k) lostAssets.add(a)
  }
  const place = (a: number, shard: number, hostIdx: number): void => {
    const h = hosts[hostIdx]!
    h.shards.add(a * 256 + shard)
    setRecord(hostIdx, { ...h.record, usedBytes: h.record.usedBytes + SHARD_BYTES })
    if (!h.dead) healthy[a]!++
  }
  const unplace = (a: number, shard: number, hostIdx: number): void => {
    const h = hosts[hostIdx]!
    h.shards.delete(a * 256 + shard)
    setRecord(hostIdx, { ...h.record, usedBytes: h.record.usedBytes > SHARD_BYTES ? h.record.usedBytes - SHARD_BYTES : 0n })
    if (!h.dead) healthy[a]!--
  }

  const initialHosts = o.hosts
  /** Churn events due by `height` (integers, so the run's totals are exact). */
  const dueBy = (percent: number, height: number): number => Math.floor((Math.floor((initialHosts * percent) / 100) * height) / o.heights)
  /** A random live host (bounded tries: at these churn rates almost every draw is live). */
  const pickAlive = (): number | undefined => {
    for (let t = 0; t < 64; t++) {
      const i = prng.int(hosts.length)
      if (alive(i)) return i
    }
    return undefined
  }
  let hostsFailed = 0
  let hostsLeft = 0
  let hostsJoined = 0
  let challenges = 0
  let repairs = 0
  const detected = new Set<number>()
  /** Assets with a shard on a host that became lost (host-index mode). */
  const repairQueue = new Set<number>()
  // As isShardLost: repair starts at suspension.
  const lostStatus = (s: number): boolean => s === HOST_STATUS.draining || s === HOST_STATUS.suspended || s === HOST_STATUS.disqualified || s === HOST_STATUS.left
  const byzantine = Math.floor((o.validators * o.byzantinePercent) / 100)
  /** Round-robin proposers of equal stake; the Byzantine ones are validators 0..byzantine-1, a contiguous run. */
  const proposerOf = (height: number): number => height % Math.max(1, o.validators)
  let openEpoch = -1
  let epochBlocks = 0
  let epochProposers = new Set<number>()
  /** Live hosts' heartbeats by the block offset they reach the proposers at, and those waiting for an honest block. */
  let arrivals = new Map<number, number[]>()
  let waiting: number[] = []
  let heartbeatsIncluded = 0
  let heartbeatsPerBlockMax = 0
  let voidEpochs = 0
  let honestMisses = 0
  const honestSuspended = new Set<number>()
  const failedAt = new Map<number, number>()
  let detectionBlocksMax = 0
  let repairedWithinBlocksMax = 0
  /** Detected failed hosts whose shards are not all moved yet, with the height they failed at. */
  const awaitingRepair = new Map<number, number>()
  let failedShards = 0
  const closeEpoch = (e: number, epoch: number, height: number): void => {
    const counted = isLivenessEpochCounted({ blocks: epochBlocks, proposerStake: BigInt(epochProposers.size) }, BigInt(o.validators), params)
    if (!counted) voidEpochs++
    for (const i of [...(dueSets.get(e) ?? [])].sort((x, y) => x - y)) {
      const t = tracked.get(i)!
      const h = hosts[i]!
      if (!isLivenessTracked(h.record.status)) {
        setDue(i, undefined)
        continue
      }
      if (!counted) {
        setDue(i, { ...t, due: epoch })
        continue
      }
      const miss = computeLivenessMiss(h.address, h.record, t.misses, params, height)
      if (!h.dead) honestMisses++
      const nowLost = lostStatus(miss.record.status) && !lostStatus(h.record.status)
      if (miss.record !== h.record) setRecord(i, miss.record)
      if (nowLost) {
        for (const s of h.shards) repairQueue.add(Math.floor(s / 256))
        if (h.dead) {
          detected.add(i)
          detectionBlocksMax = Math.max(detectionBlocksMax, height - failedAt.get(i)!)
          awaitingRepair.set(i, failedAt.get(i)!)
        } else honestSuspended.add(i)
      }
      setDue(i, isLivenessTracked(miss.record.status) ? { due: epoch, misses: miss.misses } : undefined)
    }
    dueSets.delete(e)
    if (epoch > e + 1) for (const i of [...(dueSets.get(e + 1) ?? [])]) setDue(i, { ...tracked.get(i)!, due: epoch })
  }
  const blockMs: number[] = []
  const blockCpuMs: number[] = []
  const assetsPerAudit = computeAssetsPerAudit(o.auditSamplesPerBlock, shards)
  const alive = (i: number): boolean => !hosts[i]!.dead && !lostStatus(hosts[i]!.record.status)

  for (let height = 1; height <= o.heights; height++) {
    const t0 = o.clock()
    const c0 = o.cpuClock?.() ?? 0
    const blockSeed = hashParts(utf8('xsc-sim-scale/block'), u32be(o.seed), u32be(height))

    while (hostsFailed < dueBy(o.failPercent, height)) {
      const i = pickAlive()
      if (i === undefined) break
      hosts[i]!.dead = true
      hostsFailed++
      failedAt.set(i, height)
      failedShards += hosts[i]!.shards.size
      for (const s of hosts[i]!.shards) {
        const a = Math.floor(s / 256)
        healthy[a]!--
        noteHealth(a)
      }
    }
    while (hostsLeft < dueBy(o.leavePercent, height)) {
      const i = pickAlive()
      if (i === undefined) break
      setRecord(i, { ...hosts[i]!.record, status: HOST_STATUS.draining })
      hostsLeft++
      for (const s of hosts[i]!.shards) repairQueue.add(Math.floor(s / 256))
    }
    while (hostsJoined < dueBy(o.joinPercent, height)) {
      addHost(height, false)
      hostsJoined++
    }

    // Liveness: the epoch's first block closes the previous epoch; later blocks (not audit blocks) carry heartbeats.
    const isAuditBlock = height % params.auditEpochSlots === 0
    if (o.liveness) {
      const epoch = computeLivenessEpoch(height, params.livenessEpochSlots)
      if (epoch !== openEpoch) {
        if (openEpoch >= 0) closeEpoch(openEpoch, epoch, height)
        openEpoch = epoch
        epochBlocks = 0
        epochProposers = new Set()
        waiting = []
        // Each live host due now signs over the new mix and gossips (host-side work).
        arrivals = new Map()
        for (const i of [...(dueSets.get(epoch) ?? [])]) {
          if (hosts[i]!.dead) continue
          const at = 1 + prng.int(o.heartbeatDelayBlocks + 1)
          const list = arrivals.get(at) ?? []
          list.push(i)
          arrivals.set(at, list)
        }
      } else if (!isAuditBlock) {
        epochBlocks++
        const proposer = proposerOf(height)
        epochProposers.add(proposer)
        waiting.push(...(arrivals.get(height - epoch * params.livenessEpochSlots) ?? []))
        for (const [at, list] of arrivals) if (at < height - epoch * params.livenessEpochSlots) { waiting.push(...list); arrivals.delete(at) }
        arrivals.delete(height - epoch * params.livenessEpochSlots)
        if (proposer >= byzantine && waiting.length > 0) {
          waiting.sort((x, y) => x - y)
          const carried = waiting.splice(0, HEARTBEATS_PER_BUILT_BLOCK)
          heartbeatsIncluded += carried.length
          heartbeatsPerBlockMax = Math.max(heartbeatsPerBlockMax, carried.length)
          for (const i of carried) {
            const t = tracked.get(i)
            if (t === undefined || t.due > epoch) continue
            const restored = computeLivenessRestore(hosts[i]!.record, t.misses, params)
            if (restored !== hosts[i]!.record) setRecord(i, restored)
            setDue(i, { due: epoch + 1, misses: 0 })
          }
        }
      }
    }

    // Deploys: k + m hosts from the router, as a deployment block places them.
    for (let d = 0; d < o.deploysPerBlock && assets.length < o.assets; d++) {
      const a = assets.length
      const asset = hashParts(utf8('xsc-sim-scale/asset'), u32be(o.seed), u32be(a))
      const deploy = { origin: { x: prng.int(params.gridSize), y: prng.int(params.gridSize), z: prng.int(params.gridSize) }, manifest, bidPerByteEpoch: 200n, zones: [], strategy: 0 }
      const placement = route(computeDeploymentRequest(deploy), index, asset)
      if (placement.length !== shards) continue
      const record: AssetRecord = {
        owner: ZERO_HASH, kind: 0, manifest, placement, shardFailures: Array(shards).fill(0), deposit: 0n, bidPerByteEpoch: 200n, createdHeight: height,
        status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined,
      }
      assets.push({ asset, record, deploy })
      healthy.push(0)
      placement.forEach((h, s) => place(a, s, byHex.get(toHex(h))!))
      noteHealth(a)
    }

    // Audit block: one per audit epoch, a sample of assets, every acknowledged shard challenged.
    if (isAuditBlock && assets.length > 0) {
      const epoch = height / params.auditEpochSlots
      const sampled = computeAuditSamplePositions(blockSeed, epoch, assets.length, assetsPerAudit)
      const updated = new Map<number, HostRecord>()
      for (const a of sampled) {
        const { record } = assets[a]!
        for (let s = 0; s < shards; s++) {
          const hi = byHex.get(toHex(record.placement[s]!))!
          const h = hosts[hi]!
          challenges++
          const answered = !h.dead
          record.shardFailures[s] = answered ? 0 : Math.min(255, record.shardFailures[s]! + 1)
          const before = updated.get(hi) ?? h.record
          const cause = answered ? REPUTATION_CAUSE.auditPass : REPUTATION_CAUSE.auditNoAnswer
          updated.set(hi, computeReputationUpdate(h.address, before, cause, params, height, assets[a]!.asset).record)
        }
      }
      for (const [hi, record] of updated) {
        const was = hosts[hi]!.record.status
        setRecord(hi, record)
        if (hosts[hi]!.dead && record.status !== HOST_STATUS.active && !detected.has(hi)) {
          detected.add(hi)
          awaitingRepair.set(hi, failedAt.get(hi)!)
        }
        if (!lostStatus(was) && lostStatus(record.status)) for (const s of hosts[hi]!.shards) repairQueue.add(Math.floor(s / 256))
      }
      const candidates = new Set(sampled)
      if (o.repairMode === 'host-index') for (const a of [...repairQueue].sort((x, y) => x - y).slice(0, REPAIRS_PER_AUDIT)) candidates.add(a)
      let budget: number = LIMITS.auditResults
      for (const a of [...candidates].sort((x, y) => x - y)) {
        if (budget === 0) break
        const entry = assets[a]!
        const lost = computeShardsToRepair(entry.record, hostOf, params.auditFailThreshold)
        if (lost.length === 0) {
          repairQueue.delete(a)
          continue
        }
        if (shards - lost.length < o.k) continue // unrecoverable on chain: fewer than k shards to rebuild from
        let done = true
        for (const s of lost) {
          if (budget === 0) {
            done = false
            break
          }
          const placement = entry.record.placement
          const [to] = route({ ...computeDeploymentRequest(entry.deploy, placement), replicas: 1 }, index, hashParts(blockSeed, entry.asset, u32be(s)))
          if (to === undefined) {
            done = false
            continue
          }
          budget--
          repairs++
          const from = byHex.get(toHex(placement[s]!))!
          unplace(a, s, from)
          entry.record = { ...entry.record, placement: placement.map((h, i) => (i === s ? to : h)), shardFailures: entry.record.shardFailures.map((f, i) => (i === s ? 0 : f)) }
          place(a, s, byHex.get(toHex(to))!)
          if (hosts[from]!.record.status === HOST_STATUS.draining && hosts[from]!.shards.size === 0) setRecord(from, { ...hosts[from]!.record, status: HOST_STATUS.left })
        }
        if (done) repairQueue.delete(a)
        noteHealth(a)
      }
    }
    for (const [i, at] of awaitingRepair) {
      if (hosts[i]!.shards.size > 0) continue
      repairedWithinBlocksMax = Math.max(repairedWithinBlocksMax, height - at)
      awaitingRepair.delete(i)
    }
    blockMs.push(o.clock() - t0)
    blockCpuMs.push((o.cpuClock?.() ?? 0) - c0)
  }

  let belowAtEnd = 0
  for (let a = 0; a < assets.length; a++) if (healthy[a]! < o.k + 1) belowAtEnd++
  const sorted = blockMs.slice().sort((x, y) => x - y)
  const sortedCpu = blockCpuMs.slice().sort((x, y) => x - y)
  const round = (x: number): number => Math.round(x * 10) / 10
  return {
    seed: o.seed,
    validators: o.validators,
    consensusHeights: consensus.committedHeights,
    safetyViolations: consensus.safetyViolations.length,
    livenessFailures: consensus.livenessFailures.length,
    hosts: hosts.length,
    hostsJoined,
    hostsLeft,
    hostsFailed,
    assets: assets.length,
    heights: o.heights,
    k: o.k,
    m: o.m,
    repairMode: o.repairMode,
    auditSamplesPerBlock: o.auditSamplesPerBlock,
    challenges,
    repairs,
    minHealthyShards: minHealthy,
    assetsBelowKPlus1: everBelow.size,
    assetsBelowKPlus1AtEnd: belowAtEnd,
    assetsLost: lostAssets.size,
    failedHostsDetected: detected.size,
    liveness: o.liveness,
    livenessEpochSlots: params.livenessEpochSlots,
    livenessMissThreshold: params.livenessMissThreshold,
    byzantinePercent: o.byzantinePercent,
    heartbeatsIncluded,
    heartbeatsPerBlockMax,
    voidEpochs,
    honestHostMisses: honestMisses,
    honestHostsSuspended: honestSuspended.size,
    hostsFailedBeforeDetectionBound: [...failedAt.values()].filter((at) => at <= o.heights - (params.livenessMissThreshold + 1) * params.livenessEpochSlots).length,
    detectionBlocksMax,
    repairedWithinBlocksMax,
    analyticEverBelowKPlus1: Math.round((failedShards * (o.k + o.m - 1) * hostsFailed * ((params.livenessMissThreshold + 1) * params.livenessEpochSlots + params.auditEpochSlots)) / (o.hosts * o.heights)),
    blockProcessingP50Ms: round(percentile(sorted, 50)),
    blockProcessingP99Ms: round(percentile(sorted, 99)),
    blockProcessingMaxMs: round(sorted[sorted.length - 1] ?? 0),
    blockCpuP50Ms: round(percentile(sortedCpu, 50)),
    blockCpuP99Ms: round(percentile(sortedCpu, 99)),
    blockIntervalMs: o.blockIntervalMs,
  }
}
