import type { Socket } from 'node:net'

import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'

import type { NetNode } from '../../../src/net/index.ts'
import { startNodes, stopAll, waitFor } from './helpers.ts'

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

/** The bytes of each of the socket's trips into libuv (a `_write`, or a `_writev` of several chunks) from now on. */
function recordWrites(socket: Socket): number[] {
  const writes: number[] = []
  const s = socket as unknown as { _write: (chunk: Uint8Array, ...a: unknown[]) => void; _writev: (chunks: { chunk: Uint8Array }[], ...a: unknown[]) => void }
  const write = s._write.bind(socket)
  s._write = (chunk, ...a) => {
    writes.push(chunk.length)
    write(chunk, ...a)
  }
  const writev = s._writev.bind(socket)
  s._writev = (chunks, ...a) => {
    writes.push(chunks.reduce((n, c) => n + c.chunk.length, 0))
    writev(chunks, ...a)
  }
  return writes
}

describe('socket writes: a message over a libp2p stream leaves in one write', () => {
  it('one send on an open stream is one socket write (noise length + ciphertext + yamux header together), and arrives whole', async () => {
    // A slow gossipsub heartbeat: no other traffic on the connection while we look.
    const [a, b] = (nodes = await startNodes(2, { heartbeatMs: 60_000 }, 60)) as [NetNode, NetNode]
    await a.dial(b.multiaddrs()[0]!)
    const got: Uint8Array[] = []
    await b.handleStream('/test/coalesce/1', (stream: Stream) => {
      void (async () => {
        for await (const chunk of stream) got.push(chunk.subarray())
      })()
    }, { maxInboundStreams: 1 })
    const stream = await a.openStream(b.peerId, '/test/coalesce/1', { signal: AbortSignal.timeout(5_000) })
    stream.send(new Uint8Array([0]))
    await waitFor(() => got.length > 0, 5_000, 'the first message')
    // Quiet now (stream open and negotiated): count what one message costs the sender's socket.
    const conn = a.libp2p!.getConnections(peerIdFromString(b.peerId))[0]!
    const writes = recordWrites((conn as unknown as { maConn: { socket: Socket } }).maConn.socket)
    const message = new Uint8Array(3_000).map((_, i) => i % 251)
    stream.send(message)
    await waitFor(() => got.reduce((n, c) => n + c.length, 0) >= 1 + message.length, 5_000, 'the second message')
    // Noise's 2-byte length, yamux's 12-byte header, the payload and the 16-byte tag: one write
    // (the library alone made four).
    expect(writes.filter((n) => n >= message.length)).toEqual([2 + 12 + message.length + 16])
    const received = new Uint8Array(got.reduce((n, c) => n + c.length, 0))
    let at = 0
    for (const c of got) received.set(c, (at += c.length) - c.length)
    expect(received.subarray(1)).toEqual(message)
  })
})
