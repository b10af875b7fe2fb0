import { createServer, type Server, type Socket } from 'node:net'

import { toHex } from '../../crypto/index.ts'
import { FrameOpener, SEALED_HEADER_BYTES, SEALED_TAG_BYTES } from '../../net/sealedFrames.ts'
import { FAST_ACCEPTED, FAST_HANDSHAKE_MS, SESSION_BYTES } from './fastLink.ts'

/** Unauthenticated sockets held at once (each for at most FAST_HANDSHAKE_MS); more are closed on arrival. */
export const MAX_PENDING_FAST_SOCKETS = 16
/** Sessions issued and not yet used, at most (one per peer is the rule; this bounds a churn of peers). */
const MAX_SESSIONS = 256
const FIRST_FRAME_BYTES = SEALED_HEADER_BYTES + SEALED_TAG_BYTES

export interface FastSession {
  peer: string
  validator: string
  key: Uint8Array
}

/** A socket whose first frame opened: the peer it belongs to, its opener and the bytes that came after that frame. */
export interface FastInbound {
  session: FastSession
  socket: Socket
  opener: FrameOpener
  rest: Buffer
}

/**
 * The fast-link listener (fastLink.ts): one per node, on an OS-assigned port on every interface, or
 * on loopback only when libp2p is (a validator dials the address its libp2p connection reached us on). A socket must present a
 * session issued here, then an empty frame that opens under that session's key; anything else —
 * garbage, an unknown or used session, a frame that does not open, a first frame that is not
 * empty, silence — is closed, with no penalty to anyone (an unauthenticated socket is nobody's).
 */
export class FastLinkServer {
  readonly #server: Server
  readonly #sessions = new Map<string, FastSession & { expires: number }>()
  readonly #pending = new Set<Socket>()
  readonly #onLink: (inbound: FastInbound) => void
  #port = 0

  constructor(onLink: (inbound: FastInbound) => void) {
    this.#onLink = onLink
    this.#server = createServer((socket) => this.#accept(socket))
    this.#server.on('error', () => undefined)
  }

  /** Listens on an OS-assigned port of `host` (undefined: every interface). */
  async start(host?: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(0, host, () => (this.#server.off('error', reject), resolve()))
    })
    this.#port = (this.#server.address() as { port: number }).port
    return this.#port
  }

  get port(): number {
    return this.#port
  }

  /** Unauthenticated sockets held now. */
  get pending(): number {
    return this.#pending.size
  }

  async stop(): Promise<void> {
    for (const socket of this.#pending) socket.destroy()
    this.#pending.clear()
    this.#sessions.clear()
    await new Promise((resolve) => this.#server.close(resolve))
  }

  /** Holds a session for a sender; a peer's earlier unused session is dropped. */
  issue(session: Uint8Array, s: FastSession): void {
    const now = Date.now()
    for (const [id, held] of this.#sessions) if (held.peer === s.peer || held.expires < now) this.#sessions.delete(id)
    if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!)
    this.#sessions.set(toHex(session), { ...s, expires: now + FAST_HANDSHAKE_MS * 2 })
  }

  #accept(socket: Socket): void {
    if (this.#pending.size >= MAX_PENDING_FAST_SOCKETS) return void socket.destroy()
    this.#pending.add(socket)
    socket.setNoDelay(true)
    const timer = setTimeout(() => socket.destroy(), FAST_HANDSHAKE_MS)
    const chunks: Buffer[] = []
    let length = 0
    const done = (): void => {
      clearTimeout(timer)
      this.#pending.delete(socket)
      socket.off('data', onData)
    }
    const refuse = (): void => (done(), void socket.destroy())
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      length += chunk.length
      if (length < SESSION_BYTES + FIRST_FRAME_BYTES) return
      const bytes = Buffer.concat(chunks)
      const id = toHex(bytes.subarray(0, SESSION_BYTES))
      const session = this.#sessions.get(id)
      if (session === undefined || session.expires < Date.now()) return refuse()
      const opener = new FrameOpener(session.key, 0)
      try {
        if (opener.push(bytes.subarray(SESSION_BYTES, SESSION_BYTES + FIRST_FRAME_BYTES)).length !== 1) return refuse()
      } catch {
        return refuse()
      }
      this.#sessions.delete(id)
      done()
      socket.on('error', () => undefined)
      socket.write(Uint8Array.of(FAST_ACCEPTED))
      this.#onLink({ session, socket, opener, rest: bytes.subarray(SESSION_BYTES + FIRST_FRAME_BYTES) })
    }
    socket.on('data', onData)
    socket.on('error', () => undefined)
    socket.on('close', () => done())
  }
}
