import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { hash, leafHash, merkleProof, merkleRoot } from '../../../src/crypto/index.ts'
import { verifyAuditResponse } from '../../../src/net/audit.ts'
import { AuditChallenge, BlocksByRangeRequest, protocolId, RemoteErrorMessage, ShardPutRequest } from '../../../src/net/messages.ts'
import { GOSSIP_MAX_BYTES, topicName } from '../../../src/net/topics.ts'

describe('net messages', () => {
  it('round-trip through the canonical codec', () => {
    const put = { asset: hash(new Uint8Array([1])), shardIndex: 3, shardHash: hash(new Uint8Array([2])), size: 16n << 20n }
    expect(decode(ShardPutRequest, encode(ShardPutRequest, put))).toEqual(put)
    expect(decode(BlocksByRangeRequest, encode(BlocksByRangeRequest, { fromHeight: 7, count: 64 }))).toEqual({ fromHeight: 7, count: 64 })
    const ch = { asset: hash(new Uint8Array([3])), shardIndex: 5, chunkIndex: 1000 }
    expect(decode(AuditChallenge, encode(AuditChallenge, ch))).toEqual(ch)
  })

  it('refuse remote error codes outside the code alphabet', () => {
    expect(() => encode(RemoteErrorMessage, { code: 'not a code', message: '' })).toThrow()
  })

  it('name topics and protocols per chain', () => {
    expect(topicName('devnet', 'blocks')).toBe('/xsc/devnet/blocks/1')
    expect(protocolId('devnet', 'shard/get')).toBe('/xsc/devnet/shard/get/1')
    expect(GOSSIP_MAX_BYTES.consensus).toBeLessThan(GOSSIP_MAX_BYTES.transactions)
  })

  it('verify an audit answer against the chunk root and reject a wrong chunk or index', () => {
    const chunks = Array.from({ length: 7 }, (_, i) => new Uint8Array(64).fill(i))
    const leaves = chunks.map(leafHash)
    const root = merkleRoot(leaves)
    const res = { chunk: chunks[4]!, path: merkleProof(leaves, 4) }
    expect(verifyAuditResponse(res, { chunkRoot: root, chunkIndex: 4, chunkCount: 7 })).toBe(true)
    expect(verifyAuditResponse(res, { chunkRoot: root, chunkIndex: 3, chunkCount: 7 })).toBe(false)
    expect(verifyAuditResponse({ ...res, chunk: chunks[5]! }, { chunkRoot: root, chunkIndex: 4, chunkCount: 7 })).toBe(false)
  })
})
