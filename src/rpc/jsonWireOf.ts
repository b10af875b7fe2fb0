import type { Codec } from '../../blocks/codec.ts'
import { bool, decimal, hexBytes, int, list, obj, oneOf, optional, str, taggedOf, uint, type Wire, type WireFields } from './wire.ts'

/**
 * The JSON-RPC form of a schema type, derived from its codec (blocks/codec.ts), so a type is
 * described once: u8..u32 are JSON integers, u64/u128 decimal strings, bytes 0x-hex, structs
 * objects with the same field names (titled by the codec's name), unions objects with the
 * variant name in `type`, optionals `null`, enums their name. A field added to blocks/schema.ts
 * appears on the RPC, in rpc.discover and in docs/rpc.md with no second edit.
 *
 * Strings keep only their length bound on the JSON side: the alphabet a codec enforces (chain
 * ids, proof scheme names) is checked when the value is encoded, and the published OpenRPC
 * schemas have never carried it.
 */
export function jsonWireOf<T>(codec: Codec<T>): Wire<T> {
  let wire = derived.get(codec)
  if (wire === undefined) {
    wire = derive(codec)
    derived.set(codec, wire)
  }
  return wire as Wire<T>
}

/** One wire per codec: the schema is built once, however often a type is reached. */
const derived = new WeakMap<Codec<unknown>, Wire<unknown>>()

function derive(codec: Codec<unknown>): Wire<unknown> {
  const shape = codec.shape
  switch (shape.kind) {
    case 'uint':
      return uint(shape.max)
    case 'int':
      return int(shape.min, shape.max)
    case 'bigUint':
      return decimal(shape.bits)
    case 'bool':
      return bool
    case 'bytes':
      return hexBytes({ exact: shape.exact, max: shape.max })
    case 'str':
      return str(shape.max)
    case 'enum':
      return oneOf(shape.values)
    case 'list':
      return list(jsonWireOf(shape.item), shape.max)
    case 'optional':
      return optional(jsonWireOf(shape.inner))
    case 'struct':
    case 'versioned':
      // A versioned envelope is its struct on the JSON side (no version field), titled by the envelope.
      return obj<Record<string, unknown>>(codec.name, fieldsOf(codec))
    case 'union':
      return taggedOf(codec.name, Object.fromEntries(Object.entries(shape.variants).map(([type, v]) => [type, fieldsOf(v.codec)])))
  }
}

function fieldsOf(codec: Codec<unknown>): WireFields<Record<string, unknown>> {
  const shape = codec.shape
  if (shape.kind === 'versioned') return fieldsOf(shape.inner)
  if (shape.kind !== 'struct') throw new TypeError(`${codec.name}: a JSON object needs a struct codec, got ${shape.kind}`)
  return Object.fromEntries(Object.entries(shape.fields).map(([name, field]) => [name, jsonWireOf(field)]))
}
