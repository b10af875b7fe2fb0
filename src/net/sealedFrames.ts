import { AEAD_TAG_BYTES, open, sealInto } from './aead.ts'
import { NetError } from './errors.ts'

/**
 * Frames sealed with ChaCha20-Poly1305 for a raw TCP socket (validator fast links):
 * `[length u32 big-endian][ciphertext of length bytes][16-byte tag]`. The nonce is a 96-bit
 * counter per direction (4 zero bytes, then the frame's number as u64 big-endian), never sent and
 * never reused under one key; the length prefix is the additional authenticated data. A frame
 * that fails to open, comes out of order, is replayed or is cut short is an error: the reader
 * cannot resynchronise and the socket must be closed.
 */
export const SEALED_HEADER_BYTES = 4
export const SEALED_TAG_BYTES = AEAD_TAG_BYTES

function nonceOf(counter: number): Buffer {
  if (!Number.isSafeInteger(counter)) throw new NetError('STREAM_FAILED', 'sealed-frame counter exhausted')
  const nonce = Buffer.alloc(12)
  nonce.writeUInt32BE(Math.floor(counter / 2 ** 32), 4)
  nonce.writeUInt32BE(counter >>> 0, 8)
  return nonce
}

export class FrameSealer {
  readonly #key: Buffer
  #counter = 0

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new NetError('STREAM_FAILED', 'a sealed-frame key is 32 bytes')
    this.#key = Buffer.from(key)
  }

  /** One frame carrying `payload` (the next nonce is used up). */
  seal(payload: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(SEALED_HEADER_BYTES + payload.length + SEALED_TAG_BYTES)
    out.writeUInt32BE(payload.length, 0)
    sealInto(this.#key, nonceOf(this.#counter++), out.subarray(0, SEALED_HEADER_BYTES), payload, out.subarray(SEALED_HEADER_BYTES))
    return out
  }
}

export class FrameOpener {
  readonly #key: Buffer
  #maxBytes: number
  #counter = 0
  #chunks: Buffer[] = []
  #buffered = 0

  /** `maxBytes`: largest payload accepted; a longer length prefix is an error before any of it is read. */
  constructor(key: Uint8Array, maxBytes: number) {
    if (key.length !== 32) throw new NetError('STREAM_FAILED', 'a sealed-frame key is 32 bytes')
    this.#key = Buffer.from(key)
    this.#maxBytes = maxBytes
  }

  /** Raises (or lowers) the largest payload accepted from here on: a first frame may be held to less than the rest. */
  set maxBytes(n: number) {
    this.#maxBytes = n
  }

  /** Frames opened so far. */
  get opened(): number {
    return this.#counter
  }

  /** Bytes received that do not yet make a whole frame. */
  get buffered(): number {
    return this.#buffered
  }

  /** Takes bytes off the socket; returns the payloads of the frames they complete (throws on a bad frame). */
  push(chunk: Buffer): Uint8Array[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk)
      this.#buffered += chunk.length
    }
    const out: Uint8Array[] = []
    for (;;) {
      if (this.#buffered < SEALED_HEADER_BYTES) break
      const head = this.#peek(SEALED_HEADER_BYTES)
      const length = head.readUInt32BE(0)
      if (length > this.#maxBytes) throw new NetError('FRAME_TOO_LARGE', `sealed frame of ${length} bytes exceeds ${this.#maxBytes}`)
      const total = SEALED_HEADER_BYTES + length + SEALED_TAG_BYTES
      if (this.#buffered < total) break
      const frame = this.#take(total)
      out.push(this.#open(frame))
    }
    return out
  }

  /** `frame`: exactly one whole frame (header, ciphertext, tag). */
  #open(frame: Buffer): Uint8Array {
    const plain = open(this.#key, nonceOf(this.#counter), frame.subarray(0, SEALED_HEADER_BYTES), frame.subarray(SEALED_HEADER_BYTES))
    if (plain === undefined) throw new NetError('MALFORMED_FRAME', 'sealed frame does not open')
    this.#counter++
    return plain
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0]!
    if (first.length >= n) return first
    this.#chunks = [Buffer.concat(this.#chunks)]
    return this.#chunks[0]!
  }

  #take(n: number): Buffer {
    const first = this.#peek(n)
    const out = first.subarray(0, n)
    if (first.length === n) this.#chunks.shift()
    else this.#chunks[0] = first.subarray(n)
    this.#buffered -= n
    return out
  }
}
