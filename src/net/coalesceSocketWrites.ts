import { Socket } from 'node:net'

import type { Connection, Libp2p } from '@libp2p/interface'

/** What the patch needs of @libp2p/tcp's connection class (module-private there: reached through an instance). */
interface TcpConnection {
  socket: Socket
  sendData(data: Iterable<Uint8Array>): { sentBytes: number; canSendMore: boolean }
}

const patched = new WeakSet<object>()

/**
 * @libp2p/tcp 11 writes each chunk of what it is given with its own `socket.write`, and noise
 * hands it every encrypted message as two chunks (the 2-byte length, then the ciphertext): every
 * vote, block or window update left as two `write` syscalls, each through Node's stream machinery
 * (counted on an idle devnet: ~26 socket writes per block per validator for ~13 messages). Corked,
 * the chunks of one send leave in one `writev`, without copying them; the result (bytes taken,
 * whether more may be sent) and the stop at a full socket stay the library's. Installed on the
 * class of the first TCP connection seen (every connection of the process shares it); idempotent,
 * and a no-op for any other transport.
 */
export function coalesceSocketWrites(maConn: unknown): boolean {
  if (typeof maConn !== 'object' || maConn === null || !((maConn as Partial<TcpConnection>).socket instanceof Socket)) return false
  const proto = Object.getPrototypeOf(maConn) as Partial<TcpConnection> | null
  if (proto === null || typeof proto.sendData !== 'function') return false
  if (patched.has(proto)) return true
  patched.add(proto)
  proto.sendData = function (this: TcpConnection, data: Iterable<Uint8Array>): { sentBytes: number; canSendMore: boolean } {
    const socket = this.socket
    let sentBytes = 0
    let canSendMore = true
    socket.cork()
    try {
      for (const buf of data) {
        sentBytes += buf.byteLength
        canSendMore = socket.write(buf)
        if (!canSendMore) break
      }
    } finally {
      socket.uncork()
    }
    return { sentBytes, canSendMore }
  }
  return true
}

/** Installs `coalesceSocketWrites` from the first TCP connection `node` opens or accepts (then stops listening). */
export function coalesceSocketWritesOf(node: Pick<Libp2p, 'addEventListener' | 'removeEventListener'>): void {
  const onOpen = (evt: CustomEvent<Connection>): void => {
    if (coalesceSocketWrites((evt.detail as unknown as { maConn?: unknown }).maConn)) node.removeEventListener('connection:open', onOpen)
  }
  node.addEventListener('connection:open', onOpen)
}
