import type { IncomingMessage } from 'node:http'

/** Oversized bodies are read and discarded up to this much, so clients still get their 413. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024

export type BodyReader = (req: IncomingMessage, max: number) => Promise<Buffer | 'tooLarge' | 'busy' | 'aborted'>

/**
 * A reader of request bodies sharing one budget (`maxBufferedBytes` across all connections). It
 * reads the body up to `max` bytes. Past that ('tooLarge'), or when all bodies being read
 * would pass `maxBufferedBytes` ('busy'), it drains without keeping anything, so the client
 * still reads our answer; past a hard cap the socket is cut.
 */
export function createBodyReader(opts: { requestTimeoutMs: number; maxBufferedBytes: number }): BodyReader {
  /** Bytes of request bodies held in memory right now, across all connections. */
  let buffered = 0
  return (req, max) =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? NaN)
      let refused: 'tooLarge' | 'busy' | undefined = Number.isFinite(declared) && declared > max ? 'tooLarge' : undefined
      const chunks: Buffer[] = []
      let size = 0
      let held = 0
      const slowSender = setTimeout(() => req.destroy(), opts.requestTimeoutMs)
      const release = (): void => {
        clearTimeout(slowSender)
        buffered -= held
        held = 0
      }
      req.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (refused === undefined && size > max) refused = 'tooLarge'
        if (refused === undefined && buffered + chunk.length > opts.maxBufferedBytes) refused = 'busy'
        if (refused !== undefined) {
          chunks.length = 0
          release()
          if (size > Math.max(max * 4, MAX_DRAIN_BYTES)) req.destroy()
          return
        }
        chunks.push(chunk)
        held += chunk.length
        buffered += chunk.length
      })
      req.on('end', () => {
        const out = refused ?? Buffer.concat(chunks, size)
        release()
        resolve(out)
      })
      req.on('error', (err) => {
        release()
        reject(err)
      })
      req.on('close', () => {
        release()
        resolve('aborted')
      })
    })
}
