import type { Stream } from '@libp2p/interface'

/**
 * What a stream's flow control looked like at one moment (a transfer found stalled): both ends'
 * libp2p buffers and, on yamux streams, the windows (private fields of @chainsafe/libp2p-yamux's
 * YamuxStream, read here only to be logged).
 */
export interface StreamDiagnostics {
  readStatus: string
  writeStatus: string
  writableNeedsDrain: boolean
  readBufferLength: number
  writeBufferLength: number
  /** yamux: bytes the sender may still send before the receiver grants more. */
  sendWindowCapacity?: number
  /** yamux: bytes this end may still receive, and its full window. */
  recvWindowCapacity?: number
  recvWindow?: number
  /** yamux: StreamState (3 Established, 5 Paused). */
  yamuxState?: number
}

interface YamuxFields { sendWindowCapacity?: unknown; recvWindowCapacity?: unknown; recvWindow?: unknown; state?: unknown }

export function streamDiagnostics(stream: Stream): StreamDiagnostics {
  const y = stream as unknown as YamuxFields
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)
  const out: StreamDiagnostics = {
    readStatus: stream.readStatus,
    writeStatus: stream.writeStatus,
    writableNeedsDrain: stream.writableNeedsDrain,
    readBufferLength: stream.readBufferLength,
    writeBufferLength: stream.writeBufferLength,
  }
  const send = num(y.sendWindowCapacity)
  const recv = num(y.recvWindowCapacity)
  const window = num(y.recvWindow)
  const state = num(y.state)
  if (send !== undefined) out.sendWindowCapacity = send
  if (recv !== undefined) out.recvWindowCapacity = recv
  if (window !== undefined) out.recvWindow = window
  if (state !== undefined) out.yamuxState = state
  return out
}
