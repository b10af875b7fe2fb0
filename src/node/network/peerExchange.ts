import { decode, encode, list, str } from '../../../blocks/codec.ts'
import type { NetNode } from '../../net/index.ts'
import type { Logger } from '../logger.ts'

/**
 * Peer exchange: a node answers with the listen addresses (learnt by identify) of the peers it
 * is connected to, so nodes that only know a bootstrap node find each other and the mesh does
 * not hang on one node.
 */
export const PeerList = list(str(512), 64)
export function peerExchangeProtocol(chainId: string): string {
  return `/xsc/${chainId}/peers/1`
}

const MAX_PEERS = 32
/** Addresses in one answer. */
const MAX_ANSWER_PEERS = 64
/**
 * How long an answer is served again: building one reads every connected peer's record from the
 * peer store, and every peer asks. A new connection is in the next answer (the connected set is
 * compared) or within this time at worst for an address change.
 */
export const PEER_LIST_TTL_MS = 15_000

export async function servePeerExchange(net: NetNode, now: () => number = Date.now): Promise<void> {
  let cached: { at: number; peers: string; answer: Uint8Array } | undefined
  await net.handle(peerExchangeProtocol(net.chainId), async () => {
    const connected = connectedPeers(net)
    const peers = connected.sort().join()
    if (cached !== undefined && cached.peers === peers && now() - cached.at < PEER_LIST_TTL_MS) return cached.answer
    const addrs = await connectedPeerAddrs(net)
    const answer = encode(PeerList, addrs)
    // Kept only when complete: a peer not identified yet (no address) is in the next answer.
    cached = addrs.length >= Math.min(MAX_ANSWER_PEERS, connected.length) ? { at: now(), peers, answer } : undefined
    return answer
  }, { maxRequestBytes: 0, maxBodyBytes: 0, timeoutMs: 5_000 })
}

async function connectedPeerAddrs(net: NetNode): Promise<string[]> {
  const lp = net.libp2p
  if (lp === undefined) return []
  const out: string[] = []
  for (const id of lp.getPeers()) {
    try {
      const peer = await lp.peerStore.get(id)
      const addr = peer.addresses.map((a) => a.multiaddr.toString()).find((a) => a.includes('/tcp/'))
      if (addr !== undefined) out.push(addr.includes('/p2p/') ? addr : `${addr}/p2p/${id.toString()}`)
    } catch {
      // not in the peer store (yet)
    }
    if (out.length >= MAX_ANSWER_PEERS) break
  }
  return out
}

/** The peers we are connected to, or none while libp2p is not running. */
export function connectedPeers(net: NetNode): string[] {
  try {
    return net.peers()
  } catch {
    return []
  }
}

/** Asks `peer` for its peers and dials the ones we are not connected to, up to MAX_PEERS. */
export async function exchangePeers(net: NetNode, peer: string, log: Logger): Promise<void> {
  try {
    const res = await net.request(peer, peerExchangeProtocol(net.chainId), new Uint8Array(0), { timeoutMs: 5_000, maxResponseBytes: 64 * 1024 })
    const connected = new Set(connectedPeers(net))
    for (const addr of decode(PeerList, res)) {
      if (connected.size >= MAX_PEERS) return
      const id = addr.slice(addr.lastIndexOf('/p2p/') + 5)
      if (connected.has(id) || id === net.peerId || net.isBanned(id)) continue
      connected.add(id)
      net.dial(addr).catch((err: unknown) => log.debug({ addr, err: String(err) }, 'peer exchange dial failed'))
    }
  } catch (err) {
    log.debug({ peer, err: String(err) }, 'peer exchange failed')
  }
}
