import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

import { BlobError } from './errors.ts'

/**
 * Encryption at rest for blobs, done by the client before erasure coding, so hosts and
 * validators only ever hold ciphertext. AES-256-GCM over fixed-size plaintext segments (STREAM
 * construction, Hoang–Reyhanitabar–Rogaway–Vizár 2015): a segment can be checked and released
 * alone, so memory stays at one segment whatever the blob's size.
 *
 * Layout: header ‖ segment 0 ‖ segment 1 ‖ … where
 *   header  = "XSCENC01" (8) ‖ u32be plaintext segment size ‖ salt (32)
 *   segment = AES-256-GCM(key, nonce(i, last), aad = header, plaintext segment i) ‖ tag (16)
 *   nonce   = u8(last ? 1 : 0) ‖ 0x000000 ‖ u64be(i)
 *   key     = HKDF-SHA256(ikm = owner's ed25519 seed, salt, info = "XSC/blob/v1" ‖ owner public key)
 * Every segment but the last holds exactly `segmentBytes` of plaintext; an empty blob is one empty
 * last segment. The last flag in the nonce makes truncation at a segment boundary fail the tag.
 *
 * The salt is random per blob and public: it names the asset's key. (The asset id cannot be the
 * salt: it is the deploy tx's id, which hashes the manifest of these very bytes.) A fresh key per
 * blob is what makes counter nonces safe, and two uploads of one file look unrelated.
 */
export const BLOB_MAGIC = new TextEncoder().encode('XSCENC01')
export const BLOB_HEADER_BYTES = BLOB_MAGIC.length + 4 + 32
export const BLOB_TAG_BYTES = 16
export const DEFAULT_BLOB_SEGMENT_BYTES = 1 << 20
const MIN_SEGMENT_BYTES = 1024
const MAX_SEGMENT_BYTES = 64 << 20
const KEY_INFO = new TextEncoder().encode('XSC/blob/v1')

/** The part of an account key this layer uses: the ed25519 seed and its public key. */
export interface BlobOwnerKey { secretKey: Uint8Array; publicKey: Uint8Array }

export interface BlobHeader { segmentBytes: number; salt: Uint8Array; bytes: Uint8Array }

export function encodeBlobHeader(segmentBytes: number, salt: Uint8Array): Uint8Array {
  if (!Number.isInteger(segmentBytes) || segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_SEGMENT_BYTES) {
    throw new BlobError('BAD_HEADER', `segment size ${segmentBytes} outside ${MIN_SEGMENT_BYTES}..${MAX_SEGMENT_BYTES}`, { reason: 'segment size' })
  }
  if (salt.length !== 32) throw new BlobError('BAD_HEADER', 'salt must be 32 bytes', { reason: 'salt length' })
  const out = new Uint8Array(BLOB_HEADER_BYTES)
  out.set(BLOB_MAGIC, 0)
  new DataView(out.buffer).setUint32(BLOB_MAGIC.length, segmentBytes)
  out.set(salt, BLOB_MAGIC.length + 4)
  return out
}

/** True when `bytes` start with the encrypted-blob magic (what `xsc get` checks before decrypting). */
export function isEncryptedBlob(bytes: Uint8Array): boolean {
  return bytes.length >= BLOB_MAGIC.length && BLOB_MAGIC.every((b, i) => bytes[i] === b)
}

export function decodeBlobHeader(bytes: Uint8Array): BlobHeader {
  if (!isEncryptedBlob(bytes)) throw new BlobError('NOT_ENCRYPTED', 'the blob has no encryption header (it was stored with --public, or is not a blob)')
  if (bytes.length < BLOB_HEADER_BYTES) throw new BlobError('TRUNCATED', 'the encryption header is cut short', { segment: -1 })
  const segmentBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(BLOB_MAGIC.length)
  const header = bytes.slice(0, BLOB_HEADER_BYTES)
  // Re-encoding checks the fields' ranges with the same rules the writer used.
  encodeBlobHeader(segmentBytes, header.subarray(BLOB_MAGIC.length + 4))
  return { segmentBytes, salt: header.slice(BLOB_MAGIC.length + 4), bytes: header }
}

/** The blob key: never leaves the client, never sent anywhere. */
export function deriveBlobKey(owner: BlobOwnerKey, salt: Uint8Array): Uint8Array {
  const info = new Uint8Array(KEY_INFO.length + owner.publicKey.length)
  info.set(KEY_INFO, 0)
  info.set(owner.publicKey, KEY_INFO.length)
  return new Uint8Array(hkdfSync('sha256', owner.secretKey, salt, info, 32))
}

function nonceOf(segment: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12)
  nonce[0] = last ? 1 : 0
  new DataView(nonce.buffer).setBigUint64(4, BigInt(segment))
  return nonce
}

/** Size of the ciphertext of `plainBytes` bytes (header, data, one tag per segment). */
export function computeEncryptedSize(plainBytes: number, segmentBytes = DEFAULT_BLOB_SEGMENT_BYTES): number {
  const segments = Math.max(1, Math.ceil(plainBytes / segmentBytes))
  return BLOB_HEADER_BYTES + plainBytes + segments * BLOB_TAG_BYTES
}

/** Size of the plaintext inside a ciphertext of `cipherBytes` bytes (throws when no plaintext size fits). */
export function computePlainSize(cipherBytes: number, segmentBytes: number): number {
  const body = cipherBytes - BLOB_HEADER_BYTES
  const full = segmentBytes + BLOB_TAG_BYTES
  const segments = Math.max(1, Math.ceil(body / full))
  const plain = body - segments * BLOB_TAG_BYTES
  if (body < BLOB_TAG_BYTES || plain < 0 || computeEncryptedSize(plain, segmentBytes) !== cipherBytes) {
    throw new BlobError('TRUNCATED', `${cipherBytes} bytes is no whole encrypted blob`, { segment: segments - 1 })
  }
  return plain
}

export interface EncryptOpts {
  segmentBytes?: number
  /** 32 bytes; random unless given (tests and re-encryption for a second pass give it). */
  salt?: Uint8Array
  /**
   * The plaintext's length, when known (a file): each segment is sealed as soon as it is whole,
   * with no piece held back to learn which is last, and a whole segment at the start of a source
   * chunk is sealed where it lies, without a copy. A source giving another length is SIZE_MISMATCH.
   */
  plainSize?: number
}

class SegmentSealer {
  readonly header: Uint8Array
  readonly #key: Uint8Array
  #index = 0
  constructor(owner: BlobOwnerKey, segmentBytes: number, salt: Uint8Array) {
    this.header = encodeBlobHeader(segmentBytes, salt)
    this.#key = deriveBlobKey(owner, salt)
  }
  seal(plain: Uint8Array, last: boolean): Uint8Array[] {
    const c = createCipheriv('aes-256-gcm', this.#key, nonceOf(this.#index++, last))
    c.setAAD(this.header)
    const body = c.update(plain)
    c.final()
    return [body, c.getAuthTag()]
  }
}

class SegmentOpener {
  readonly #key: Uint8Array
  readonly #header: Uint8Array
  #index = 0
  constructor(owner: BlobOwnerKey, header: BlobHeader) {
    this.#header = header.bytes
    this.#key = deriveBlobKey(owner, header.salt)
  }
  open(segment: Uint8Array, last: boolean): Uint8Array {
    const index = this.#index++
    if (segment.length < BLOB_TAG_BYTES) throw new BlobError('TRUNCATED', `segment ${index} is shorter than its tag`, { segment: index })
    const d = createDecipheriv('aes-256-gcm', this.#key, nonceOf(index, last))
    d.setAAD(this.#header)
    d.setAuthTag(segment.subarray(segment.length - BLOB_TAG_BYTES))
    const plain = d.update(segment.subarray(0, segment.length - BLOB_TAG_BYTES))
    try {
      d.final()
    } catch (cause) {
      throw new BlobError('AUTH_FAILED', `segment ${index} failed authentication: wrong key, or the bytes were changed or cut`, { segment: index }, { cause })
    }
    return plain
  }
}

/** Collects a byte stream into fixed-size pieces, holding back one so the caller knows which is last. */
async function* fixedPieces(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<{ piece: Uint8Array; last: boolean }> {
  let buf = new Uint8Array(size)
  let fill = 0
  let pending: Uint8Array | undefined
  for await (const chunk of source) {
    let at = 0
    while (at < chunk.length) {
      if (fill === size) {
        if (pending !== undefined) yield { piece: pending, last: false }
        pending = buf
        buf = new Uint8Array(size)
        fill = 0
      }
      const n = Math.min(size - fill, chunk.length - at)
      buf.set(chunk.subarray(at, at + n), fill)
      fill += n
      at += n
    }
  }
  if (fill > 0) {
    if (pending !== undefined) yield { piece: pending, last: false }
    yield { piece: buf.subarray(0, fill), last: true }
  } else if (pending !== undefined) {
    yield { piece: pending, last: true }
  } else {
    yield { piece: new Uint8Array(0), last: true }
  }
}

/** Encrypts a plaintext stream into the layout above; memory is two segments. */
export async function* encryptBlobStream(source: AsyncIterable<Uint8Array>, owner: BlobOwnerKey, opts: EncryptOpts = {}): AsyncGenerator<Uint8Array> {
  const segmentBytes = opts.segmentBytes ?? DEFAULT_BLOB_SEGMENT_BYTES
  const sealer = new SegmentSealer(owner, segmentBytes, opts.salt ?? randomBytes(32))
  yield sealer.header
  const pieces = opts.plainSize === undefined ? fixedPieces(source, segmentBytes) : sizedPieces(source, segmentBytes, opts.plainSize)
  for await (const { piece, last } of pieces) yield* sealer.seal(piece, last)
}

/**
 * fixedPieces for a source of known length: a piece is given as soon as it is whole (its `last` is
 * known from the count), and one that lies whole at the start of a chunk is given as a view of it.
 * The consumer must be done with a piece before it asks for the next (seal copies it out).
 */
async function* sizedPieces(source: AsyncIterable<Uint8Array>, size: number, total: number): AsyncGenerator<{ piece: Uint8Array; last: boolean }> {
  const buf = new Uint8Array(Math.min(size, total))
  let fill = 0
  let given = 0
  const piece = (bytes: Uint8Array): { piece: Uint8Array; last: boolean } => {
    given += bytes.length
    if (given > total) throw new BlobError('SIZE_MISMATCH', `the source gave more than the ${total} bytes it was said to hold`, { expected: total, got: given })
    return { piece: bytes, last: given === total }
  }
  for await (const chunk of source) {
    let at = 0
    while (at < chunk.length) {
      if (fill === 0 && chunk.length - at >= size) {
        yield piece(chunk.subarray(at, at + size))
        at += size
        continue
      }
      const n = Math.min(size - fill, chunk.length - at)
      if (given + fill + n > total) throw new BlobError('SIZE_MISMATCH', `the source gave more than the ${total} bytes it was said to hold`, { expected: total, got: given + fill + n })
      buf.set(chunk.subarray(at, at + n), fill)
      fill += n
      at += n
      if (fill === size || given + fill === total) {
        yield piece(buf.subarray(0, fill))
        fill = 0
      }
    }
  }
  if (total === 0) yield { piece: new Uint8Array(0), last: true }
  else if (given !== total) throw new BlobError('SIZE_MISMATCH', `the source gave ${given + fill} of the ${total} bytes it was said to hold`, { expected: total, got: given + fill })
}

/** Reads the header from the first bytes of a stream, then decrypts segment by segment; a bad tag throws before its plaintext is yielded. */
export async function* decryptBlobStream(source: AsyncIterable<Uint8Array>, owner: BlobOwnerKey): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]()
  const head: Uint8Array[] = []
  let headLength = 0
  while (headLength < BLOB_HEADER_BYTES) {
    const r = await it.next()
    if (r.done === true) break
    head.push(r.value)
    headLength += r.value.length
  }
  const first = Buffer.concat(head)
  if (first.length < BLOB_HEADER_BYTES && !isEncryptedBlob(first)) throw new BlobError('NOT_ENCRYPTED', 'the blob has no encryption header (it was stored with --public, or is not a blob)')
  const header = decodeBlobHeader(first)
  const opener = new SegmentOpener(owner, header)
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield first.subarray(BLOB_HEADER_BYTES)
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value
  }
  for await (const { piece, last } of fixedPieces(rest(), header.segmentBytes + BLOB_TAG_BYTES)) {
    const plain = opener.open(piece, last)
    if (plain.length > 0) yield plain
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/** Whole-buffer forms, for small blobs and tests. */
export function encryptBlob(plain: Uint8Array, owner: BlobOwnerKey, opts: EncryptOpts = {}): Promise<Uint8Array> {
  return collect(encryptBlobStream(once(plain), owner, opts))
}

export function decryptBlob(cipher: Uint8Array, owner: BlobOwnerKey): Promise<Uint8Array> {
  return collect(decryptBlobStream(once(cipher), owner))
}
