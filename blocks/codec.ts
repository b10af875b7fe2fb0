import { Packr } from 'msgpackr'

import { CodecError } from './errors.ts'
import { writeWire } from './wireWriter.ts'

/**
 * Canonical encoding: msgpack of fixed-order arrays, described by small schema combinators.
 * The schema is the single description of a type's wire form: `toWire` maps a domain value to
 * plain msgpack values (arrays, u32 numbers, bin, str, bool), `fromWire` checks and maps back.
 *
 * Integers wider than u32 (amounts, fuel, timestamps) are bigints encoded as minimal big-endian
 * bin (zero is empty), so a value has exactly one byte form and msgpackr's float64/int64 choices
 * never enter consensus. `decode` re-encodes what it parsed and rejects input that differs from
 * the re-encoding: that one check covers trailing bytes, non-minimal ints, maps, floats, ext
 * types, and any other alternative spelling.
 */
export interface Codec<T> {
  readonly name: string
  /** What this codec is, so other forms of the same type (the JSON of src/rpc) are derived, not rewritten. */
  readonly shape: CodecShape
  toWire(value: T): unknown
  fromWire(wire: unknown, path: string): T
}

/** The domain type a codec describes: `type Manifest = Infer<typeof Manifest>`. */
export type Infer<C> = C extends Codec<infer T> ? T : never

/** A codec's description, one case per combinator below. */
export type CodecShape =
  | { kind: 'uint'; max: number }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'bigUint'; bits: 64 | 128 | 256 }
  | { kind: 'bool' }
  | { kind: 'bytes'; exact?: number; max?: number }
  | { kind: 'str'; max: number; pattern?: RegExp }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'list'; item: Codec<unknown>; max: number }
  | { kind: 'struct'; fields: Fields }
  | { kind: 'union'; variants: Variants }
  | { kind: 'versioned'; version: number; inner: Codec<unknown> }
  | { kind: 'optional'; inner: Codec<unknown> }

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, structuredClone: false, mapsAsObjects: true })

/** Largest encoded object accepted by decode: a guard before any parsing work. */
export const MAX_ENCODED_BYTES = 64 * 1024 * 1024

/** The value's one byte form (wireWriter.ts writes the wire value; msgpackr reads it back in `decode`). */
export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  return writeWire(codec.toWire(value))
}

export function decode<T>(codec: Codec<T>, bytes: Uint8Array): T {
  return decodeCheckedBy(codec, bytes, () => false)
}

/**
 * `decode` with a cheaper proof of canonicity where the caller has one: `canonical(value, bytes)`
 * returns true only when it proved `bytes` are `value`'s one encoding (say by re-encoding the one
 * variable part of a fixed layout and comparing it in place), false to have the whole value
 * re-encoded and compared as `decode` does. Non-canonical bytes are refused either way.
 */
export function decodeCheckedBy<T>(codec: Codec<T>, bytes: Uint8Array, canonical: (value: T, bytes: Uint8Array) => boolean): T {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('WRONG_TYPE', `${codec.name}: expected bytes`)
  if (bytes.length > MAX_ENCODED_BYTES) throw new CodecError('TOO_LARGE', `${codec.name}: ${bytes.length} bytes exceeds ${MAX_ENCODED_BYTES}`)
  let wire: unknown
  try {
    wire = packr.unpack(bytes)
  } catch (cause) {
    const trailing = cause instanceof Error && /end of buffer not reached/.test(cause.message)
    throw new CodecError(trailing ? 'TRAILING_BYTES' : 'MALFORMED', `${codec.name}: ${trailing ? 'trailing bytes' : 'not valid msgpack'}`, {}, { cause })
  }
  const value = codec.fromWire(wire, codec.name)
  if (!canonical(value, bytes) && !sameBytes(encode(codec, value), bytes)) throw new CodecError('NON_CANONICAL', `${codec.name}: not the canonical encoding`)
  return value
}

/**
 * Decodes bytes this node itself encoded and stored (state records): the type checks run, the
 * canonical re-encoding check is skipped. Never use it on bytes from the network.
 */
export function decodeTrusted<T>(codec: Codec<T>, bytes: Uint8Array): T {
  let wire: unknown
  try {
    wire = packr.unpack(bytes)
  } catch (cause) {
    throw new CodecError('MALFORMED', `${codec.name}: stored value is not valid msgpack`, {}, { cause })
  }
  return codec.fromWire(wire, codec.name)
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0
}

function fail(code: 'WRONG_TYPE' | 'OUT_OF_RANGE' | 'UNKNOWN_TAG' | 'UNKNOWN_VERSION' | 'TOO_LARGE', path: string, message: string): never {
  throw new CodecError(code, `${path}: ${message}`, { path })
}

// ---- primitives ----

function uintN(name: string, max: number): Codec<number> {
  return {
    name,
    shape: { kind: 'uint', max },
    toWire: (v) => {
      if (!Number.isInteger(v) || v < 0 || v > max) fail('OUT_OF_RANGE', name, `${v} is not a ${name}`)
      return v
    },
    fromWire: (w, path) => {
      if (typeof w !== 'number' || !Number.isInteger(w)) fail('WRONG_TYPE', path, `expected ${name}`)
      if (w < 0 || w > max) fail('OUT_OF_RANGE', path, `${w} is out of range for ${name}`)
      return w
    },
  }
}

export const u8 = uintN('u8', 0xff)
export const u16 = uintN('u16', 0xffff)
export const u32 = uintN('u32', 0xffff_ffff)

/** Up to 6 bytes (48 bits): converted through a JS number exactly. */
const MAX_SMALL_BIG = (1n << 48n) - 1n

/** Unsigned bigint below 2^bits, as minimal big-endian bin. */
export function bigUint(bits: 64 | 128 | 256): Codec<bigint> {
  const max = (1n << BigInt(bits)) - 1n
  const maxBytes = bits / 8
  const name = `u${bits}`
  return {
    name,
    shape: { kind: 'bigUint', bits },
    toWire: (v) => {
      if (typeof v !== 'bigint' || v < 0n || v > max) fail('OUT_OF_RANGE', name, `${String(v)} is not a ${name}`)
      if (v === 0n) return new Uint8Array(0)
      // Most amounts, fees and fuel fit in 48 bits: their bytes by plain arithmetic, no hex string.
      if (v <= MAX_SMALL_BIG) {
        let n = Number(v)
        let len = 0
        for (let m = n; m > 0; m = Math.floor(m / 256)) len++
        const out = new Uint8Array(len)
        for (let i = len - 1; i >= 0; i--, n = Math.floor(n / 256)) out[i] = n % 256
        return out
      }
      let hex = v.toString(16)
      if (hex.length % 2) hex = '0' + hex
      return Buffer.from(hex, 'hex')
    },
    fromWire: (w, path) => {
      if (!(w instanceof Uint8Array)) fail('WRONG_TYPE', path, `expected ${name} as bytes`)
      if (w.length > maxBytes) fail('OUT_OF_RANGE', path, `${name} longer than ${maxBytes} bytes`)
      if (w.length === 0) return 0n
      // A leading zero byte is non-canonical; decode() catches it by re-encoding.
      if (w.length <= 6) {
        let n = 0
        for (let i = 0; i < w.length; i++) n = n * 256 + w[i]!
        return BigInt(n)
      }
      return BigInt('0x' + Buffer.from(w.buffer, w.byteOffset, w.length).toString('hex'))
    },
  }
}

export const u64 = bigUint(64)
export const u128 = bigUint(128)

/** Signed 32-bit integers (e.g. a BFT valid round, −1 for none), msgpack's own minimal int forms. */
export const i32: Codec<number> = {
  name: 'i32',
  shape: { kind: 'int', min: -0x8000_0000, max: 0x7fff_ffff },
  toWire: (v) => {
    if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) fail('OUT_OF_RANGE', 'i32', `${v} is not an i32`)
    return v
  },
  fromWire: (w, path) => {
    if (typeof w !== 'number' || !Number.isInteger(w) || w < -0x8000_0000 || w > 0x7fff_ffff) fail('WRONG_TYPE', path, 'expected i32')
    return w
  },
}

export const bool: Codec<boolean> = {
  name: 'bool',
  shape: { kind: 'bool' },
  toWire: (v) => {
    if (typeof v !== 'boolean') fail('WRONG_TYPE', 'bool', 'expected boolean')
    return v
  },
  fromWire: (w, path) => {
    if (typeof w !== 'boolean') fail('WRONG_TYPE', path, 'expected boolean')
    return w
  },
}

/** Byte strings; `exact` fixes the length (hashes, keys, signatures), else `max` bounds it. */
export function bytes(opts: { exact?: number; max?: number } = {}): Codec<Uint8Array> {
  const name = opts.exact !== undefined ? `bytes${opts.exact}` : 'bytes'
  const check = (len: number, path: string): void => {
    if (opts.exact !== undefined && len !== opts.exact) fail('OUT_OF_RANGE', path, `expected ${opts.exact} bytes, got ${len}`)
    if (opts.max !== undefined && len > opts.max) fail('TOO_LARGE', path, `${len} bytes exceeds ${opts.max}`)
  }
  return {
    name,
    shape: { kind: 'bytes', ...opts },
    toWire: (v) => {
      if (!(v instanceof Uint8Array)) fail('WRONG_TYPE', name, 'expected Uint8Array')
      check(v.length, name)
      return v
    },
    fromWire: (w, path) => {
      if (!(w instanceof Uint8Array)) fail('WRONG_TYPE', path, 'expected bytes')
      check(w.length, path)
      return new Uint8Array(w) // own copy: msgpackr may hand out views of a shared buffer
    },
  }
}

export const bytes32 = bytes({ exact: 32 })
export const bytes64 = bytes({ exact: 64 })

/** UTF-8 strings bounded in characters; `pattern` restricts the alphabet where it matters. */
export function str(max: number, pattern?: RegExp): Codec<string> {
  const check = (v: string, path: string): void => {
    if (v.length > max) fail('TOO_LARGE', path, `string longer than ${max}`)
    // A lone surrogate has no UTF-8 form: the writer would sign U+FFFD while this node kept the surrogate.
    if (!(v as string & { isWellFormed(): boolean }).isWellFormed()) fail('OUT_OF_RANGE', path, 'string has a lone surrogate (not well-formed UTF-16)')
    if (pattern && !pattern.test(v)) fail('OUT_OF_RANGE', path, `string does not match ${pattern}`)
  }
  return {
    name: 'str',
    shape: pattern === undefined ? { kind: 'str', max } : { kind: 'str', max, pattern },
    toWire: (v) => {
      if (typeof v !== 'string') fail('WRONG_TYPE', 'str', 'expected string')
      check(v, 'str')
      return v
    },
    fromWire: (w, path) => {
      if (typeof w !== 'string') fail('WRONG_TYPE', path, 'expected string')
      check(w, path)
      return w
    },
  }
}

export function list<T>(item: Codec<T>, max: number): Codec<T[]> {
  return {
    name: `list<${item.name}>`,
    shape: { kind: 'list', item, max },
    toWire: (v) => {
      if (!Array.isArray(v)) fail('WRONG_TYPE', 'list', 'expected array')
      if (v.length > max) fail('TOO_LARGE', 'list', `more than ${max} items`)
      return v.map((x) => item.toWire(x))
    },
    fromWire: (w, path) => {
      if (!Array.isArray(w)) fail('WRONG_TYPE', path, 'expected array')
      if (w.length > max) fail('TOO_LARGE', path, `more than ${max} items`)
      return w.map((x, i) => item.fromWire(x, `${path}[${i}]`))
    },
  }
}

type Fields = Record<string, Codec<unknown>>
type Variants = Record<string, { tag: number; codec: Codec<unknown> }>

/** A record as a fixed-order array: the key order given here is the wire order. */
export function struct<T extends object>(name: string, fields: { [K in keyof T]: Codec<T[K]> }): Codec<T> {
  const keys = Object.keys(fields) as (keyof T & string)[]
  const codecs = keys.map((k) => fields[k])
  const codec: Codec<T> & StructParts = {
    name,
    shape: { kind: 'struct', fields: fields as Fields },
    toWire: (v) => codec.fieldsToWire(v, undefined),
    fromWire: (w, path) => {
      if (!Array.isArray(w)) fail('WRONG_TYPE', path, `expected ${name} array`)
      return codec.fieldsFromWire(w, 0, path, {}) as T
    },
    fieldsToWire: (v, head) => {
      if (typeof v !== 'object' || v === null) fail('WRONG_TYPE', name, 'expected object')
      const at = head === undefined ? 0 : 1
      const out = new Array<unknown>(keys.length + at)
      if (head !== undefined) out[0] = head
      for (let i = 0; i < keys.length; i++) out[i + at] = codecs[i]!.toWire((v as T)[keys[i]!])
      return out
    },
    fieldsFromWire: (w, at, path, out) => {
      if (w.length - at !== keys.length) fail('WRONG_TYPE', path, `${name} has ${keys.length} fields, got ${w.length - at}`)
      for (let i = 0; i < keys.length; i++) (out as Record<string, unknown>)[keys[i]!] = codecs[i]!.fromWire(w[i + at], `${path}.${keys[i]!}`)
      return out
    },
  }
  return codec
}

/**
 * What a struct codec offers the union and versioned envelopes: its fields written after a head
 * (tag or version) in one array, and read from an offset into a given object, so neither copies
 * arrays nor spreads objects on every value.
 */
interface StructParts {
  fieldsToWire(v: unknown, head: number | undefined): unknown[]
  fieldsFromWire(w: unknown[], at: number, path: string, out: object): object
}

function structPartsOf(codec: Codec<unknown>): StructParts | undefined {
  return 'fieldsToWire' in codec ? (codec as unknown as StructParts) : undefined
}

/** Each variant's codec, by variant name: what `union` takes and keeps. */
export type UnionVariants<T> = { [K in keyof T]: { tag: number; codec: Codec<T[K]> } }

/**
 * A union codec: its domain type has, per variant, the variant's fields and its name in `type`
 * (one flat object each, spelled out inline so editors show the fields, not an alias). It keeps
 * its variants, so one variant's fields can be named (e.g. a completion entry without `type`).
 */
export type UnionCodec<T> = Codec<{ [K in keyof T & string]: Flat<{ type: K } & T[K]> }[keyof T & string]> & { readonly variants: UnionVariants<T> }
type Flat<T> = T extends infer O ? { [P in keyof O]: O[P] } : never

/**
 * A tagged union as `[tag, ...fields]`. Tags are protocol constants: never renumber or reuse.
 * The domain value carries its variant name in `type`; each variant's codec is a struct.
 */
export function union<T extends object>(name: string, variants: UnionVariants<T>): UnionCodec<T> {
  const byType = new Map<string, { tag: number; codec: Codec<unknown>; parts: StructParts | undefined }>(Object.entries(variants as Variants).map(([type, v]) => [type, { ...v, parts: structPartsOf(v.codec) }]))
  const byTag = new Map<number, { type: string; codec: Codec<unknown>; parts: StructParts | undefined }>()
  for (const [type, v] of byType) {
    if (byTag.has(v.tag)) throw new Error(`${name}: tag ${v.tag} used twice`)
    byTag.set(v.tag, { type, codec: v.codec, parts: v.parts })
  }
  return {
    name,
    shape: { kind: 'union', variants: variants as Variants },
    variants,
    toWire: (v) => {
      const type: unknown = (v as { type?: unknown } | undefined)?.type
      const variant = typeof type === 'string' ? byType.get(type) : undefined
      if (variant === undefined) fail('UNKNOWN_TAG', name, `unknown ${name} type ${String(type)}`)
      if (variant.parts !== undefined) return variant.parts.fieldsToWire(v, variant.tag)
      const fields = variant.codec.toWire(v) as unknown[]
      return [variant.tag, ...fields]
    },
    fromWire: (w, path) => {
      if (!Array.isArray(w) || w.length === 0) fail('WRONG_TYPE', path, `expected ${name} array`)
      const tag = w[0]
      const variant = typeof tag === 'number' ? byTag.get(tag) : undefined
      if (variant === undefined) fail('UNKNOWN_TAG', path, `unknown ${name} tag ${String(tag)}`)
      if (variant.parts !== undefined) return variant.parts.fieldsFromWire(w, 1, `${path}<${variant.type}>`, { type: variant.type }) as Infer<UnionCodec<T>>
      const body = variant.codec.fromWire(w.slice(1), `${path}<${variant.type}>`) as object
      return { type: variant.type, ...body } as unknown as Infer<UnionCodec<T>>
    },
  }
}

/** One of a fixed list of names, as its u8 index in the list: the list order is a protocol constant. */
export function enumOf<const T extends string>(name: string, values: readonly T[]): Codec<T> {
  return {
    name,
    shape: { kind: 'enum', values },
    toWire: (v) => {
      const i = values.indexOf(v)
      if (i < 0) fail('OUT_OF_RANGE', name, `unknown ${name} ${String(v)}`)
      return i
    },
    fromWire: (w, path) => {
      const i = u8.fromWire(w, path)
      const value = values[i]
      if (value === undefined) fail('UNKNOWN_TAG', path, `unknown ${name} ${i}`)
      return value
    },
  }
}

/** A versioned envelope: `[version, ...value]`, rejecting versions it does not know. */
export function versioned<T>(name: string, version: number, inner: Codec<T>): Codec<T> {
  const parts = structPartsOf(inner)
  return {
    name,
    shape: { kind: 'versioned', version, inner },
    toWire: (v) => (parts !== undefined ? parts.fieldsToWire(v, version) : [version, ...(inner.toWire(v) as unknown[])]),
    fromWire: (w, path) => {
      if (!Array.isArray(w) || w.length === 0) fail('WRONG_TYPE', path, `expected ${name}`)
      if (w[0] !== version) fail('UNKNOWN_VERSION', path, `unknown ${name} version ${String(w[0])}`)
      return parts !== undefined ? (parts.fieldsFromWire(w, 1, path, {}) as T) : inner.fromWire(w.slice(1), path)
    },
  }
}

/** Optional values as a 0- or 1-element array (msgpack nil would be a second "absent" spelling). */
export function optional<T>(inner: Codec<T>): Codec<T | undefined> {
  return {
    name: `optional<${inner.name}>`,
    shape: { kind: 'optional', inner },
    toWire: (v) => (v === undefined ? [] : [inner.toWire(v)]),
    fromWire: (w, path) => {
      if (!Array.isArray(w) || w.length > 1) fail('WRONG_TYPE', path, 'expected optional')
      return w.length === 0 ? undefined : inner.fromWire(w[0], path)
    },
  }
}
