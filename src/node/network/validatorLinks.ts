import type { Stream } from '@libp2p/interface'

import { bytes32, bytes64, decode, encode, type Infer, struct } from '../../../blocks/codec.ts'
import { XscError } from '../../../blocks/errors.ts'
import { concatBytes, equalBytes, hashParts, sign, toHex, utf8, verify } from '../../crypto/index.ts'
import { encodeFrame, FRAME, isFramingGarbage, MAX_FRAME_BYTES, readFrames } from '../../net/framing.ts'
import { DIRECT_STREAM_PENALTY, GOSSIP_MAX_BYTES, type NetNode, type ValidationResult } from '../../net/index.ts'
import { readStreamBounded } from '../../net/readStreamBounded.ts'
import { waitForDrain } from '../../net/waitForDrain.ts'
import type { Logger } from '../logger.ts'
import { type FastLinkEnd, fastLinkEnd, FastLinks, LINK_CONTROL, type LinkTraffic } from './fastLinks.ts'

/**
 * Direct links between validators for proposals, votes, proposal blocks and tx batches. Over gossipsub, in a
 * full mesh of n validators, every message reached each validator about three times (the
 * publisher's flood plus two mesh relays): each copy a noise decrypt, yamux frame, protobuf decode
 * and content hash, then a forward of its own. Here each validator keeps one outbound stream to
 * every other validator it is connected to and writes each message once to each: every message is
 * received once and relayed by nobody.
 *
 * A link starts with a handshake both ways (`LinkHello`): the validator's address and its
 * signature over the chain id and both peer ids (noise authenticated the peer ids, so a hello
 * cannot be replayed on another connection). Only members of the current validator set are
 * linked. A validator that is not linked to every other member (large sets, a peer restarting)
 * also publishes on gossip, whose relays reach the rest; a direct receiver never relays.
 *
 * Every check of gossip stays: the per-neighbour message cap, size caps (a frame above 1 MiB or
 * a message above its topic's cap ends the link), decode, the same handler (signature, height
 * and round bounds). A message that can never be valid (REJECT) scores the sender down as gossip
 * scoring would, and garbage (undecodable frames, unknown kinds) also ends the link.
 */
/** Version 2 carries tx batches (LINK_KIND.transactions), version 3 the fast-link handshake (LINK_CONTROL, fastLink.ts): older builds do not link. */
export function validatorLinkProtocol(chainId: string): string {
  return `/xsc/${chainId}/validator-link/3`
}

export const LinkHello = struct('LinkHello', { validator: bytes32, signature: bytes64 })
export type LinkHello = Infer<typeof LinkHello>

/** What a link carries after the hello: the first payload byte says which gossip topic's handler judges the rest. */
export const LINK_KIND = { consensus: 1, blocks: 2, transactions: 3 } as const
export type LinkTopic = keyof typeof LINK_KIND

const HELLO_DOMAIN = utf8('XSC/validator-link/v1')
/** Largest message sent over a link (one frame); bigger blocks go by gossip. */
export const MAX_LINK_MESSAGE_BYTES = MAX_FRAME_BYTES - 1
/** Points a REJECTed link message costs its sender (DIRECT_STREAM_PENALTY). */
export const LINK_REJECT_PENALTY = DIRECT_STREAM_PENALTY.reject
/** Points garbage on a link costs (undecodable frame, unknown kind, oversize): the link is closed too. */
export const LINK_GARBAGE_PENALTY = DIRECT_STREAM_PENALTY.garbage
const HELLO_TIMEOUT_MS = 5_000
/** Bytes of received link messages waiting to be judged before the stream is paused. */
const LINK_READ_HIGH_WATER_BYTES = 2 * 1024 * 1024

export function linkHelloMessage(chainId: string, from: string, to: string): Uint8Array {
  return hashParts(HELLO_DOMAIN, utf8(chainId), utf8(from), utf8(to))
}

export class ValidatorLinkError extends XscError<{ BAD_HELLO: { peer: string }; NOT_A_VALIDATOR: { peer: string; validator: string }; BAD_LINK_MESSAGE: { peer: string }; LINK_CLOSED: {} }> {
  static override readonly verdicts = { BAD_HELLO: 'REJECT', NOT_A_VALIDATOR: 'IGNORE', BAD_LINK_MESSAGE: 'REJECT', LINK_CLOSED: 'IGNORE' } as const
}

export interface ValidatorLinksModules {
  net: NetNode
  log: Logger
  chainId: string
  /** This validator's key: the hello is signed with it. */
  validatorKey: { publicKey: Uint8Array; secretKey: Uint8Array }
  /** Addresses (hex) of the current validator set: the same array while the set is the same (a Set of it is kept per array). */
  validators(): readonly string[]
  /** The same judgement gossip makes of a message of that topic (decode, caps, handler). */
  receive(topic: LinkTopic, bytes: Uint8Array, from: string): Promise<ValidationResult>
  /** Moves links onto raw TCP sockets when both ends can (fastLink.ts). Default true. */
  fastLinks?: boolean
}

interface Link extends FastLinkEnd {
  /** Frames waiting for the stream to drain (in order; nothing is written past them). */
  queue: Uint8Array[]
  queuedBytes: number
  flushing: boolean
  /** Frames sent in this tick, written together at its end (one yamux frame, noise encryption and socket write). */
  tick: Uint8Array[]
  tickBytes: number
  /** Messages in `tick` (for the traffic counts). */
  tickMessages: number
}

/**
 * Bytes a link holds for a peer whose stream needs to drain (its receive window is spent: it reads
 * slower than we write) before the link is closed: gossip carries the rest and refresh() links
 * again. Eight links' worth of the largest message (1 MiB): a slow moment passes, a peer that
 * stopped reading is not buffered for without bound.
 */
export const LINK_QUEUE_BYTES = 8 * 1024 * 1024

export class ValidatorLinks {
  readonly #m: ValidatorLinksModules
  /** Outbound links by peer id (what we send on). */
  readonly #out = new Map<string, Link>()
  /** Peers an outbound link is being opened to. */
  readonly #opening = new Set<string>()
  /** Peers that do not speak the protocol on their current connection (hosts, RPC nodes). */
  readonly #notValidators = new Set<string>()
  /** Peers whose hello named a key outside our validator set: asked again at the next refresh (the set may have changed). */
  readonly #outsideSet = new Set<string>()
  /** Raw-socket fast paths of the links (fastLinks.ts); undefined when off. */
  #fast: FastLinks | undefined
  readonly #traffic: LinkTraffic = { fast: { messages: 0, bytes: 0 }, libp2p: { messages: 0, bytes: 0 } }
  #offConnect: (() => void) | undefined
  #offDisconnect: (() => void) | undefined
  #stopped = false
  /** Our own address (hex), and the set's addresses as a Set per array `validators()` returned (one per head). */
  readonly #self: string
  #memberSet: { of: readonly string[]; set: ReadonlySet<string> } | undefined

  constructor(modules: ValidatorLinksModules) {
    this.#m = modules
    this.#self = toHex(modules.validatorKey.publicKey)
  }
  #members(): ReadonlySet<string> {
    const of = this.#m.validators()
    return (this.#memberSet?.of === of ? this.#memberSet : (this.#memberSet = { of, set: new Set(of) })).set
  }

  async start(): Promise<void> {
    const { net } = this.#m
    if (this.#m.fastLinks !== false) {
      this.#fast = new FastLinks({
        net, log: this.#m.log, chainId: this.#m.chainId, self: this.#self,
        write: (link, frame) => void this.#write(link as Link, frame, 0),
        current: (link) => this.#out.get(link.peer) === link,
        judge: async (payload, peer) => (await this.#judge(payload, peer)) === 'ok',
        garbage: (peer) => this.#m.net.penalize(peer, LINK_GARBAGE_PENALTY, 'garbage on a validator fast link'),
        maxSealedBytes: LINK_QUEUE_BYTES,
        readHighWaterBytes: LINK_READ_HIGH_WATER_BYTES,
      })
    }
    await net.handleStream(validatorLinkProtocol(this.#m.chainId), (stream, peer) => void this.#serveInbound(stream, peer), { maxInboundStreams: 2 })
    this.#offConnect = net.onPeer('connect', (peer) => this.#open(peer))
    this.#offDisconnect = net.onPeer('disconnect', (peer) => {
      this.#notValidators.delete(peer)
      const link = this.#out.get(peer)
      if (link !== undefined) this.#fast?.close(link, false)
      this.#out.delete(peer)
      this.#fast?.closeInbound(peer)
    })
    if (net.libp2p !== undefined) for (const peer of net.peers()) this.#open(peer)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#offConnect?.()
    this.#offDisconnect?.()
    for (const link of this.#out.values()) {
      this.#fast?.close(link, false)
      link.stream.abort(new ValidatorLinkError('LINK_CLOSED', 'node stopping'))
    }
    this.#out.clear()
    await this.#fast?.stop()
    await this.#m.net.unhandle(validatorLinkProtocol(this.#m.chainId)).catch(() => undefined)
  }

  /** Validators (hex addresses) we hold an outbound link to. */
  linkedValidators(): Set<string> {
    return new Set([...this.#out.values()].map((l) => l.validator))
  }

  /** Validators (hex addresses) our outbound link to runs over a fast link. */
  fastLinkedValidators(): Set<string> {
    return new Set([...this.#out.values()].filter((l) => l.fast !== undefined).map((l) => l.validator))
  }

  /** Peers whose fast link to us is up. */
  fastInboundPeers(): string[] {
    return this.#fast?.inboundPeers() ?? []
  }

  /** The port fast links are accepted on (undefined when they are off). */
  get fastPort(): number | undefined {
    return this.#fast?.port
  }

  /** Messages and bytes sent since start, by path. */
  get traffic(): LinkTraffic {
    return { fast: { ...this.#traffic.fast }, libp2p: { ...this.#traffic.libp2p } }
  }

  /** Bytes queued on our links for peers whose streams need to drain. */
  queuedBytes(): number {
    let n = 0
    for (const link of this.#out.values()) n += link.queuedBytes
    return n
  }

  /** Retries links to connected peers that have none (the set changed, a stream died, an open timed out). */
  refresh(): void {
    if (this.#m.net.libp2p === undefined) return
    this.#outsideSet.clear()
    for (const peer of this.#m.net.peers()) if (!this.#out.has(peer)) this.#open(peer)
    for (const link of this.#out.values()) this.#fast?.offer(link)
  }

  /**
   * Writes `bytes` to every linked validator of the current set. Returns true when that reached
   * every other member, so gossip is not needed; false when some member is unlinked (or the
   * message is too big for a link) and the caller must also publish on gossip.
   */
  send(topic: LinkTopic, bytes: Uint8Array): boolean {
    if (bytes.length > MAX_LINK_MESSAGE_BYTES) return false
    const members = new Set(this.#members())
    members.delete(this.#self)
    const payload = new Uint8Array(1 + bytes.length)
    payload[0] = LINK_KIND[topic]
    payload.set(bytes, 1)
    const frame = encodeFrame(FRAME.data, payload)
    for (const link of this.#out.values()) {
      if (!members.has(link.validator)) continue
      if (this.#sendInTick(link, frame)) members.delete(link.validator)
    }
    return members.size === 0
  }

  /**
   * Holds a frame until the end of this tick, so what one tick sends a peer (a proposal and its
   * prevote, a vote and a tx batch) leaves as one write: each write is a yamux frame, a noise
   * encryption and a socket write on our end and the same to undo on theirs (~75 µs of CPU each).
   * The receiver's frame reader splits them again. False (gossip must carry the message) when the
   * link is already closed or would overflow its queue.
   */
  #sendInTick(link: Link, frame: Uint8Array): boolean {
    const backedUp = link.queue.length > 0 || link.stream.writableNeedsDrain
    if (link.stream.writeStatus !== 'writable') return (this.#drop(link, new ValidatorLinkError('LINK_CLOSED', 'link closed')), false)
    if (backedUp && link.queuedBytes + link.tickBytes + frame.length > LINK_QUEUE_BYTES) return (this.#drop(link, new ValidatorLinkError('LINK_CLOSED', 'peer does not read its validator link')), false)
    // A frame as large as a link allows goes alone: no copy of a big block into a merged buffer.
    if (link.tick.length === 0 && frame.length >= MAX_LINK_MESSAGE_BYTES / 2) return this.#write(link, frame, 1)
    if (link.tick.length === 0) queueMicrotask(() => this.#endTick(link))
    link.tick.push(frame)
    link.tickBytes += frame.length
    link.tickMessages++
    return true
  }

  #endTick(link: Link): void {
    const frames = link.tick
    const messages = link.tickMessages
    link.tick = []
    link.tickBytes = 0
    link.tickMessages = 0
    if (frames.length === 0 || this.#out.get(link.peer) !== link) return
    this.#write(link, frames.length === 1 ? frames[0]! : concatBytes(...frames), messages)
  }

  /**
   * Writes a frame, or queues it while the stream needs to drain (in order, after what waits);
   * false when the link failed or its queue overflowed: the link is closed, gossip carries the
   * message.
   */
  #write(link: Link, frame: Uint8Array, messages: number): boolean {
    if (link.fast !== undefined) {
      const { socket, sealer } = link.fast
      // Node's socket buffers what the kernel does not take; a peer that stops reading is cut
      // loose at the same bound as a libp2p link (and this message goes by gossip).
      if (socket.writableLength + frame.length > LINK_QUEUE_BYTES) return (this.#fast?.close(link, true), false)
      socket.write(sealer.seal(frame))
      this.#traffic.fast.messages += messages
      this.#traffic.fast.bytes += frame.length
      return true
    }
    this.#traffic.libp2p.messages += messages
    this.#traffic.libp2p.bytes += frame.length
    try {
      if (link.queue.length === 0 && !link.stream.writableNeedsDrain) {
        if (!link.stream.send(frame)) this.#flush(link)
        return true
      }
      if (link.queuedBytes + frame.length > LINK_QUEUE_BYTES) throw new ValidatorLinkError('LINK_CLOSED', 'peer does not read its validator link')
      link.queue.push(frame)
      link.queuedBytes += frame.length
      this.#flush(link)
      return true
    } catch (err) {
      this.#drop(link, err)
      return false
    }
  }

  /** Sends queued frames each time the stream drains, until none wait. */
  #flush(link: Link): void {
    if (link.flushing) return
    link.flushing = true
    void (async () => {
      try {
        do {
          await waitForDrain(link.stream)
          let room = true
          while (room && link.queue.length > 0) {
            const frame = link.queue.shift()!
            link.queuedBytes -= frame.length
            room = link.stream.send(frame)
          }
        } while (link.queue.length > 0 || link.stream.writableNeedsDrain)
      } catch (err) {
        this.#drop(link, err)
      } finally {
        link.flushing = false
      }
    })()
  }

  #drop(link: Link, err: unknown): void {
    this.#m.log.debug({ peer: link.peer, err: String(err) }, 'validator link dropped')
    link.queue = []
    link.queuedBytes = 0
    link.tick = []
    link.tickBytes = 0
    link.tickMessages = 0
    this.#fast?.close(link, false)
    if (this.#out.get(link.peer) === link) this.#out.delete(link.peer)
    link.stream.abort(err instanceof Error ? err : new ValidatorLinkError('LINK_CLOSED', 'link failed'))
  }

  #hello(to: string): Uint8Array {
    const key = this.#m.validatorKey
    return encode(LinkHello, { validator: key.publicKey, signature: sign(key.secretKey, linkHelloMessage(this.#m.chainId, this.#m.net.peerId, to)) })
  }

  /** Checks a peer's hello: signed by a current validator for this pair of peer ids. Returns its address (hex). */
  #checkHello(bytes: Uint8Array, peer: string): string {
    let hello: LinkHello
    try {
      hello = decode(LinkHello, bytes)
    } catch {
      throw new ValidatorLinkError('BAD_HELLO', 'undecodable hello', { peer })
    }
    if (!verify(hello.validator, linkHelloMessage(this.#m.chainId, peer, this.#m.net.peerId), hello.signature)) throw new ValidatorLinkError('BAD_HELLO', 'hello signature does not verify', { peer })
    const validator = toHex(hello.validator)
    if (equalBytes(hello.validator, this.#m.validatorKey.publicKey)) throw new ValidatorLinkError('BAD_HELLO', 'hello claims our own key', { peer })
    if (!this.#members().has(validator)) throw new ValidatorLinkError('NOT_A_VALIDATOR', 'hello from a key outside the validator set', { peer, validator })
    return validator
  }

  #open(peer: string): void {
    if (this.#stopped || this.#out.has(peer) || this.#opening.has(peer) || this.#notValidators.has(peer) || this.#outsideSet.has(peer)) return
    // Held until the link is up or failed: a second link to the same peer would replace the
    // first and lose what was queued on it.
    this.#opening.add(peer)
    void this.#link(peer).finally(() => this.#opening.delete(peer))
  }

  async #link(peer: string): Promise<void> {
    let stream: Stream
    try {
      stream = await this.#m.net.openStream(peer, validatorLinkProtocol(this.#m.chainId), { signal: AbortSignal.timeout(HELLO_TIMEOUT_MS) })
    } catch (err) {
      // A peer without the protocol (host, RPC node) is not asked again on this connection;
      // other failures (timeouts under load, a connection going away) are retried by refresh().
      if (err instanceof Error && err.name === 'UnsupportedProtocolError') this.#notValidators.add(peer)
      return
    }
    try {
      stream.send(encodeFrame(FRAME.data, this.#hello(peer)))
      const frames = readFrames(stream, 256)[Symbol.asyncIterator]()
      const timer = setTimeout(() => stream.abort(new ValidatorLinkError('LINK_CLOSED', 'no hello in time')), HELLO_TIMEOUT_MS)
      const first = await frames.next().finally(() => clearTimeout(timer))
      // No answer (the peer refused us: outside its view of the set, or stopping) costs it nothing.
      if (first.done === true) return void stream.abort(new ValidatorLinkError('LINK_CLOSED', 'no hello'))
      if (first.value.type !== FRAME.data) throw new ValidatorLinkError('BAD_HELLO', 'not a hello', { peer })
      const validator = this.#checkHello(first.value.payload, peer)
      if (this.#stopped || this.#out.has(peer)) return void (await stream.close().catch(() => undefined))
      const link: Link = { peer, validator, stream, queue: [], queuedBytes: 0, flushing: false, tick: [], tickBytes: 0, tickMessages: 0, ...fastLinkEnd() }
      this.#out.set(peer, link)
      this.#m.log.debug({ peer, validator }, 'validator link open')
      this.#fast?.offer(link)
      // Nothing more comes this way than answers to our fast-link offers; its end (or an error) ends the link.
      void (async () => {
        try {
          for (;;) {
            const next = await frames.next()
            if (next.done === true) break
            if (next.value.type === FRAME.data && next.value.payload[0] === LINK_CONTROL.fastAnswer) this.#fast?.answer(link, next.value.payload.subarray(1))
          }
        } catch {
          // closed or aborted
        }
        this.#fast?.close(link, false)
        if (this.#out.get(peer) === link) this.#out.delete(peer)
      })()
    } catch (err) {
      if (err instanceof ValidatorLinkError && err.code === 'BAD_HELLO') this.#m.net.penalize(peer, LINK_GARBAGE_PENALTY, 'bad validator-link hello')
      if (err instanceof ValidatorLinkError && err.code === 'NOT_A_VALIDATOR') this.#outsideSet.add(peer)
      stream.abort(err instanceof Error ? err : new ValidatorLinkError('LINK_CLOSED', 'link failed'))
    }
  }

  /** A peer's outbound link: its hello, ours back, then its messages, each judged as gossip would be. */
  async #serveInbound(stream: Stream, peer: string): Promise<void> {
    // Bounded: a link whose messages we judge slower than they come pauses the stream (yamux then
    // grants no more window and the sender queues, see LINK_QUEUE_BYTES) instead of piling them up here.
    const frames = readFrames(readStreamBounded(stream, LINK_READ_HIGH_WATER_BYTES), MAX_FRAME_BYTES)[Symbol.asyncIterator]()
    try {
      const timer = setTimeout(() => stream.abort(new ValidatorLinkError('LINK_CLOSED', 'no hello in time')), HELLO_TIMEOUT_MS)
      const first = await frames.next().finally(() => clearTimeout(timer))
      if (first.done === true) return void stream.abort(new ValidatorLinkError('LINK_CLOSED', 'no hello'))
      if (first.value.type !== FRAME.data || first.value.payload.length > 256) throw new ValidatorLinkError('BAD_HELLO', 'not a hello', { peer })
      const validator = this.#checkHello(first.value.payload, peer)
      stream.send(encodeFrame(FRAME.data, this.#hello(peer)))
      // Our end is open too: a peer that needs a link back gets one.
      this.#open(peer)
      for (;;) {
        const next = await frames.next()
        if (next.done === true) break
        const payload = next.value.payload
        if (next.value.type === FRAME.data && payload[0] === LINK_CONTROL.fastOffer) {
          void this.#fast?.answerOffer(stream, peer, validator, payload.subarray(1))
          continue
        }
        const outcome = await this.#judge(next.value.type === FRAME.data ? payload : undefined, peer)
        if (outcome === 'garbage') return void stream.abort(new ValidatorLinkError('BAD_LINK_MESSAGE', 'not a link message', { peer }))
        // Banned (and being hung up on): what it queued before is not judged.
        if (outcome === 'banned') return void stream.abort(new ValidatorLinkError('LINK_CLOSED', 'peer banned'))
      }
      this.#fast?.closeInbound(peer)
      await stream.close().catch(() => undefined)
    } catch (err) {
      if (err instanceof ValidatorLinkError && err.code === 'BAD_HELLO') this.#m.net.penalize(peer, LINK_GARBAGE_PENALTY, 'bad validator-link hello')
      else if (isFramingGarbage(err)) this.#m.net.penalize(peer, LINK_GARBAGE_PENALTY, 'garbage on a validator link')
      stream.abort(err instanceof Error ? err : new ValidatorLinkError('LINK_CLOSED', 'link failed'))
    }
  }

  /** One message off a link (`[kind][bytes]`; undefined for a frame that is not data), judged as gossip would judge it. */
  async #judge(payload: Uint8Array | undefined, peer: string): Promise<'ok' | 'garbage' | 'banned'> {
    const topic = payload === undefined ? undefined : topicOfKind(payload[0])
    if (payload === undefined || topic === undefined || payload.length - 1 > GOSSIP_MAX_BYTES[topic]) {
      this.#m.net.penalize(peer, LINK_GARBAGE_PENALTY, 'garbage on a validator link')
      return 'garbage'
    }
    const verdict = await this.#m.receive(topic, payload.subarray(1), peer)
    if (verdict === 'reject') this.#m.net.penalize(peer, LINK_REJECT_PENALTY, `invalid ${topic} message on a validator link`)
    return this.#m.net.isBanned(peer) ? 'banned' : 'ok'
  }
}

function topicOfKind(kind: number | undefined): LinkTopic | undefined {
  return kind === LINK_KIND.consensus ? 'consensus' : kind === LINK_KIND.blocks ? 'blocks' : kind === LINK_KIND.transactions ? 'transactions' : undefined
}
