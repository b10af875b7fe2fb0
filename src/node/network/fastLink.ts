import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject, randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

import { bytes32, type Infer, struct, u16 } from '../../../blocks/codec.ts'
import { fromHex, utf8 } from '../../crypto/index.ts'
import type { NetNode } from '../../net/index.ts'
import { FrameSealer } from '../../net/sealedFrames.ts'

/**
 * Fast validator links: what a validator link carries, moved off libp2p (yamux, noise, its
 * message streams: ~50-70 µs of CPU per small message both ends, linkTransport.ts) onto a plain
 * TCP socket of ChaCha20-Poly1305 sealed frames (~20 µs). The libp2p link stays: it carries the
 * handshake below and everything while no fast link is up.
 *
 * Handshake, per direction (the sender of a direction opens its socket):
 * 1. The sender, on its libp2p link (noise-authenticated, the hello binds validator keys), sends a
 *    `FastOffer`: a fresh X25519 public key.
 * 2. The receiver answers on the same stream with a `FastAnswer`: its own fresh X25519 key, a
 *    random 32-byte session id and its fast-link TCP port; it holds the session for a few seconds.
 * 3. The sender dials that port on the libp2p connection's remote IP and writes the session id,
 *    then an empty sealed frame. The receiver looks the session up, opens the frame (the session
 *    is then used up) and answers one byte: the sender moves its messages onto the socket.
 * Key: HKDF-SHA256(X25519 shared secret; salt session id; info domain ‖ chain id ‖ sender
 * validator ‖ receiver validator); nonces count frames from 0 (sealedFrames.ts). A new session
 * has new keys, so no nonce repeats under a key. An all-zero shared secret (a small-order point)
 * is refused.
 *
 * What someone on the raw port can do without the keys: open sockets (each closed after a few
 * seconds, or at once past a small bound of unauthenticated sockets, or on an unknown session id
 * or a first frame that does not open), which costs nobody any score. A replayed session or
 * frame is refused (a session is used once; a frame is only valid at its position under its
 * key). Someone on the path can cut a fast link (the sender falls back to libp2p, then tries
 * again later) but cannot read or change what it carries.
 */
export const FastOffer = struct('FastOffer', { publicKey: bytes32 })
export type FastOffer = Infer<typeof FastOffer>
export const FastAnswer = struct('FastAnswer', { publicKey: bytes32, session: bytes32, port: u16 })
export type FastAnswer = Infer<typeof FastAnswer>

const KEY_DOMAIN = utf8('XSC/validator-fast-link/v1')
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')
export const SESSION_BYTES = 32
/** The receiver's one-byte answer once the socket's first frame opened. */
export const FAST_ACCEPTED = 1
/** How long a socket has to dial, and to present its session and first frame. */
export const FAST_HANDSHAKE_MS = 3_000

export interface X25519Pair {
  privateKey: KeyObject
  publicKey: Uint8Array
}

export function x25519Pair(): X25519Pair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  return { privateKey, publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length)) }
}

/** The key of one direction: sender → receiver (validator addresses, hex). Throws on a degenerate shared secret. */
export function fastLinkKey(own: KeyObject, peerPublic: Uint8Array, session: Uint8Array, chainId: string, sender: string, receiver: string): Uint8Array {
  const peerKey = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerPublic]), format: 'der', type: 'spki' })
  const shared = diffieHellman({ privateKey: own, publicKey: peerKey })
  if (shared.every((b) => b === 0)) throw new Error('all-zero X25519 shared secret')
  const info = Buffer.concat([KEY_DOMAIN, utf8(chainId), fromHex(sender), fromHex(receiver)])
  return new Uint8Array(hkdfSync('sha256', shared, session, info, 32))
}

export const newSession = (): Uint8Array => new Uint8Array(randomBytes(SESSION_BYTES))

/** The IP the libp2p connection to `peer` reaches it on (what its fast port is dialled on), if any. */
export function remoteIp(net: NetNode, peer: string): string | undefined {
  const conn = net.libp2p?.getConnections().find((c) => c.remotePeer.toString() === peer && c.status === 'open')
  const ip = conn?.remoteAddr.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')
  return ip?.value
}

/**
 * Dials a receiver's fast port, presents the session and the empty first frame, and resolves
 * with the socket and its sealer once the receiver accepted (rejects on refusal or timeout).
 */
export function dialFast(host: string, port: number, session: Uint8Array, key: Uint8Array): Promise<{ socket: Socket; sealer: FrameSealer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    socket.setNoDelay(true)
    const sealer = new FrameSealer(key)
    const fail = (err: Error): void => {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    }
    const timer = setTimeout(() => fail(new Error('fast link handshake timed out')), FAST_HANDSHAKE_MS)
    socket.once('error', fail)
    socket.once('close', () => fail(new Error('fast link refused')))
    socket.once('connect', () => socket.write(Buffer.concat([session, sealer.seal(new Uint8Array(0))])))
    socket.once('data', (chunk: Buffer) => {
      if (chunk[0] !== FAST_ACCEPTED) return fail(new Error('fast link refused'))
      clearTimeout(timer)
      socket.removeAllListeners('error').removeAllListeners('close')
      // Nothing more comes this way; a byte that does is not read.
      socket.pause()
      resolve({ socket, sealer })
    })
  })
}
