import { FRAME, FRAME_HEADER_BYTES, MAX_FRAME_BYTES } from '../../net/framing.ts'
import type { FastInbound } from './fastLinkServer.ts'

export interface FastReadHandlers {
  /** Judges one link message (`[kind][bytes]`, as on the libp2p link); false ends the fast link. */
  message(payload: Uint8Array): Promise<boolean>
  /** A frame that opened but holds no well-formed link frames: the sender's fault. */
  garbage(): void
  /** The socket ended or was closed (by either side, or by a frame that did not open). */
  end(): void
}

/**
 * Reads an authenticated fast link: each sealed frame holds what one write of the libp2p link
 * would (one or more `encodeFrame(FRAME.data, [kind][bytes])`), judged one message at a time in
 * order. Past `highWaterBytes` of messages waiting to be judged the socket is paused (TCP then
 * pushes back on the sender, whose bounded write buffer closes the fast link if we never catch up).
 * Returns a function that closes it.
 */
export function readFastLink(inbound: FastInbound, maxSealedBytes: number, highWaterBytes: number, on: FastReadHandlers): () => void {
  const { socket, opener } = inbound
  opener.maxBytes = maxSealedBytes
  const waiting: Uint8Array[] = []
  let waitingBytes = 0
  let judging = false
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    waiting.length = 0
    socket.destroy()
    on.end()
  }
  const judge = async (): Promise<void> => {
    judging = true
    try {
      while (!closed && waiting.length > 0) {
        const payload = waiting.shift()!
        waitingBytes -= payload.length
        if (waitingBytes < highWaterBytes / 2 && socket.isPaused()) socket.resume()
        if (!(await on.message(payload))) return close()
      }
    } finally {
      judging = false
    }
  }
  const onData = (chunk: Buffer): void => {
    let sealed: Uint8Array[]
    try {
      sealed = opener.push(chunk)
    } catch {
      return close()
    }
    for (const plain of sealed) {
      const messages = splitLinkFrames(plain)
      if (messages === undefined) return (on.garbage(), close())
      for (const m of messages) {
        waiting.push(m)
        waitingBytes += m.length
      }
    }
    if (waitingBytes > highWaterBytes) socket.pause()
    if (!judging && waiting.length > 0) void judge()
  }
  socket.on('data', onData)
  socket.on('close', close)
  socket.on('error', close)
  if (inbound.rest.length > 0) onData(inbound.rest)
  return close
}

/** The payloads of the link frames packed in one sealed frame; undefined when it is not exactly such frames. */
export function splitLinkFrames(plain: Uint8Array): Uint8Array[] | undefined {
  const out: Uint8Array[] = []
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength)
  let at = 0
  while (at < plain.length) {
    if (plain.length - at < FRAME_HEADER_BYTES || plain[at] !== FRAME.data) return undefined
    const length = view.getUint32(at + 1)
    if (length > MAX_FRAME_BYTES || at + FRAME_HEADER_BYTES + length > plain.length) return undefined
    out.push(plain.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length))
    at += FRAME_HEADER_BYTES + length
  }
  return out.length > 0 ? out : undefined
}
