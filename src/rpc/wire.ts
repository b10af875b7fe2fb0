import { toHex } from '../crypto/bytes.ts'
import { WireError, type WireErrorCode } from './errors.ts'

/**
 * JSON wire combinators: the one description of how a domain value (bigint, Uint8Array, records)
 * looks on the JSON-RPC wire. Each `Wire<T>` formats (`toJson`), parses and validates
 * (`fromJson`) and describes itself (`schema`, JSON Schema for the OpenRPC document). The server
 * validates params and formats results with them; the client formats params and parses results
 * with the very same objects, so the two sides cannot drift.
 *
 * Conventions: amounts and other integers wider than u32 are decimal strings (JSON numbers lose
 * precision above 2^53); bytes are 0x-hex; optional values are `null`. Parsing checks sizes
 * before doing any work proportional to the input, and never recurses deeper than the schema.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonSchema = { readonly [key: string]: unknown }


export interface Wire<T> {
  readonly schema: JsonSchema
  toJson(value: T): Json
  fromJson(json: unknown, path: string): T
}

/** The domain type a wire carries: `type BlockView = InferWire<typeof BlockView>`. */
export type InferWire<W> = W extends Wire<infer T> ? T : never

function fail(code: WireErrorCode, path: string, message: string): never {
  throw new WireError(code, `${path}: ${message}`, { path })
}

/** Integers that fit a JSON number exactly (heights, slots, nonces, indices). */
export function uint(max: number): Wire<number> {
  return int(0, max)
}

/** Integers in min..max, signed ones included. */
export function int(min: number, max: number): Wire<number> {
  return {
    schema: { type: 'integer', minimum: min, maximum: max },
    toJson: (v) => v,
    fromJson: (j, path) => {
      if (typeof j !== 'number' || !Number.isInteger(j)) fail('WRONG_TYPE', path, 'expected an integer')
      if (j < min || j > max) fail('OUT_OF_RANGE', path, `expected ${min}..${max}`)
      return j
    },
  }
}

export const u8 = uint(0xff)
export const u16 = uint(0xffff)
export const u32 = uint(0xffff_ffff)

/** Unsigned bigints below 2^bits as canonical decimal strings (no sign, no leading zeros). */
export function decimal(bits: 64 | 128 | 256): Wire<bigint> {
  const max = (1n << BigInt(bits)) - 1n
  const maxDigits = max.toString().length
  return {
    schema: { type: 'string', pattern: '^(0|[1-9][0-9]*)$', maxLength: maxDigits, description: `u${bits} as a decimal string` },
    toJson: (v) => v.toString(),
    fromJson: (j, path) => {
      if (typeof j !== 'string') fail('WRONG_TYPE', path, 'expected a decimal string')
      if (j.length > maxDigits) fail('OUT_OF_RANGE', path, `more than ${maxDigits} digits`)
      if (!/^(0|[1-9][0-9]*)$/.test(j)) fail('WRONG_TYPE', path, 'expected a decimal string without sign or leading zeros')
      const v = BigInt(j)
      if (v > max) fail('OUT_OF_RANGE', path, `exceeds u${bits}`)
      return v
    },
  }
}

export const u64 = decimal(64)
export const amount = decimal(128)

const HEX_RE = /^0x(?:[0-9a-fA-F]{2})*$/

/** Byte strings as 0x-hex; `exact` fixes the length, else `max` bounds it. */
export function hexBytes(opts: { exact?: number; max?: number }): Wire<Uint8Array> {
  const maxBytes = opts.exact ?? opts.max
  const maxChars = maxBytes === undefined ? Infinity : 2 + 2 * maxBytes
  const schema: Record<string, unknown> = { type: 'string', pattern: opts.exact !== undefined ? `^0x[0-9a-fA-F]{${opts.exact * 2}}$` : '^0x([0-9a-fA-F]{2})*$' }
  if (opts.max !== undefined) schema.maxLength = maxChars
  return {
    schema,
    toJson: (v) => toHex(v),
    fromJson: (j, path) => {
      if (typeof j !== 'string') fail('WRONG_TYPE', path, 'expected 0x-hex')
      if (j.length > maxChars) fail('TOO_LARGE', path, `more than ${(maxChars - 2) / 2} bytes`)
      if (!HEX_RE.test(j)) fail('WRONG_TYPE', path, 'expected 0x-prefixed hex with an even number of digits')
      if (opts.exact !== undefined && j.length !== maxChars) fail('OUT_OF_RANGE', path, `expected ${opts.exact} bytes`)
      return new Uint8Array(Buffer.from(j.slice(2), 'hex'))
    },
  }
}

export const bytes32 = hexBytes({ exact: 32 })
export const bytes64 = hexBytes({ exact: 64 })

export function str(max: number, pattern?: RegExp): Wire<string> {
  const schema: Record<string, unknown> = { type: 'string', maxLength: max }
  if (pattern) schema.pattern = pattern.source
  return {
    schema,
    toJson: (v) => v,
    fromJson: (j, path) => {
      if (typeof j !== 'string') fail('WRONG_TYPE', path, 'expected a string')
      if (j.length > max) fail('TOO_LARGE', path, `longer than ${max}`)
      if (pattern && !pattern.test(j)) fail('OUT_OF_RANGE', path, `does not match ${pattern.source}`)
      return j
    },
  }
}

export const bool: Wire<boolean> = {
  schema: { type: 'boolean' },
  toJson: (v) => v,
  fromJson: (j, path) => {
    if (typeof j !== 'boolean') fail('WRONG_TYPE', path, 'expected a boolean')
    return j
  },
}

export function oneOf<const T extends string>(values: readonly T[]): Wire<T> {
  return {
    schema: { type: 'string', enum: values },
    toJson: (v) => v,
    fromJson: (j, path) => {
      if (typeof j !== 'string' || !(values as readonly string[]).includes(j)) fail('OUT_OF_RANGE', path, `expected one of ${values.join(', ')}`)
      return j as T
    },
  }
}

/** `null` (or an absent field) on the wire is `undefined` in the domain. */
export function optional<T>(inner: Wire<T>): Wire<T | undefined> {
  return {
    schema: { oneOf: [inner.schema, { type: 'null' }] },
    toJson: (v) => (v === undefined ? null : inner.toJson(v)),
    fromJson: (j, path) => (j === undefined || j === null ? undefined : inner.fromJson(j, path)),
  }
}

export function list<T>(item: Wire<T>, max: number): Wire<T[]> {
  return {
    schema: { type: 'array', items: item.schema, maxItems: max },
    toJson: (v) => v.map((x) => item.toJson(x)),
    fromJson: (j, path) => {
      if (!Array.isArray(j)) fail('WRONG_TYPE', path, 'expected an array')
      if (j.length > max) fail('TOO_LARGE', path, `more than ${max} items`)
      return j.map((x, i) => item.fromJson(x, `${path}[${i}]`))
    },
  }
}

export type WireFields<T> = { [K in keyof T]-?: Wire<T[K]> }

function isPlainObject(j: unknown): j is Record<string, unknown> {
  return typeof j === 'object' && j !== null && !Array.isArray(j)
}

/** A JSON object with named fields; unknown fields are ignored so old clients read new nodes. */
export function obj<T extends object>(name: string, fields: WireFields<T>): Wire<T> {
  const keys = Object.keys(fields) as (keyof T & string)[]
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  for (const k of keys) {
    const s = fields[k].schema
    properties[k] = s
    if (!isOptionalSchema(s)) required.push(k)
  }
  return {
    schema: { title: name, type: 'object', properties, required },
    toJson: (v) => {
      const out: { [key: string]: Json } = {}
      for (const k of keys) out[k] = fields[k].toJson(v[k])
      return out
    },
    fromJson: (j, path) => {
      if (!isPlainObject(j)) fail('WRONG_TYPE', path, `expected ${name} object`)
      const out = {} as T
      for (const k of keys) {
        const fieldPath = `${path}.${k}`
        const raw = Object.hasOwn(j, k) ? j[k] : undefined
        if (raw === undefined && !isOptionalSchema(fields[k].schema)) fail('MISSING', fieldPath, 'missing')
        out[k] = fields[k].fromJson(raw, fieldPath)
      }
      return out
    },
  }
}

function isOptionalSchema(s: JsonSchema): boolean {
  const alts = s.oneOf
  return Array.isArray(alts) && alts.some((a: unknown) => isPlainObject(a) && a.type === 'null')
}

/** A union discriminated by its `type` field, like the domain unions in blocks/schema.ts. */
export function tagged<T extends { type: string }>(name: string, variants: { [K in T['type']]: WireFields<Omit<Extract<T, { type: K }>, 'type'>> }): Wire<T> {
  return taggedOf(name, variants as Record<string, WireFields<object>>) as Wire<unknown> as Wire<T>
}

/** `tagged` for variants known only at run time (the JSON forms derived from codecs). */
export function taggedOf(name: string, variants: Record<string, WireFields<object>>): Wire<{ type: string }> {
  const byType = new Map<string, Wire<object>>()
  for (const [type, fields] of Object.entries(variants)) {
    byType.set(type, obj(`${name}<${type}>`, { type: oneOf([type]), ...fields } as WireFields<object>))
  }
  return {
    schema: { title: name, oneOf: [...byType.values()].map((w) => w.schema) },
    toJson: (v) => {
      const w = byType.get(v.type)
      if (w === undefined) throw new WireError('UNKNOWN_TAG', `${name}: unknown type ${v.type}`)
      return w.toJson(v)
    },
    fromJson: (j, path) => {
      if (!isPlainObject(j)) fail('WRONG_TYPE', path, `expected ${name} object`)
      const type = j.type
      const w = typeof type === 'string' ? byType.get(type) : undefined
      if (w === undefined) fail('UNKNOWN_TAG', `${path}.type`, `unknown ${name} type`)
      return w.fromJson(j, path) as { type: string }
    },
  }
}

/** Wraps a wire with a different title/description for the docs, same behaviour. */
export function described<T>(inner: Wire<T>, description: string): Wire<T> {
  return { ...inner, schema: { ...inner.schema, description } }
}
