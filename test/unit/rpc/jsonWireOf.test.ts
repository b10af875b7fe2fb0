import { describe, expect, it } from 'vitest'

import { bool, bytes, bytes32, enumOf, list, optional, str, struct, u8, u32, u64, u128, union, versioned } from '../../../blocks/codec.ts'
import { BlockEntry, BlockHeader, ChainParams, SignedTx } from '../../../blocks/schema.ts'
import { WireError } from '../../../src/rpc/errors.ts'
import { jsonWireOf } from '../../../src/rpc/jsonWireOf.ts'
import { type JsonSchema } from '../../../src/rpc/wire.ts'
import { ExecutionRecord } from '../../../src/state/records.ts'

const Sample = versioned('Sample', 1, struct('SampleFields', {
  small: u32,
  big: u64,
  amount: u128,
  flag: bool,
  id: bytes32,
  blob: bytes({ max: 4 }),
  label: str(8, /^[a-z]+$/),
  kind: enumOf('kind', ['a', 'b'] as const),
  maybe: optional(u8),
  items: list(u8, 3),
}))

const sample = {
  small: 7,
  big: (1n << 64n) - 1n,
  amount: 10n ** 30n,
  flag: true,
  id: new Uint8Array(32).fill(0xab),
  blob: new Uint8Array([1, 2]),
  label: 'abc',
  kind: 'b' as const,
  maybe: undefined,
  items: [1, 2],
}

describe('JSON forms derived from codecs', () => {
  it('follow the RPC conventions: integers ≤ u32 as numbers, wider ones as decimal strings, bytes as 0x-hex, absent as null, the versioned envelope as its fields', () => {
    expect(jsonWireOf(Sample).toJson(sample)).toEqual({
      small: 7,
      big: '18446744073709551615',
      amount: '1000000000000000000000000000000',
      flag: true,
      id: '0x' + 'ab'.repeat(32),
      blob: '0x0102',
      label: 'abc',
      kind: 'b',
      maybe: null,
      items: [1, 2],
    })
  })

  it('parse back to the domain value and refuse what the codec would refuse in size', () => {
    const wire = jsonWireOf(Sample)
    const json = JSON.parse(JSON.stringify(wire.toJson(sample))) as unknown
    expect(wire.fromJson(json, 's')).toEqual(sample)
    expect(() => wire.fromJson({ ...(json as object), blob: '0x0102030405' }, 's')).toThrow(WireError)
    expect(() => wire.fromJson({ ...(json as object), items: [1, 2, 3, 4] }, 's')).toThrow(WireError)
    expect(() => wire.fromJson({ ...(json as object), kind: 'c' }, 's')).toThrow(WireError)
    expect(() => wire.fromJson({ ...(json as object), big: '18446744073709551616' }, 's')).toThrow(WireError)
  })

  it('describe themselves in the codec\'s field order, titled by the codec, required unless optional', () => {
    const schema = jsonWireOf(Sample).schema
    expect(schema.title).toBe('Sample')
    expect(Object.keys(schema.properties as object)).toEqual(Object.keys(sample))
    expect(schema.required).toEqual(Object.keys(sample).filter((k) => k !== 'maybe'))
  })

  it('unions carry the variant name in `type`, one titled object per variant', () => {
    const Shape = union('Shape', { dot: { tag: 0, codec: struct('Dot', {}) }, line: { tag: 1, codec: struct('Line', { length: u32 }) } })
    const wire = jsonWireOf(Shape)
    expect(wire.toJson({ type: 'line', length: 3 })).toEqual({ type: 'line', length: 3 })
    expect(wire.fromJson({ type: 'dot' }, 's')).toEqual({ type: 'dot' })
    expect(() => wire.fromJson({ type: 'circle' }, 's')).toThrow(WireError)
    expect((wire.schema.oneOf as JsonSchema[]).map((v) => v.title)).toEqual(['Shape<dot>', 'Shape<line>'])
  })

  it('every field of a schema type appears on the RPC with the same name, in the same order', () => {
    const fieldNames = (s: JsonSchema): string[] => Object.keys(s.properties as object)
    expect(fieldNames(jsonWireOf(ChainParams).schema)).toEqual(Object.keys(ChainParams.shape.kind === 'struct' ? ChainParams.shape.fields : {}))
    expect(fieldNames(jsonWireOf(ExecutionRecord).schema)).toContain('origin')
    expect(fieldNames(jsonWireOf(BlockHeader).schema)).toEqual(['chainId', 'height', 'prevHash', 'kind', 'slot', 'timestamp', 'proposer', 'bodyRoot', 'stateRoot', 'baseFee', 'txBytes', 'round', 'beaconReveal', 'proofs', 'signature'])
    const completion = (jsonWireOf(BlockEntry).schema.oneOf as JsonSchema[]).find((v) => v.title === 'BlockEntry<completion>')!
    expect(fieldNames(completion)).toEqual(['type', ...fieldNames(jsonWireOf(BlockEntry.variants.completion.codec).schema)])
  })

  it('is derived once per codec: the same wire object every time', () => {
    expect(jsonWireOf(SignedTx)).toBe(jsonWireOf(SignedTx))
  })
})
