import { describe, expect, expectTypeOf, it } from 'vitest'

import { decode, encode, enumOf } from '../../../blocks/codec.ts'
import { CodecError } from '../../../blocks/errors.ts'
import {
  type AuditEntry, BlockEntry, COMPLETION_STATUS, type CompletionEntry, type ExecutionEntry, type KvWrite,
  type Manifest, OUTCOME, type Payout, type Receipt, type ReputationChange, type SignedTx,
} from '../../../blocks/schema.ts'

describe('types inferred from the codecs (blocks/schema.ts)', () => {
  it('are the records the codecs encode, field for field (tsc checks these)', () => {
    expectTypeOf<Manifest>().toEqualTypeOf<{
      size: bigint
      dataHash: Uint8Array
      k: number
      m: number
      segmentSize: number
      shardSize: bigint
      chunkSize: number
      shardHashes: Uint8Array[]
      chunkRoots: Uint8Array[]
    }>()
    expectTypeOf<KvWrite>().toEqualTypeOf<{ key: Uint8Array; value: Uint8Array | undefined }>()
    expectTypeOf<ExecutionEntry>().toEqualTypeOf<{ type: 'execution'; tx: SignedTx; assignment: Uint8Array[]; escrow: bigint }>()
    expectTypeOf<CompletionEntry['type']>().toEqualTypeOf<'completion'>()
    expectTypeOf<CompletionEntry['receipts']>().toEqualTypeOf<Receipt[]>()
    expectTypeOf<AuditEntry['rent']>().toEqualTypeOf<Payout[]>()
    expectTypeOf<AuditEntry['reputation']>().toEqualTypeOf<ReputationChange[]>()
  })

  it('a named entry type is a block entry: it encodes and decodes as one', () => {
    const entry: CompletionEntry = {
      type: 'completion',
      executionId: new Uint8Array(32).fill(1),
      status: COMPLETION_STATUS.agreed,
      outcome: OUTCOME.ok,
      resultHash: new Uint8Array(32).fill(2),
      fuelUsed: 5n,
      output: new Uint8Array([9]),
      writeSet: [],
      receipts: [],
      payouts: [],
      refund: 0n,
      burn: 1n,
      reputation: [],
    }
    expect(decode(BlockEntry, encode(BlockEntry, entry))).toEqual(entry)
    expect(BlockEntry.variants.completion.tag).toBe(4)
  })
})

describe('enumOf', () => {
  const Kind = enumOf('kind', ['a', 'b', 'c'] as const)
  it('encodes a name as its index in the list, so the list order is the protocol', () => {
    expect(decode(Kind, encode(Kind, 'b'))).toBe('b')
    expect(encode(Kind, 'b')).toEqual(new Uint8Array([1]))
  })
  it('rejects an index past the list with UNKNOWN_TAG and a name not in it with a CodecError', () => {
    expect(() => decode(Kind, new Uint8Array([3]))).toThrow(expect.objectContaining({ code: 'UNKNOWN_TAG' }))
    expect(() => encode(Kind, 'd' as 'a')).toThrow(CodecError)
  })
})
