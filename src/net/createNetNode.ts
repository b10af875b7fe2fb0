import '../polyfill.ts'

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { type GossipSub, gossipsub, type GossipsubMessage, TopicValidatorResult } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

import { CodecError } from '../../blocks/errors.ts'
import { hash } from '../crypto/hash.ts'
import { noiseCrypto } from './aead.ts'
import { coalesceSocketWritesOf } from './coalesceSocketWrites.ts'
import { deferYamuxWindowUpdates } from './deferYamuxWindowUpdates.ts'
import { NetError } from './errors.ts'
import { disabledComponentLogger, meshParams, parseAddr, parsePeer } from './libp2pInputs.ts'
import { type NetLogger, silentLogger } from './logger.ts'
import { collect, exchange, type HandleOpts, type RequestHandler, type RequestOpts, serveStream } from './reqresp.ts'
import { PeerPenalties, peerScoreParams, SCORE_THRESHOLDS } from './scoring.ts'
import { GOSSIP_MAX_BYTES, GOSSIP_TOPICS, type GossipTopic, isGossipTopic, topicName } from './topics.ts'

/**
 * A stream's receive window stops growing here (yamux's default is 16 MiB). A shard hand-off is
 * paced by its receiver (readStreamBounded pauses the stream while the store catches up), and
 * each resume lets the sender put a whole window on the connection at once: every other stream
 * of that connection (pings, votes, round-state, acks) waits behind it. With 16 MiB a loaded host
 * took long enough over it that libp2p's connection monitor missed a ping and aborted the
 * connection, and the hand-off with it (a 512 MiB run never finished). 4 MiB still fills a LAN
 * link, and a paused stream's read buffer must hold the window it granted (plus a frame).
 */
const MAX_STREAM_WINDOW_BYTES = 4 * 1024 * 1024
export type ValidationResult = 'accept' | 'reject' | 'ignore'

/**
 * `validate` decides what gossipsub does with a message: accept (deliver to `handle`, forward),
 * ignore (drop, no penalty: e.g. a block we cannot check yet), reject (drop and penalise the peer
 * that sent it: bytes that can never be valid). A CodecError thrown by `validate` counts as
 * reject, any other throw as ignore (our failure is not the peer's fault).
 */
export interface TopicHandlers {
  validate(data: Uint8Array, fromPeer: string): ValidationResult | Promise<ValidationResult>
  handle(data: Uint8Array, fromPeer: string): void | Promise<void>
  /** Lower the topic's size cap for this subscription (never raises it). */
  maxBytes?: number
}

export interface NetNodeOpts {
  /** 32-byte ed25519 seed; the peer id is derived from it, so a restart keeps the identity. */
  secretKey: Uint8Array
  listen?: string[]
  /** Addresses given to peers (identify) and returned by multiaddrs() instead of the listen ones. */
  announce?: string[]
  /** Multiaddrs with /p2p/<id>, dialled at start and re-dialled while disconnected. */
  bootstrap?: string[]
  chainId: string
  logger?: NetLogger
  /**
   * Gossipsub heartbeat (mesh maintenance, IHAVE gossip, score checks). Default 1 s (gossipsub's
   * own): publishing floods to every topic peer, so no message waits for a heartbeat, and a
   * shorter one only costs every node wake-ups and IHAVE traffic.
   */
  heartbeatMs?: number
  /**
   * How often libp2p's connection monitor pings each connection (a new stream each way, with
   * multistream negotiation and a peer-store write per stream). Default 30 s (libp2p's is 10 s): a
   * peer process that dies closes its sockets (seen at once); only a silently vanished host waits
   * for a failed ping (or TCP's retransmission timeout on a connection carrying blocks).
   */
  pingIntervalMs?: number
  /**
   * Gossipsub mesh degree D (Dlo = D − 1, Dhi = 2D, gossip to D peers outside the mesh). Default
   * 3: publishing floods to every connected peer, so on the networks this runs (tens of nodes)
   * the mesh only repairs, and every mesh peer costs each node a duplicate of every message
   * (decrypt, decode, content hash). A network of hundreds of nodes raises it (Ethereum uses 8).
   */
  meshDegree?: number
  /** How long a graylisted peer stays banned after we hang up on it. Default 10 min. */
  banMs?: number
  /** Re-dial period for bootstrap peers we are not connected to. Default 5 s. */
  bootstrapRetryMs?: number
  /** Per-topic caps; may only lower GOSSIP_MAX_BYTES. */
  gossipMaxBytes?: Partial<Record<GossipTopic, number>>
}

export interface NetNode {
  readonly peerId: string
  readonly chainId: string
  start(): Promise<void>
  stop(): Promise<void>
  multiaddrs(): string[]
  peers(): string[]
  dial(addr: string): Promise<string>
  hangUp(peer: string): Promise<void>
  subscribe(topic: GossipTopic, handlers: TopicHandlers): void
  unsubscribe(topic: GossipTopic): void
  /** Returns how many peers the message was sent to (0 is not an error: nobody may listen yet). */
  publish(topic: GossipTopic, data: Uint8Array): Promise<number>
  /** Peers subscribed to a topic, as far as gossipsub knows. */
  topicPeers(topic: GossipTopic): string[]
  handle(protocol: string, handler: RequestHandler, opts?: HandleOpts): Promise<void>
  unhandle(protocol: string): Promise<void>
  /**
   * A protocol of long-lived streams with their own framing (validator links): `handler` gets each
   * inbound stream and owns it. At most `maxInboundStreams` at once per connection. Registered at
   * start when called before.
   */
  handleStream(protocol: string, handler: (stream: Stream, peer: string) => void, opts: { maxInboundStreams: number }): Promise<void>
  /** Opens a stream of `protocol` (or the first of `protocols` the peer speaks: `stream.protocol` says which) on the open connection to `peer` (never dials); throws when there is none or the peer speaks none of them. */
  openStream(peer: string, protocol: string | string[], opts: { signal: AbortSignal }): Promise<Stream>
  request(peer: string, protocol: string, data: Uint8Array, opts?: RequestOpts): Promise<Uint8Array>
  requestStream(peer: string, protocol: string, data: Uint8Array, opts?: RequestOpts): AsyncIterable<Uint8Array>
  /** Called with the peer id whenever a peer connects or disconnects; returns an unsubscribe function. */
  onPeer(event: 'connect' | 'disconnect', listener: (peer: string) => void): () => void
  /** Gossipsub score of a peer (0 for unknown peers). */
  score(peer: string): number
  isBanned(peer: string): boolean
  /**
   * Scores a peer down for misbehaviour outside gossip (scoring.ts SYNC_PENALTY; `points` < 0).
   * The penalty joins its gossipsub score; below the graylist threshold it is hung up on and banned.
   */
  penalize(peer: string, points: number, reason: string): void
  /** The underlying libp2p node, for tests and diagnostics; undefined before start. */
  readonly libp2p: Libp2p<{ pubsub: GossipSub }> | undefined
}

/** What gossipsub exposes beyond its published interface (present on the class, see gossipsub.d.ts). */
interface GossipSubExtras {
  getScore(peerId: string): number
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void
}

function toResult(r: ValidationResult): TopicValidatorResult {
  return r === 'accept' ? TopicValidatorResult.Accept : r === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
}

export function createNetNode(opts: NetNodeOpts): NetNode {
  deferYamuxWindowUpdates()
  if (!(opts.secretKey instanceof Uint8Array) || opts.secretKey.length !== 32) throw new NetError('BAD_KEY', 'secretKey must be a 32-byte ed25519 seed')
  const log = opts.logger ?? silentLogger
  const chainId = opts.chainId
  const listen = opts.listen ?? ['/ip4/127.0.0.1/tcp/0']
  const bootstrap = (opts.bootstrap ?? []).map((a) => ({ text: a, addr: parseAddr(a) }))
  const banMs = opts.banMs ?? 10 * 60_000
  const capOf = (topic: GossipTopic): number => Math.min(GOSSIP_MAX_BYTES[topic], opts.gossipMaxBytes?.[topic] ?? Infinity)
  const names = new Map<string, GossipTopic>(GOSSIP_TOPICS.map((t) => [topicName(chainId, t), t]))
  const subscriptions = new Map<GossipTopic, TopicHandlers>()
  const handlers = new Map<string, { handler: RequestHandler; opts: HandleOpts }>()
  const streamHandlers = new Map<string, { handler: (stream: Stream, peer: string) => void; maxInboundStreams: number }>()
  const banned = new Map<string, number>() // peer id -> banned until (ms)
  const penalties = new PeerPenalties()
  let node: Libp2p<{ pubsub: GossipSub }> | undefined
  let peerIdText: string | undefined
  let retryTimer: ReturnType<typeof setInterval> | undefined
  const peerListeners = { connect: new Set<(peer: string) => void>(), disconnect: new Set<(peer: string) => void>() }
  const emitPeer = (event: 'connect' | 'disconnect', peer: string): void => {
    for (const l of peerListeners[event]) {
      try {
        l(peer)
      } catch (err) {
        log.warn('peer listener failed', { event, peer, message: err instanceof Error ? err.message : String(err) })
      }
    }
  }
  const onConnect = (evt: CustomEvent<PeerId>): void => emitPeer('connect', evt.detail.toString())
  const onDisconnect = (evt: CustomEvent<PeerId>): void => emitPeer('disconnect', evt.detail.toString())

  const isBanned = (peer: string): boolean => {
    const until = banned.get(peer)
    if (until === undefined) return false
    if (until > Date.now()) return true
    banned.delete(peer)
    return false
  }

  const started = (): Libp2p<{ pubsub: GossipSub }> => {
    if (node === undefined) throw new NetError('NOT_STARTED', 'net node is not started')
    return node
  }
  const pubsub = (): GossipSub & GossipSubExtras => started().services.pubsub as GossipSub & GossipSubExtras
  /**
   * The distinct peers of the open connections by id, from the connections' own PeerIds (strings
   * cached): libp2p's getPeers() rebuilds each from its string, a base58 decode per peer per call
   * (~175 µs for 9 peers against ~5, scripts/bench/heartbeatPeers.ts; once a heartbeat, per block).
   */
  const connectedPeers = (n: Libp2p): Map<string, PeerId> => new Map(n.getConnections().map((c) => [c.remotePeer.toString(), c.remotePeer]))

  const onGossip = (evt: CustomEvent<GossipsubMessage>): void => {
    const { msgId, propagationSource, msg } = evt.detail
    const from = propagationSource.toString()
    const topic = names.get(msg.topic)
    const sub = topic === undefined ? undefined : subscriptions.get(topic)
    const report = (r: TopicValidatorResult): void => {
      try {
        pubsub().reportMessageValidationResult(msgId, from, r)
      } catch {
        // node stopped while validating
      }
    }
    if (topic === undefined || sub === undefined) return report(TopicValidatorResult.Ignore)
    const cap = Math.min(capOf(topic), sub.maxBytes ?? Infinity)
    if (msg.data.length > cap) {
      log.debug('gossip message over cap', { topic, from, bytes: msg.data.length, cap })
      return report(TopicValidatorResult.Reject)
    }
    void (async () => {
      let result: ValidationResult
      try {
        result = await sub.validate(msg.data, from)
        if (result !== 'accept' && result !== 'reject' && result !== 'ignore') result = 'ignore'
      } catch (err) {
        result = err instanceof CodecError ? 'reject' : 'ignore'
        log.debug('gossip validator threw', { topic, from, result, message: err instanceof Error ? err.message : String(err) })
      }
      report(toResult(result))
      if (result !== 'accept') return
      try {
        await sub.handle(msg.data, from)
      } catch (err) {
        log.warn('gossip handler failed', { topic, from, message: err instanceof Error ? err.message : String(err) })
      }
    })()
  }

  const ban = (peer: PeerId, reason: string, score: number): void => {
    const id = peer.toString()
    banned.set(id, Date.now() + banMs)
    log.warn('banning peer', { peer: id, reason, score, banMs })
    node?.hangUp(peer).catch(() => {})
  }

  /** A graylisted peer is already ignored by gossipsub; we also drop the connection and refuse it for banMs. */
  const onHeartbeat = (): void => {
    if (node === undefined) return
    const ps = pubsub()
    for (const [id, peer] of connectedPeers(node)) {
      const score = ps.getScore(id)
      if (score < SCORE_THRESHOLDS.graylistThreshold) ban(peer, 'graylisted', score)
    }
  }

  const redialBootstrap = (): void => {
    if (node === undefined) return
    const connected = connectedPeers(node)
    for (const b of bootstrap) {
      const id = b.addr.getComponents().find((c) => c.name === 'p2p')?.value
      if (id !== undefined && (connected.has(id) || id === peerIdText)) continue
      node.dial(b.addr).catch((err: unknown) => log.debug('bootstrap dial failed', { addr: b.text, message: err instanceof Error ? err.message : String(err) }))
    }
  }

  const self: NetNode = {
    chainId,
    get peerId(): string {
      if (peerIdText === undefined) throw new NetError('NOT_STARTED', 'net node is not started')
      return peerIdText
    },
    get libp2p() {
      return node
    },

    async start() {
      if (node !== undefined) return
      const privateKey = await generateKeyPairFromSeed('Ed25519', opts.secretKey)
      const topicNames = [...names.keys()]
      const maxCap = Math.max(...GOSSIP_TOPICS.map(capOf))
      const created = await createLibp2p({
        privateKey,
        ...(process.env.DEBUG === undefined ? { logger: disabledComponentLogger } : {}),
        addresses: { listen, ...(opts.announce ? { announce: opts.announce } : {}) },
        transports: [tcp()],
        connectionEncrypters: [noise({ crypto: noiseCrypto })],
        streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW_BYTES, maxReadBufferLength: MAX_STREAM_WINDOW_BYTES + 1024 * 1024 } })],
        connectionMonitor: { pingInterval: opts.pingIntervalMs ?? 30_000 },
        connectionGater: {
          denyDialPeer: (peer) => isBanned(peer.toString()),
          denyInboundEncryptedConnection: (peer) => isBanned(peer.toString()),
          denyOutboundEncryptedConnection: (peer) => isBanned(peer.toString()),
        },
        services: {
          identify: identify(),
          ping: ping(),
          pubsub: gossipsub({
            globalSignaturePolicy: 'StrictNoSign',
            // Message id = hash of the content: the seen cache suppresses duplicates by content.
            msgIdFn: (msg) => hash(msg.data),
            asyncValidation: true,
            allowPublishToZeroTopicPeers: true,
            ignoreDuplicatePublishError: true,
            emitSelf: false,
            heartbeatInterval: opts.heartbeatMs ?? 1_000,
            ...meshParams(opts.meshDegree ?? 3),
            allowedTopics: topicNames,
            // Frames above the largest topic cap are cut at decode, before any allocation.
            maxInboundDataLength: maxCap + 64 * 1024,
            scoreParams: peerScoreParams(topicNames, (id) => penalties.score(id)),
            scoreThresholds: SCORE_THRESHOLDS,
          }),
        },
      })
      node = created
      peerIdText = created.peerId.toString()
      const ps = created.services.pubsub
      ps.addEventListener('gossipsub:message', onGossip)
      ps.addEventListener('gossipsub:heartbeat', onHeartbeat)
      created.addEventListener('peer:connect', onConnect)
      coalesceSocketWritesOf(created)
      created.addEventListener('peer:disconnect', onDisconnect)
      for (const topic of subscriptions.keys()) ps.subscribe(topicName(chainId, topic))
      for (const [protocol, h] of handlers) await registerHandler(created, protocol, h.handler, h.opts)
      for (const [protocol, h] of streamHandlers) await registerStreamHandler(created, protocol, h.handler, h.maxInboundStreams)
      redialBootstrap()
      retryTimer = setInterval(redialBootstrap, opts.bootstrapRetryMs ?? 5_000)
      retryTimer.unref()
      log.info('net node started', { peerId: peerIdText, addrs: self.multiaddrs() })
    },

    async stop() {
      if (retryTimer !== undefined) clearInterval(retryTimer)
      retryTimer = undefined
      const n = node
      if (n === undefined) return
      n.services.pubsub.removeEventListener('gossipsub:message', onGossip)
      n.services.pubsub.removeEventListener('gossipsub:heartbeat', onHeartbeat)
      n.removeEventListener('peer:connect', onConnect)
      n.removeEventListener('peer:disconnect', onDisconnect)
      node = undefined
      await n.stop()
      log.info('net node stopped', { peerId: peerIdText })
    },

    multiaddrs() {
      return started().getMultiaddrs().map((a) => a.toString())
    },

    peers() {
      return [...connectedPeers(started()).keys()]
    },

    async dial(addr) {
      const ma = parseAddr(addr)
      try {
        const conn = await started().dial(ma)
        return conn.remotePeer.toString()
      } catch (cause) {
        if (cause instanceof NetError) throw cause
        throw new NetError('DIAL_FAILED', `dial ${addr} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { addr }, { cause })
      }
    },

    async hangUp(peer) {
      await started().hangUp(parsePeer(peer))
    },

    subscribe(topic, h) {
      if (!isGossipTopic(topic)) throw new NetError('UNKNOWN_TOPIC', `unknown topic ${String(topic)}`)
      if (subscriptions.has(topic)) throw new NetError('ALREADY_SUBSCRIBED', `already subscribed to ${topic}`)
      subscriptions.set(topic, h)
      node?.services.pubsub.subscribe(topicName(chainId, topic))
    },

    unsubscribe(topic) {
      subscriptions.delete(topic)
      node?.services.pubsub.unsubscribe(topicName(chainId, topic))
    },

    async publish(topic, data) {
      if (!isGossipTopic(topic)) throw new NetError('UNKNOWN_TOPIC', `unknown topic ${String(topic)}`)
      if (!(data instanceof Uint8Array)) throw new NetError('BAD_MESSAGE', 'gossip data must be bytes')
      const cap = capOf(topic)
      if (data.length > cap) throw new NetError('MESSAGE_TOO_LARGE', `${topic} message of ${data.length} bytes exceeds ${cap}`, { topic, bytes: data.length, max: cap })
      try {
        const res = await pubsub().publish(topicName(chainId, topic), data)
        return res.recipients.length
      } catch (cause) {
        if (cause instanceof NetError) throw cause
        throw new NetError('PUBLISH_FAILED', `publish on ${topic} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { topic }, { cause })
      }
    },

    topicPeers(topic) {
      return pubsub().getSubscribers(topicName(chainId, topic)).map((p) => p.toString())
    },

    async handle(protocol, handler, hOpts = {}) {
      handlers.set(protocol, { handler, opts: hOpts })
      if (node !== undefined) await registerHandler(node, protocol, handler, hOpts)
    },

    async unhandle(protocol) {
      handlers.delete(protocol)
      streamHandlers.delete(protocol)
      if (node !== undefined) await node.unhandle(protocol)
    },

    async handleStream(protocol, handler, hOpts) {
      streamHandlers.set(protocol, { handler, maxInboundStreams: hOpts.maxInboundStreams })
      if (node !== undefined) await registerStreamHandler(node, protocol, handler, hOpts.maxInboundStreams)
    },

    async openStream(peer, protocol, sOpts) {
      const conn = started().getConnections(parsePeer(peer)).find((c) => c.status === 'open')
      if (conn === undefined) throw new NetError('DIAL_FAILED', `no open connection to ${peer}`, { protocol: typeof protocol === 'string' ? protocol : protocol.join(' ') })
      return conn.newStream(protocol, { signal: sOpts.signal })
    },

    async request(peer, protocol, data, rOpts) {
      return collect(self.requestStream(peer, protocol, data, rOpts))
    },

    requestStream(peer, protocol, data, rOpts) {
      const n = started()
      const target = peer.startsWith('/') ? parseAddr(peer) : parsePeer(peer)
      return exchange((signal) => n.dialProtocol(target, protocol, { signal }), protocol, data, rOpts)
    },

    onPeer(event, listener) {
      peerListeners[event].add(listener)
      return () => peerListeners[event].delete(listener)
    },

    score(peer) {
      return node === undefined ? 0 : pubsub().getScore(peer)
    },

    isBanned,

    penalize(peer, points, reason) {
      const score = penalties.add(peer, points)
      log.debug('peer penalized', { peer, points, reason, score })
      if (score < SCORE_THRESHOLDS.graylistThreshold && !isBanned(peer)) ban(parsePeer(peer), reason, score)
    },
  }

  async function registerHandler(n: Libp2p<{ pubsub: GossipSub }>, protocol: string, handler: RequestHandler, hOpts: HandleOpts): Promise<void> {
    await n.handle(protocol, (stream, connection) => serveStream(stream, connection.remotePeer.toString(), protocol, handler, hOpts, log), {
      maxInboundStreams: 64,
      force: true,
    })
  }

  async function registerStreamHandler(n: Libp2p<{ pubsub: GossipSub }>, protocol: string, handler: (stream: Stream, peer: string) => void, maxInboundStreams: number): Promise<void> {
    await n.handle(protocol, (stream, connection) => handler(stream, connection.remotePeer.toString()), { maxInboundStreams, force: true })
  }

  return self
}
