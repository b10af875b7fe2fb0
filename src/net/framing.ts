import { concatBytes } from '../crypto/index.ts'
import { NetError } from './errors.ts'

/**
 * Length-prefixed framing for request/response streams: `[type u8][length u32 big-endian][payload]`.
 * A request is DATA(header) DATA(body chunk)* END; a response is DATA(chunk)* END, or ERROR.
 * The explicit END frame tells a complete message from a connection that died half-way.
 */
export const FRAME = { data: 0, end: 1, error: 2 } as const
export type FrameType = (typeof FRAME)[keyof typeof FRAME]

export const FRAME_HEADER_BYTES = 5
/** Largest payload of one frame; bigger payloads are split by the sender. */
export const MAX_FRAME_BYTES = 1024 * 1024
/** Chunk size used when a sender splits a large payload. */
export const CHUNK_BYTES = 256 * 1024

export interface Frame {
  type: FrameType
  payload: Uint8Array
}

export function encodeFrame(type: FrameType, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > MAX_FRAME_BYTES) throw new NetError('FRAME_TOO_LARGE', `frame of ${payload.length} bytes exceeds ${MAX_FRAME_BYTES}`)
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length)
  out[0] = type
  new DataView(out.buffer).setUint32(1, payload.length)
  out.set(payload, FRAME_HEADER_BYTES)
  return out
}

/** Anything libp2p hands out of a stream: Uint8Array or Uint8ArrayList (both have subarray()). */
export type StreamChunk = Uint8Array | { subarray(): Uint8Array }

function isPartList(chunk: StreamChunk): chunk is StreamChunk & Iterable<Uint8Array> {
  return typeof (chunk as Partial<Iterable<Uint8Array>>)[Symbol.iterator] === 'function'
}

/** Bytes received but not yet parsed, kept as a list so a 16 MiB transfer is never re-copied whole. */
class ByteQueue {
  private chunks: Uint8Array[] = []
  private head = 0
  length = 0

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    // Views handed out are plain Uint8Arrays (a Buffer's slice() would share memory, not copy).
    this.chunks.push(chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    this.length += chunk.length
  }

  /** Removes and returns the first n bytes (n <= length). */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const first = this.chunks[0]!
      const available = first.length - this.head
      const want = n - filled
      if (available <= want) {
        out.set(this.head === 0 ? first : first.subarray(this.head), filled)
        filled += available
        this.chunks.shift()
        this.head = 0
      } else {
        out.set(first.subarray(this.head, this.head + want), filled)
        this.head += want
        filled += want
      }
    }
    this.length -= n
    return out
  }

  /** Removes up to n bytes from the front without copying: a view of the first queued chunk only. */
  takeView(n: number): Uint8Array {
    const first = this.chunks[0]!
    const available = first.length - this.head
    if (available <= n) {
      const out = this.head === 0 ? first : first.subarray(this.head)
      this.chunks.shift()
      this.head = 0
      this.length -= available
      return out
    }
    const out = first.subarray(this.head, this.head + n)
    this.head += n
    this.length -= n
    return out
  }
}

/** A piece of a frame's payload as it arrived; `frameEnd` marks the frame's last piece. */
export interface FramePiece {
  type: FrameType
  bytes: Uint8Array
  frameEnd: boolean
}

const NO_BYTES = new Uint8Array(0)

/**
 * Parses frames out of a byte source, yielding DATA payloads piece by piece as they arrive
 * (views of the received chunks, never copied or joined: a reader copies them once, to where
 * they go); END and ERROR payloads come whole. Rejects unknown frame types and frames above
 * `maxFrameBytes` before buffering their payload; bytes left over at the end of the source are a
 * TRUNCATED frame.
 */
export async function* readFramePieces(source: AsyncIterable<StreamChunk>, maxFrameBytes = MAX_FRAME_BYTES): AsyncGenerator<FramePiece> {
  const queue = new ByteQueue()
  let pending: { type: FrameType; remaining: number } | undefined
  for await (const chunk of source) {
    // A Uint8ArrayList's parts are queued as they are: subarray() would copy them into one buffer.
    if (chunk instanceof Uint8Array) queue.push(chunk)
    else if (isPartList(chunk)) for (const part of chunk) queue.push(part)
    else queue.push(chunk.subarray())
    for (;;) {
      if (pending === undefined) {
        if (queue.length < FRAME_HEADER_BYTES) break
        const header = queue.take(FRAME_HEADER_BYTES)
        const type = header[0]!
        const length = new DataView(header.buffer).getUint32(1)
        if (type !== FRAME.data && type !== FRAME.end && type !== FRAME.error) throw new NetError('MALFORMED_FRAME', `unknown frame type ${type}`)
        if (length > maxFrameBytes) throw new NetError('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds ${maxFrameBytes}`, { length, max: maxFrameBytes })
        if (type === FRAME.end && length !== 0) throw new NetError('MALFORMED_FRAME', 'END frame with a payload')
        if (type === FRAME.data && length === 0) {
          yield { type, bytes: NO_BYTES, frameEnd: true }
          continue
        }
        pending = { type: type as FrameType, remaining: length }
      }
      if (pending.type !== FRAME.data) {
        if (queue.length < pending.remaining) break
        const frame = { type: pending.type, bytes: queue.take(pending.remaining), frameEnd: true }
        pending = undefined
        yield frame
        continue
      }
      if (queue.length === 0) break
      const bytes = queue.takeView(pending.remaining)
      pending.remaining -= bytes.length
      const frameEnd = pending.remaining === 0
      if (frameEnd) pending = undefined
      yield { type: FRAME.data, bytes, frameEnd }
    }
  }
  if (pending !== undefined || queue.length > 0) throw new NetError('TRUNCATED', 'stream ended inside a frame')
}

/** Whole frames out of a byte source (readFramePieces joined per frame; a payload that arrived in one piece is not copied). */
export async function* readFrames(source: AsyncIterable<StreamChunk>, maxFrameBytes = MAX_FRAME_BYTES): AsyncGenerator<Frame> {
  let parts: Uint8Array[] = []
  for await (const piece of readFramePieces(source, maxFrameBytes)) {
    if (!piece.frameEnd) {
      parts.push(piece.bytes)
      continue
    }
    const payload = parts.length === 0 ? piece.bytes : concatBytes(...parts, piece.bytes)
    parts = []
    yield { type: piece.type, payload }
  }
}

/** Splits a payload into DATA frames of at most CHUNK_BYTES. An empty payload gives one empty frame. */
export function* dataFrames(payload: Uint8Array, chunkBytes = CHUNK_BYTES): Generator<Uint8Array> {
  if (payload.length === 0) {
    yield encodeFrame(FRAME.data)
    return
  }
  for (let o = 0; o < payload.length; o += chunkBytes) yield encodeFrame(FRAME.data, payload.subarray(o, Math.min(payload.length, o + chunkBytes)))
}

/**
 * One message of a message stream (the commit feed, the receipt push): its DATA chunks then END,
 * as one buffer, so the whole message leaves in one write.
 */
export function encodeChunkedMessage(payload: Uint8Array, chunkBytes = CHUNK_BYTES): Uint8Array {
  return concatBytes(...dataFrames(payload, chunkBytes), encodeFrame(FRAME.end))
}

/**
 * The messages of a message stream (`encodeChunkedMessage`'s), reassembled. A message past
 * `maxBytes`, an empty one, or any frame but DATA and END throws `bad(why)` (the caller's own error,
 * which it scores as garbage); so do malformed frames (NetError, `isFramingGarbage`).
 */
export async function* readChunkedMessages(source: AsyncIterable<StreamChunk>, maxBytes: number, bad: (why: 'oversize' | 'malformed') => Error): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = []
  let size = 0
  for await (const frame of readFrames(source, CHUNK_BYTES)) {
    if (frame.type === FRAME.data) {
      size += frame.payload.length
      if (size > maxBytes) throw bad('oversize')
      parts.push(frame.payload)
      continue
    }
    if (frame.type !== FRAME.end || size === 0) throw bad('malformed')
    const message = parts.length === 1 ? parts[0]! : concatBytes(...parts)
    parts = []
    size = 0
    yield message
  }
}

/** Whether `err` is a peer's malformed framing (an oversize or unknown frame): garbage, not a cut stream. */
export function isFramingGarbage(err: unknown): boolean {
  return err instanceof NetError && (err.code === 'FRAME_TOO_LARGE' || err.code === 'MALFORMED_FRAME')
}
