import type { Stream } from '@libp2p/interface'

import type { StreamChunk } from './framing.ts'

/** What a stream's 'message' event carries (a Uint8Array or a Uint8ArrayList). */
type Chunk = StreamChunk & { byteLength: number }

/** Bytes a reader lets pile up (delivered by the stream, not yet taken by its consumer) before it pauses the stream. */
export const READ_HIGH_WATER_BYTES = 4 * 1024 * 1024

/**
 * A libp2p stream's bytes with backpressure from the consumer back to the sender.
 *
 * libp2p 3's own `for await (… of stream)` pushes every message into an unbounded queue, and
 * yamux grants the sender more window as soon as bytes arrive, not when they are consumed: a
 * receiver slower than its sender (a host writing a GiB shard to LevelDB) held the whole shard in
 * memory (session 7's 4 GiB run: hosts at 1.3-1.4 GiB). Here, once `highWaterBytes` wait
 * unread the stream is paused (yamux then stops granting window, so the sender's `send` waits
 * for drain), and it resumes once the consumer has taken them down to half. At most the
 * high-water mark plus one granted window (16 MiB in yamux) is held per stream.
 *
 * Ends when the stream's readable end is over ('end'); throws the stream's error on an abort or reset.
 */
export async function* readStreamBounded(stream: Stream, highWaterBytes: number = READ_HIGH_WATER_BYTES): AsyncGenerator<StreamChunk> {
  if (stream.readStatus !== 'readable' && stream.readStatus !== 'paused') return
  const queue: Chunk[] = []
  let queuedBytes = 0
  let ended = stream.readableEnded
  let failure: Error | undefined
  let pausedHere = false
  let wake: (() => void) | undefined
  const notify = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  let resuming = false
  const pauseIfFull = (): void => {
    if (resuming || queuedBytes < highWaterBytes || stream.readStatus !== 'readable') return
    stream.pause()
    pausedHere = true
  }
  // resume() dispatches what the stream held back (a message event, synchronously) before it
  // tells yamux to grant again: a pause from inside that dispatch would be undone by the grant
  // that follows it (the stream 'paused' while yamux grants on), so it waits until resume returns.
  const resume = (): void => {
    pausedHere = false
    resuming = true
    try {
      stream.resume()
    } finally {
      resuming = false
    }
    pauseIfFull()
  }
  const onMessage = (evt: { data: Chunk }): void => {
    queue.push(evt.data)
    queuedBytes += evt.data.byteLength
    pauseIfFull()
    notify()
  }
  const onEnd = (): void => {
    ended = true
    notify()
  }
  const onClose = (evt: { error?: Error }): void => {
    if (evt.error !== undefined) failure ??= evt.error
    else if (stream.readBufferLength === 0) ended = true
    notify()
  }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('end', onEnd)
  stream.addEventListener('close', onClose)
  try {
    for (;;) {
      const chunk = queue.shift()
      if (chunk !== undefined) {
        queuedBytes -= chunk.byteLength
        if (pausedHere && queuedBytes * 2 <= highWaterBytes && stream.readStatus === 'paused') resume()
        yield chunk
        continue
      }
      if (failure !== undefined) throw failure
      if (ended) return
      // Nothing queued: whatever the stream holds back must flow, or 'end' never comes.
      if (pausedHere && stream.readStatus === 'paused') resume()
      await new Promise<void>((resolve) => (wake = resolve))
    }
  } finally {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('end', onEnd)
    stream.removeEventListener('close', onClose)
  }
}
