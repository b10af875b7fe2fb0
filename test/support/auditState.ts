import type { Address, ChainParams, GenesisConfig } from '../../blocks/schema.ts'
import { hash, hashParts, leafHash, toHex, u32be, utf8 } from '../../src/crypto/index.ts'
import { HostIndex } from '../../src/router/HostIndex.ts'
import type { ApplyContext } from '../../src/state/applyContext.ts'
import { DEFAULT_PARAMS } from '../../src/state/genesisJson.ts'
import { ASSET_STATUS, HOST_STATUS } from '../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../src/state/stateView.ts'
import { addToAuditIndex } from '../../src/state/storage/auditIndex.ts'
import type { ChunkProof } from '../../src/state/storage/computeChunkLeaves.ts'
import type { AuditChallenge } from '../../src/state/storage/deriveAuditChallenges.ts'
import { writeAssetRecord } from '../../src/state/storage/repairQueue.ts'
import { TABLES } from '../../src/state/tables.ts'
import { codingParamsOf, encodeAsset } from '../../src/storage/encodeAsset.ts'
import { testGenesis } from './chainFixtures.ts'

/**
 * A state holding `assets` stored assets (one real encoded payload under many asset ids, so every
 * honest answer is a real chunk proof) on `hosts` storage hosts, written directly rather than
 * through blocks. For the audit sampling tests and `npm run bench:audit`.
 */
export interface AuditStateOpts {
  assets: number
  hosts?: number
  /** Bytes of the payload every asset stores. */
  assetBytes?: number
  params?: Partial<ChainParams>
  createdHeight?: number
  /** Each host's bond (default 0: the router places nothing on them, so no repair finds a host). */
  hostBond?: bigint
}

export interface AuditState {
  state: MemoryState
  genesis: GenesisConfig
  assetIds: Uint8Array[]
  hostAddresses: Address[]
  /** An honest host's answer (undefined for hosts listed in `dropped`). */
  answer(challenge: AuditChallenge, dropped?: ReadonlySet<string>): ChunkProof | undefined
  /** Context of a block at `height` in audit epoch `epoch`, its parent hash derived from both. */
  context(height: number, epoch: number): ApplyContext
}

/** All levels of the src/crypto Merkle tree (odd node carried up), so many paths cost no rehashing. */
function treeLevels(leaves: Uint8Array[]): Uint8Array[][] {
  const levels = [leaves]
  while (levels[levels.length - 1]!.length > 1) {
    const level = levels[levels.length - 1]!
    const next: Uint8Array[] = []
    for (let j = 0; j < level.length; j += 2) next.push(j + 1 < level.length ? hashParts(new Uint8Array([1]), level[j]!, level[j + 1]!) : level[j]!)
    levels.push(next)
  }
  return levels
}

function pathOf(levels: Uint8Array[][], index: number): Uint8Array[] {
  const path: Uint8Array[] = []
  let i = index
  for (let l = 0; l < levels.length - 1; l++) {
    const sibling = i ^ 1
    if (sibling < levels[l]!.length) path.push(levels[l]![sibling]!)
    i >>= 1
  }
  return path
}

export function buildAuditState(opts: AuditStateOpts): AuditState {
  const params: ChainParams = { ...DEFAULT_PARAMS, ...opts.params }
  const genesis: GenesisConfig = { ...testGenesis(), params }
  const hostCount = opts.hosts ?? 60
  const shardsPerAsset = params.dataShards + params.parityShards
  const data = new Uint8Array(opts.assetBytes ?? 64 * 1024).map((_, i) => (i * 31 + 7) % 251)
  const { manifest, shards } = encodeAsset(data, codingParamsOf(params))
  const chunkSize = params.chunkSize
  const trees = shards.map((s) => {
    const leaves: Uint8Array[] = []
    for (let at = 0; at < s.length; at += chunkSize) leaves.push(leafHash(s.subarray(at, at + chunkSize)))
    return treeLevels(leaves)
  })
  const hostAddresses = Array.from({ length: hostCount }, (_, i) => hash(utf8(`audit-state-host-${i}`)))
  const state = new MemoryState()
  const s = new StateOverlay(state)
  const perHost = BigInt(Math.ceil((opts.assets * shardsPerAsset) / hostCount) + 1) * manifest.shardSize
  hostAddresses.forEach((address, i) => {
    s.write(TABLES.host.at(address), {
      params: { coord: { x: i % 100, y: (i * 7) % 100, z: (i * 13) % 100 }, zone: `z${i % 7}`, capacityBytes: perHost * 4n, capabilities: 1, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 0n, encryptionKey: undefined },
      reputation: 5000,
      status: HOST_STATUS.active,
      usedBytes: perHost,
      joinedHeight: 0,
      failedAudits: 0,
      bond: opts.hostBond ?? 0n,
      passedChecks: 0,
    })
  })
  const assetIds: Uint8Array[] = []
  for (let a = 0; a < opts.assets; a++) {
    const id = hash(u32be(a))
    assetIds.push(id)
    const placement = Array.from({ length: shardsPerAsset }, (_, i) => hostAddresses[(a * shardsPerAsset + i) % hostCount]!)
    writeAssetRecord(s, id, {
      owner: hash(utf8('audit-state-owner')),
      kind: 1,
      manifest,
      placement,
      shardFailures: placement.map(() => 0),
      deposit: 10n ** 15n,
      bidPerByteEpoch: 2n,
      createdHeight: opts.createdHeight ?? 1,
      status: ASSET_STATUS.active,
      exhaustedEpoch: undefined,
      zones: [],
      rentEpoch: 0,
      acked: [],
      ackDeadline: undefined,
    })
    addToAuditIndex(s, id)
  }
  state.apply(s.writeSet())
  const hostIndex = HostIndex.build(params, hostAddresses.map((address) => [address, s.read(TABLES.host.at(address))!] as const))
  return {
    state,
    genesis,
    assetIds,
    hostAddresses,
    answer(c, dropped) {
      if (dropped?.has(toHex(c.host))) return undefined
      const levels = trees[c.shardIndex]!
      return { chunk: shards[c.shardIndex]!.slice(c.chunkIndex * chunkSize, (c.chunkIndex + 1) * chunkSize), path: pathOf(levels, c.chunkIndex) }
    },
    context(height, epoch) {
      return { genesis, height, slot: epoch * params.auditEpochSlots, proposer: hostAddresses[0]!, prevHash: hashParts(utf8('audit-state-parent'), u32be(height), u32be(epoch)), beaconMix: hashParts(utf8('audit-state-parent'), u32be(height), u32be(epoch)), baseFee: 0n, hostIndex }
    },
  }
}
