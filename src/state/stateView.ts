import { compareBytes, hashParts } from '../crypto/index.ts'
import { bytes, decode, encode, list, optional, struct, type Codec } from '../../blocks/codec.ts'

/** Read access to committed state: synchronous, so the transition stays pure. */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined
}

/** One write of a block's write set: value undefined = delete. */
export interface StateWrite { key: Uint8Array; value: Uint8Array | undefined }

const keyId = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
const idKey = (id: string): Uint8Array => new Uint8Array(Buffer.from(id, 'latin1'))

/**
 * Committed state held in memory (the chain store loads it from disk at start and persists each
 * block's write set with the block). Map keys are latin1 strings of the key bytes.
 */
export class MemoryState implements StateReader {
  readonly #map = new Map<string, Uint8Array>()
  get(key: Uint8Array): Uint8Array | undefined {
    return this.#map.get(keyId(key))
  }
  apply(writes: readonly StateWrite[]): void {
    for (const w of writes) {
      if (w.value === undefined) this.#map.delete(keyId(w.key))
      else this.#map.set(keyId(w.key), w.value)
    }
  }
  get size(): number {
    return this.#map.size
  }
  /** Entries whose key starts with `prefix`, in key order (for queries, never for consensus loops over maps). */
  scan(prefix: Uint8Array): StateWrite[] {
    const p = keyId(prefix)
    const out: StateWrite[] = []
    for (const [k, v] of this.#map) if (k.startsWith(p)) out.push({ key: idKey(k), value: v })
    return out.sort((a, b) => compareBytes(a.key, b.key))
  }
}

/**
 * Pending writes over a reader: what a block's transition reads and writes. Typed accessors
 * decode/encode records with their codecs; `writeSet()` is sorted by key, so the write set and
 * its hash do not depend on the order in which the transition touched keys.
 */
export class StateOverlay implements StateReader {
  readonly #base: StateReader
  readonly #writes = new Map<string, Uint8Array | undefined>()
  constructor(base: StateReader) {
    this.#base = base
  }
  get(key: Uint8Array): Uint8Array | undefined {
    const id = keyId(key)
    return this.#writes.has(id) ? this.#writes.get(id) : this.#base.get(key)
  }
  set(key: Uint8Array, value: Uint8Array | undefined): void {
    this.#writes.set(keyId(key), value)
  }
  read<T>(codec: Codec<T>, key: Uint8Array): T | undefined {
    const bytes = this.get(key)
    return bytes === undefined ? undefined : decode(codec, bytes)
  }
  write<T>(codec: Codec<T>, key: Uint8Array, value: T | undefined): void {
    this.set(key, value === undefined ? undefined : encode(codec, value))
  }
  /** A child overlay: writes land in it and are merged into this one only on `commit`. */
  child(): StateOverlay {
    return new StateOverlay(this)
  }
  mergeInto(parent: StateOverlay): void {
    for (const [id, v] of this.#writes) parent.#writes.set(id, v)
  }
  writeSet(): StateWrite[] {
    const ids = [...this.#writes.keys()].sort()
    return ids.map((id) => ({ key: idKey(id), value: this.#writes.get(id) }))
  }
}

/** The write set's wire form (state values can be larger than an asset's KvWrite values). */
const StateWriteCodec: Codec<StateWrite> = struct('StateWrite', { key: bytes({ max: 1024 }), value: optional(bytes({ max: 1 << 24 })) })
const WriteSetCodec = list(StateWriteCodec, Number.MAX_SAFE_INTEGER)

/** hash of the canonical encoding of the sorted write set. */
export function computeWriteSetHash(writes: readonly StateWrite[]): Uint8Array {
  return hashParts(encode(WriteSetCodec, writes as StateWrite[]))
}

/** The chained state commitment of ARCHITECTURE.md §4: hash(prevStateRoot || hash(write set)). */
export function computeStateRoot(prevStateRoot: Uint8Array, writes: readonly StateWrite[]): Uint8Array {
  return hashParts(prevStateRoot, computeWriteSetHash(writes))
}
