import { describe, expect, it } from 'vitest'

import { ZERO_HASH } from '../../../src/crypto/index.ts'
import { type AssetFate, computeShardsToDrop } from '../../../src/node/shardJanitor.ts'
import { ASSET_STATUS, type AssetRecord } from '../../../src/state/records.ts'
import type { StoredShard } from '../../../src/storage/ShardStore.ts'
import { testKey } from '../../support/chainFixtures.ts'

const me = testKey('janitor-me').publicKey
const other = testKey('janitor-other').publicKey
const id = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const shard = (asset: number, shardIndex: number): StoredShard => ({ asset: id(asset), shardIndex, size: 10n, shardHash: ZERO_HASH })
const record = (placement: Uint8Array[], status: number = ASSET_STATUS.active): AssetRecord => ({
  owner: other, kind: 0, manifest: { size: 1n, dataHash: ZERO_HASH, k: 4, m: 2, segmentSize: 4, shardSize: 10n, chunkSize: 1, shardHashes: [], chunkRoots: [] },
  placement, shardFailures: placement.map(() => 0), deposit: 0n, bidPerByteEpoch: 0n, createdHeight: 0, status, exhaustedEpoch: undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined,
})

describe('which shards a host drops', () => {
  const fates = new Map<number, AssetFate>([
    [1, { kind: 'stored', record: record([me, other]) }],
    [2, { kind: 'deleted' }],
    [3, { kind: 'unknown' }],
    [4, { kind: 'stored', record: record([me, me], ASSET_STATUS.expired) }],
    [5, { kind: 'stored', record: record([me, me], ASSET_STATUS.graced) }],
  ])
  const drop = (stored: StoredShard[]): string[] => computeShardsToDrop(stored, me, (a) => fates.get(a[0]!)!).map((s) => `${s.asset[0]}/${s.shardIndex}`)

  it('keeps what the chain places here, also while graced, and what the chain does not know yet (uploaded before its deploy block)', () => {
    expect(drop([shard(1, 0), shard(3, 0), shard(3, 5), shard(5, 0), shard(5, 1)])).toEqual([])
  })

  it('drops deleted and expired assets, shards repaired to another host, and indexes beyond the placement', () => {
    expect(drop([shard(1, 0), shard(1, 1), shard(1, 9), shard(2, 0), shard(4, 1)])).toEqual(['1/1', '1/9', '2/0', '4/1'])
  })
})
