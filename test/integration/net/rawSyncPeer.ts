import { decode, encode } from '../../../blocks/codec.ts'
import { hash, utf8 } from '../../../src/crypto/index.ts'
import { BlocksByRangeRequest, BlocksByRangeResponse, type ChainStatus, createNetNode, type NetNode, protocolId, PROTOCOLS, serveStatus } from '../../../src/net/index.ts'

/**
 * A raw libp2p peer that speaks only the sync protocols (status, blocks-by-range) with answers the
 * test chooses: the attacker of the sync tests. It records every range request it gets.
 */
export interface RawSyncPeer {
  net: NetNode
  readonly rangeRequests: BlocksByRangeRequest[]
  readonly statusRequests: number
  /** Dials `addr` (a multiaddr with /p2p/<id>). */
  dial(addr: string): Promise<string>
  stop(): Promise<void>
}

export interface RawSyncPeerOpts {
  name: string
  chainId: string
  status: () => ChainStatus
  blocks: (req: BlocksByRangeRequest) => Promise<Uint8Array[]>
  /** Delay before each range answer (a slow peer). */
  answerDelayMs?: number
}

export async function startRawSyncPeer(opts: RawSyncPeerOpts): Promise<RawSyncPeer> {
  const net = createNetNode({ secretKey: hash(utf8(`raw-sync-peer/${opts.name}`)), chainId: opts.chainId, heartbeatMs: 200 })
  const rangeRequests: BlocksByRangeRequest[] = []
  let statusRequests = 0
  await serveStatus(net, () => {
    statusRequests++
    return opts.status()
  })
  // Its own handler (not serveBlocksByRange) to record the request exactly as the peer sent it.
  await net.handle(protocolId(opts.chainId, PROTOCOLS.blocksByRange), async (request) => {
    const req = decode(BlocksByRangeRequest, request)
    rangeRequests.push(req)
    if (opts.answerDelayMs) await new Promise((r) => setTimeout(r, opts.answerDelayMs))
    return encode(BlocksByRangeResponse, { blocks: (await opts.blocks(req)).slice(0, 64) })
  }, { maxRequestBytes: 64, timeoutMs: 30_000 })
  await net.start()
  return {
    net,
    rangeRequests,
    get statusRequests() {
      return statusRequests
    },
    dial: (addr) => net.dial(addr),
    stop: () => net.stop(),
  }
}
