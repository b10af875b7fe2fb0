import type { Socket } from 'node:net'

import type { Stream } from '@libp2p/interface'

import { decode, encode } from '../../../blocks/codec.ts'
import { concatBytes } from '../../crypto/index.ts'
import { encodeFrame, FRAME } from '../../net/framing.ts'
import type { NetNode } from '../../net/index.ts'
import type { FrameSealer } from '../../net/sealedFrames.ts'
import type { Logger } from '../logger.ts'
import { dialFast, FastAnswer, fastLinkKey, FastOffer, newSession, remoteIp, type X25519Pair, x25519Pair } from './fastLink.ts'
import { readFastLink } from './fastLinkReceive.ts'
import { type FastInbound, FastLinkServer } from './fastLinkServer.ts'

/** The fast-link handshake on a validator link: the sender's offer (to the receiver), the receiver's answer (back on the same stream). */
export const LINK_CONTROL = { fastOffer: 4, fastAnswer: 5 } as const
/** First and longest wait before a sender offers a fast link again after one failed or closed. */
export const FAST_RETRY_MS = { first: 5_000, max: 60_000 } as const
/** Offers from one peer answered at most this often (each answer is a key pair, a key agreement and a held session). */
const OFFER_MIN_GAP_MS = 1_000

/** Messages and bytes sent over validator links since start, by path: a fast link's socket or the libp2p stream. */
export interface LinkTraffic {
  fast: { messages: number; bytes: number }
  libp2p: { messages: number; bytes: number }
}

/** The fast-link state of one outbound validator link. */
export interface FastLinkEnd {
  peer: string
  validator: string
  stream: Stream
  /** The fast link's socket, once the receiver accepted it: every write goes there while it is up. */
  fast: { socket: Socket; sealer: FrameSealer } | undefined
  /** Our key of an offer waiting for its answer. */
  offer: X25519Pair | undefined
  /** When the next offer may go (after a failed or closed fast link), and the wait after that. */
  fastRetryAt: number
  fastRetryMs: number
}

export const fastLinkEnd = (): Pick<FastLinkEnd, 'fast' | 'offer' | 'fastRetryAt' | 'fastRetryMs'> => ({ fast: undefined, offer: undefined, fastRetryAt: 0, fastRetryMs: FAST_RETRY_MS.first })

export interface FastLinksModules {
  net: NetNode
  log: Logger
  chainId: string
  /** This validator's address (hex). */
  self: string
  /** Writes a control frame on a link's libp2p stream. */
  write(link: FastLinkEnd, frame: Uint8Array): void
  /** Whether `link` is still the outbound link to its peer. */
  current(link: FastLinkEnd): boolean
  /** Judges one message off a peer's fast link, as its libp2p link's would be; false closes the fast link. */
  judge(payload: Uint8Array, peer: string): Promise<boolean>
  /** Scores a peer down for garbage inside frames that opened (fastLinkReceive.ts). */
  garbage(peer: string): void
  /** Caps of what a fast link carries: largest sealed frame, bytes waiting to be judged before the socket pauses. */
  maxSealedBytes: number
  readHighWaterBytes: number
}

/**
 * Both ends of validator fast links (fastLink.ts): as a sender, offers on our outbound links and
 * dials the answers; as a receiver, answers offers with sessions on our listener and reads the
 * sockets that authenticate.
 */
export class FastLinks {
  readonly #m: FastLinksModules
  /** Fast links from each peer (their closers). */
  readonly #in = new Map<string, () => void>()
  /** When each peer's last offer was answered (a peer's offers are answered at most once per OFFER_MIN_GAP_MS). */
  readonly #answeredAt = new Map<string, number>()
  readonly #server: FastLinkServer
  #stopped = false
  #listening: Promise<void> | undefined

  constructor(modules: FastLinksModules) {
    this.#m = modules
    this.#server = new FastLinkServer((inbound) => this.#serve(inbound))
  }

  /**
   * Listens from the first offer on (libp2p is started by then: a node may start its links
   * before its libp2p). A node whose libp2p listens on loopback only (devnets, tests) keeps its
   * fast port there too; otherwise every interface.
   */
  #listen(): Promise<void> {
    this.#listening ??= (async () => {
      const first = this.#m.net.multiaddrs()[0] ?? ''
      await this.#server.start(/^\/ip4\/127\./.test(first) ? '127.0.0.1' : first.startsWith('/ip6/::1/') ? '::1' : undefined)
    })()
    return this.#listening
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const close of [...this.#in.values()]) close()
    await this.#listening?.catch(() => undefined)
    await this.#server.stop()
  }

  /** The fast port (undefined until the first offer came). */
  get port(): number | undefined {
    return this.#server.port === 0 ? undefined : this.#server.port
  }

  /** Peers whose fast link to us is up. */
  inboundPeers(): string[] {
    return [...this.#in.keys()]
  }

  /** Closes the fast link from `peer` (its libp2p link or connection ended). */
  closeInbound(peer: string): void {
    this.#in.get(peer)?.()
    this.#answeredAt.delete(peer)
  }

  /** Offers the receiver of `link` a fast link (fastLink.ts), unless one is up, offered, or waiting out a failure. */
  offer(link: FastLinkEnd): void {
    if (this.#stopped || link.fast !== undefined || link.offer !== undefined || Date.now() < link.fastRetryAt) return
    if (link.stream.writeStatus !== 'writable') return
    link.offer = x25519Pair()
    // Cleared by the answer; an offer never answered (an older peer, a refusal) is made again later.
    link.fastRetryAt = Date.now() + link.fastRetryMs
    this.#m.write(link, encodeFrame(FRAME.data, concatBytes(Uint8Array.of(LINK_CONTROL.fastOffer), encode(FastOffer, { publicKey: link.offer.publicKey }))))
    setTimeout(() => {
      if (link.fast === undefined) link.offer = undefined
    }, link.fastRetryMs).unref()
  }

  /** The receiver's answer to our offer: dial its fast port and move the link's writes there once it accepts. */
  answer(link: FastLinkEnd, bytes: Uint8Array): void {
    const offer = link.offer
    const host = remoteIp(this.#m.net, link.peer)
    if (offer === undefined || host === undefined) return
    let answer: FastAnswer
    let key: Uint8Array
    try {
      answer = decode(FastAnswer, bytes)
      key = fastLinkKey(offer.privateKey, answer.publicKey, answer.session, this.#m.chainId, this.#m.self, link.validator)
    } catch {
      return this.#failed(link)
    }
    dialFast(host, answer.port, answer.session, key).then(
      (fast) => {
        if (!this.#m.current(link) || this.#stopped || link.fast !== undefined) return void fast.socket.destroy()
        link.fast = fast
        link.fastRetryMs = FAST_RETRY_MS.first
        this.#m.log.debug({ peer: link.peer, host, port: answer.port }, 'validator fast link open')
        fast.socket.on('close', () => this.close(link, true))
        fast.socket.on('error', () => this.close(link, true))
      },
      (err: unknown) => {
        this.#m.log.debug({ peer: link.peer, host, port: answer.port, err: String(err) }, 'validator fast link failed')
        this.#failed(link)
      },
    )
  }

  #failed(link: FastLinkEnd): void {
    link.offer = undefined
    link.fastRetryAt = Date.now() + link.fastRetryMs
    link.fastRetryMs = Math.min(FAST_RETRY_MS.max, link.fastRetryMs * 2)
  }

  /** Ends a link's fast path (its writes go back to the libp2p stream); `retry`: offer again after a back-off. */
  close(link: FastLinkEnd, retry: boolean): void {
    const fast = link.fast
    link.offer = undefined
    if (fast === undefined) return
    link.fast = undefined
    fast.socket.destroy()
    if (retry) this.#failed(link)
  }

  /** A sender's offer on its link to us: a session on our fast port, answered on the same stream. */
  async answerOffer(stream: Stream, peer: string, validator: string, bytes: Uint8Array): Promise<void> {
    const server = this.#server
    // An answer costs a key pair and a key agreement (~0.2 ms): a peer gets one a second at most.
    const now = Date.now()
    if (now - (this.#answeredAt.get(peer) ?? -Infinity) < OFFER_MIN_GAP_MS) return
    this.#answeredAt.set(peer, now)
    let offer: FastOffer
    try {
      offer = decode(FastOffer, bytes)
    } catch {
      return
    }
    const own = x25519Pair()
    const session = newSession()
    let key: Uint8Array
    try {
      key = fastLinkKey(own.privateKey, offer.publicKey, session, this.#m.chainId, validator, this.#m.self)
    } catch {
      return
    }
    try {
      await this.#listen()
    } catch (err) {
      return this.#m.log.warn({ err: String(err) }, 'validator fast-link listener failed')
    }
    if (this.#stopped || stream.writeStatus !== 'writable') return
    server.issue(session, { peer, validator, key })
    stream.send(encodeFrame(FRAME.data, concatBytes(Uint8Array.of(LINK_CONTROL.fastAnswer), encode(FastAnswer, { publicKey: own.publicKey, session, port: server.port }))))
  }

  /** A fast link from a peer, authenticated (fastLinkServer.ts): its messages are judged as its libp2p link's are. */
  #serve(inbound: FastInbound): void {
    const { peer } = inbound.session
    if (this.#stopped) return void inbound.socket.destroy()
    this.#in.get(peer)?.()
    const close = readFastLink(inbound, this.#m.maxSealedBytes, this.#m.readHighWaterBytes, {
      message: (payload) => this.#m.judge(payload, peer),
      garbage: () => this.#m.garbage(peer),
      end: () => {
        if (this.#in.get(peer) === close) this.#in.delete(peer)
      },
    })
    this.#in.set(peer, close)
  }
}
