import { createHash } from 'node:crypto'

/** The one hash of the project: sha256, 32 bytes. node:crypto measured ~7x faster than noble here. */
export function hash(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest().buffer.slice(0, 32))
}

/** hash(a || b || ...) without building the concatenation. */
export function hashParts(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

export const HASH_BYTES = 32
export const ZERO_HASH: Uint8Array = new Uint8Array(32)
