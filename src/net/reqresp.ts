import type { Stream } from '@libp2p/interface'

import { decode, encode } from '../../blocks/codec.ts'
import { XscError } from '../../blocks/errors.ts'
import { concatBytes } from '../crypto/bytes.ts'
import { NetError } from './errors.ts'
import { CHUNK_BYTES, dataFrames, encodeFrame, FRAME, type Frame, FRAME_HEADER_BYTES, type FramePiece, MAX_FRAME_BYTES, readFramePieces, readFrames } from './framing.ts'
import type { NetLogger } from './logger.ts'
import { RemoteErrorMessage } from './messages.ts'
import { readStreamBounded } from './readStreamBounded.ts'
import { streamDiagnostics } from './streamDiagnostics.ts'
import { waitForDrain } from './waitForDrain.ts'

/**
 * Request/response over one libp2p stream per request, with the framing of framing.ts.
 * Every exchange has a deadline and a size limit on both sides: the server bounds the request
 * header, the request body and its own handling time; the client bounds the whole exchange
 * (dial included) by `timeoutMs` and the response by `maxResponseBytes`, cutting the stream
 * as soon as either is exceeded.
 */

/**
 * A handler's answer. An array is the handler's own parts (e.g. a store's pieces): they are sent
 * as they are, in frames of up to MAX_FRAME_BYTES, without being copied, so they must not be
 * changed after the handler returns them. Streamed chunks are copied into frames as they come (a
 * producer may reuse its buffer).
 */
export type ResponseBody = Uint8Array | readonly Uint8Array[] | AsyncIterable<Uint8Array>

/**
 * `request` is the header (one DATA frame, at most `maxRequestBytes`); `body` yields the rest of
 * the request (upload protocols), bounded by `maxBodyBytes`. Throw an XscError to send its code.
 */
export type RequestHandler = (request: Uint8Array, peer: string, body: AsyncIterable<Uint8Array>) => ResponseBody | Promise<ResponseBody>

export interface HandleOpts {
  maxRequestBytes?: number
  maxBodyBytes?: number
  timeoutMs?: number
  /** Abort (NetError STALLED) when no byte of the request body arrives for this long (uploads: see RequestOpts). */
  idleTimeoutMs?: number
}

export interface RequestOpts {
  timeoutMs?: number
  maxResponseBytes?: number
  /** Bytes streamed after the header (shard uploads). */
  body?: Uint8Array | AsyncIterable<Uint8Array>
  /**
   * Abort (NetError STALLED) when no byte of the exchange moves, sent or received, for this long:
   * a transfer stuck on its flow control fails at once, with the stream's windows in its details,
   * instead of at a deadline sized for a GiB.
   */
  idleTimeoutMs?: number
}

export const DEFAULT_HANDLE_OPTS = { maxRequestBytes: 64 * 1024, maxBodyBytes: 0, timeoutMs: 10_000 } as const
export const DEFAULT_REQUEST_OPTS = { timeoutMs: 10_000, maxResponseBytes: 16 * 1024 * 1024 } as const

async function send(stream: Stream, frame: Uint8Array): Promise<void> {
  if (!stream.send(frame)) await waitForDrain(stream)
}

function dataHeader(length: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES)
  header[0] = FRAME.data
  new DataView(header.buffer).setUint32(1, length)
  return header
}

/**
 * Owned parts as DATA frames of up to MAX_FRAME_BYTES: each frame's header is sent on its own and
 * the parts after it as views, so no byte of the payload is copied on the way to the muxer (a
 * 256 KiB frame built by encodeFrame was one allocation and one copy per 256 KiB served).
 */
async function sendOwnedParts(stream: Stream, parts: readonly Uint8Array[]): Promise<void> {
  let total = 0
  for (const p of parts) total += p.length
  let sent = 0
  let part = 0
  let at = 0
  while (sent < total) {
    const frameBytes = Math.min(MAX_FRAME_BYTES, total - sent)
    await send(stream, dataHeader(frameBytes))
    for (let left = frameBytes; left > 0;) {
      const p = parts[part]!
      const n = Math.min(left, p.length - at)
      if (n > 0) await send(stream, at === 0 && n === p.length ? p : p.subarray(at, at + n))
      left -= n
      at += n
      if (at === p.length) {
        part++
        at = 0
      }
    }
    sent += frameBytes
  }
}

async function sendPayload(stream: Stream, payload: ResponseBody): Promise<void> {
  if (payload instanceof Uint8Array) {
    if (payload.length === 0) return
    for (const frame of dataFrames(payload, CHUNK_BYTES)) await send(stream, frame)
    return
  }
  if (Array.isArray(payload)) return sendOwnedParts(stream, payload)
  for await (const chunk of payload) {
    if (!(chunk instanceof Uint8Array)) throw new NetError('INTERNAL', 'streamed payload yielded a non-Uint8Array')
    if (chunk.length === 0) continue
    for (const frame of dataFrames(chunk, CHUNK_BYTES)) await send(stream, frame)
  }
}

function errorFrame(err: unknown): Uint8Array {
  const wire = err instanceof XscError ? { code: err.code, message: err.message.slice(0, 256) } : { code: 'INTERNAL', message: 'handler failed' }
  try {
    return encodeFrame(FRAME.error, encode(RemoteErrorMessage, wire))
  } catch {
    return encodeFrame(FRAME.error, encode(RemoteErrorMessage, { code: 'INTERNAL', message: 'handler failed' }))
  }
}

/** Serves one inbound stream: reads the request, runs the handler, writes the response or an ERROR frame. */
export async function serveStream(stream: Stream, peer: string, protocol: string, handler: RequestHandler, opts: HandleOpts, log: NetLogger): Promise<void> {
  const maxRequestBytes = opts.maxRequestBytes ?? DEFAULT_HANDLE_OPTS.maxRequestBytes
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_HANDLE_OPTS.maxBodyBytes
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HANDLE_OPTS.timeoutMs
  const timer = setTimeout(() => stream.abort(new NetError('TIMEOUT', `${protocol}: handler exceeded ${timeoutMs} ms`)), timeoutMs)
  let idle: { touch(): void; stop(): void } | undefined
  /** Whether the request's END frame was read (the requester has nothing more to send). */
  let ended = false
  let frames: AsyncIterator<Frame> | undefined
  try {
    frames = readFrames(readStreamBounded(stream), Math.max(maxRequestBytes, Math.min(maxBodyBytes, MAX_FRAME_BYTES)))[Symbol.asyncIterator]()
    const first = await frames.next()
    if (first.done === true) throw new NetError('TRUNCATED', 'empty request')
    if (first.value.type !== FRAME.data) throw new NetError('MALFORMED_FRAME', 'a request starts with a DATA frame')
    if (first.value.payload.length > maxRequestBytes) throw new NetError('REQUEST_TOO_LARGE', `request of ${first.value.payload.length} bytes exceeds ${maxRequestBytes}`)
    const reader = frames
    let bodyBytes = 0
    if (maxBodyBytes > 0 && opts.idleTimeoutMs !== undefined) {
      const idleMs = opts.idleTimeoutMs
      idle = idleWatch(idleMs, () => {
        const err = stalledError(protocol, idleMs, stream)
        log.warn('request body stalled', { protocol, peer, bodyBytes, ...err.details })
        stream.abort(err)
      })
    }
    const body = (async function* (): AsyncGenerator<Uint8Array> {
      while (!ended) {
        const next = await reader.next()
        idle?.touch()
        if (next.done === true) throw new NetError('TRUNCATED', 'request ended without END')
        const frame: Frame = next.value
        if (frame.type === FRAME.end) {
          ended = true
          idle?.stop()
          return
        }
        if (frame.type !== FRAME.data) throw new NetError('MALFORMED_FRAME', 'unexpected frame in a request')
        bodyBytes += frame.payload.length
        if (bodyBytes > maxBodyBytes) throw new NetError('REQUEST_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes`, { max: maxBodyBytes })
        yield frame.payload
      }
    })()
    if (maxBodyBytes === 0) for await (const _ of body) void _ // no body allowed: must be END now
    const result = await handler(first.value.payload, peer, body)
    if (!ended && maxBodyBytes > 0) for await (const _ of body) void _ // handler left part of the body unread
    await sendPayload(stream, result)
    await send(stream, encodeFrame(FRAME.end))
    await stream.close()
  } catch (caught) {
    // A frame over the server's limit is an oversize request, whatever part of it was too big.
    const err = caught instanceof NetError && caught.code === 'FRAME_TOO_LARGE' ? new NetError('REQUEST_TOO_LARGE', caught.message, caught.details) : caught
    log.debug('request failed', { protocol, peer, code: err instanceof XscError ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) })
    try {
      await send(stream, errorFrame(err))
      // A request failed before its END (an upload refused at its header, or a store failing
      // mid-body): the requester is still streaming (it reads the answer after its last byte) into
      // a stream this end no longer reads, paused past its high-water mark, so yamux grants no
      // more window and the sender waits for drain forever (session 8's 2 GiB hand-off stall). A
      // reset is the only way to stop it; the ERROR frame sent before it is read first.
      if (ended) await stream.close()
      else stream.abort(err instanceof Error ? err : new NetError('INTERNAL', 'handler failed'))
    } catch {
      stream.abort(err instanceof Error ? err : new NetError('INTERNAL', 'handler failed'))
    }
  } finally {
    clearTimeout(timer)
    idle?.stop()
    // The reader's listeners go with it (a handler that failed may have left it mid-stream).
    frames?.return?.(undefined).catch(() => {})
  }
}

/**
 * Calls `onIdle` once `ms` pass without a `touch()` (a no-progress watchdog; one timer,
 * re-armed per touch). Inert when `ms` is undefined.
 */
function idleWatch(ms: number | undefined, onIdle: () => void): { touch(): void; stop(): void } {
  if (ms === undefined) return { touch: () => {}, stop: () => {} }
  const timer = setTimeout(onIdle, ms)
  return { touch: () => void timer.refresh(), stop: () => clearTimeout(timer) }
}

function stalledError(protocol: string, idleMs: number, stream: Stream | undefined): NetError {
  return new NetError('STALLED', `${protocol}: no byte moved for ${idleMs} ms`, { protocol, idleMs, ...(stream !== undefined ? { stream: streamDiagnostics(stream) } : {}) })
}

/** A pending promise that must not become an unhandled rejection if it loses a race. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {})
  return p
}

/**
 * Client side of one exchange: opens the stream with `open`, sends header and body, and yields
 * response chunks as they arrive. Throws NetError: TIMEOUT, RESPONSE_TOO_LARGE, REMOTE_ERROR
 * (details.remoteCode), TRUNCATED, DIAL_FAILED, STREAM_FAILED, FRAME_TOO_LARGE, MALFORMED_FRAME.
 */
export async function* exchange(open: (signal: AbortSignal) => Promise<Stream>, protocol: string, header: Uint8Array, opts: RequestOpts = {}): AsyncGenerator<Uint8Array> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_OPTS.timeoutMs
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_REQUEST_OPTS.maxResponseBytes
  if (header.length > MAX_FRAME_BYTES) throw new NetError('REQUEST_TOO_LARGE', `request header of ${header.length} bytes exceeds ${MAX_FRAME_BYTES}`)
  const timeoutError = (): NetError => new NetError('TIMEOUT', `${protocol}: no complete response within ${timeoutMs} ms`, { protocol, timeoutMs })
  const controller = new AbortController()
  let stream: Stream | undefined
  /** Set when the deadline or the idle watchdog cut the exchange: what the caller gets. */
  let cutBy: NetError | undefined
  let done = false
  let rejectCut: (e: unknown) => void = () => {}
  const cutoff = quiet(new Promise<never>((_, reject) => { rejectCut = reject }))
  const cut = (err: NetError): void => {
    if (cutBy !== undefined) return
    cutBy = err
    controller.abort(err)
    stream?.abort(err)
    rejectCut(err)
  }
  const timer = setTimeout(() => cut(timeoutError()), timeoutMs)
  const idleMs = opts.idleTimeoutMs
  const idle = idleWatch(idleMs, () => cut(stalledError(protocol, idleMs!, stream)))
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([quiet(p), cutoff])
  try {
    try {
      stream = await race(open(controller.signal))
    } catch (cause) {
      if (cutBy !== undefined || cause instanceof NetError) throw cause
      throw new NetError('DIAL_FAILED', `${protocol}: could not open a stream: ${cause instanceof Error ? cause.message : String(cause)}`, { protocol }, { cause })
    }
    const s = stream
    let writeError: unknown
    try {
      await race((async () => {
        await send(s, encodeFrame(FRAME.data, header))
        idle.touch()
        if (opts.body !== undefined) await sendPayload(s, opts.body instanceof Uint8Array || idleMs === undefined ? opts.body : touching(opts.body, idle.touch))
        await send(s, encodeFrame(FRAME.end))
        await s.close()
      })())
    } catch (err) {
      if (cutBy !== undefined) throw cutBy
      writeError = err // the server may have answered with an ERROR frame: read it first
    }
    // Pieces, not whole frames: DATA bytes reach the caller as views of what the stream delivered.
    const frames = readFramePieces(readStreamBounded(s))[Symbol.asyncIterator]()
    let total = 0
    for (;;) {
      let next: IteratorResult<FramePiece>
      try {
        next = await race(frames.next())
      } catch (err) {
        if (writeError !== undefined && cutBy === undefined) throw writeError
        throw err
      }
      idle.touch()
      if (next.done === true) throw new NetError('TRUNCATED', `${protocol}: response ended without END`, { protocol })
      const frame = next.value
      if (frame.type === FRAME.end) {
        done = true
        return
      }
      if (frame.type === FRAME.error) {
        let remote: RemoteErrorMessage
        try {
          remote = decode(RemoteErrorMessage, frame.bytes)
        } catch (cause) {
          throw new NetError('MALFORMED_FRAME', `${protocol}: undecodable ERROR frame`, { protocol }, { cause })
        }
        throw new NetError('REMOTE_ERROR', `${protocol}: remote failed with ${remote.code}: ${remote.message}`, { protocol, remoteCode: remote.code, remoteMessage: remote.message })
      }
      total += frame.bytes.length
      if (total > maxResponseBytes) throw new NetError('RESPONSE_TOO_LARGE', `${protocol}: response exceeds ${maxResponseBytes} bytes`, { protocol, max: maxResponseBytes })
      if (writeError !== undefined || frame.bytes.length === 0) continue
      yield frame.bytes
    }
  } catch (err) {
    if (cutBy !== undefined) throw cutBy
    if (err instanceof NetError) throw err
    throw new NetError('STREAM_FAILED', `${protocol}: ${err instanceof Error ? err.message : String(err)}`, { protocol }, { cause: err })
  } finally {
    clearTimeout(timer)
    idle.stop()
    if (!done && stream !== undefined) stream.abort(new NetError('STREAM_FAILED', `${protocol}: exchange abandoned`))
  }
}

/** `body` as it is, calling `onChunk` as each chunk is taken (the previous one has been handed to the stream). */
async function* touching(body: AsyncIterable<Uint8Array>, onChunk: () => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    onChunk()
    yield chunk
  }
}

/** Collects a whole response into one buffer. */
export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let n = 0
  for await (const c of chunks) {
    parts.push(c)
    n += c.length
  }
  return parts.length === 1 ? parts[0]! : concatBytes(...parts)
}
