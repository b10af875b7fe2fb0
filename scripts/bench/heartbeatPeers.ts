/**
 * CPU of the per-heartbeat peer walk of createNetNode (the graylist check of `onHeartbeat`), on
 * real libp2p: one node dialled by `--peers` others, then `--calls` rounds of each way of listing
 * its peers with their scores, alternated A/B over `--rounds` (medians). `getPeers` is libp2p's
 * `node.getPeers()` (a PeerSet: each PeerId rebuilt from its string, a base58 decode); `connections`
 * walks the open connections' own PeerIds (strings cached), as `peers()` has since session 10.
 *
 *   npx tsx scripts/bench/heartbeatPeers.ts --peers 9 --calls 20000 --rounds 5
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'

import { createNetNode, type NetNode } from '../../src/net/index.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { peers: { type: 'string', default: '9' }, calls: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } })
const peers = Number(values.peers)
const calls = Number(values.calls)
const seed = (i: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j) & 0xff)
const nodes: NetNode[] = Array.from({ length: peers + 1 }, (_, i) => createNetNode({ secretKey: seed(i + 1), chainId: 'bench-heartbeat' }))
await Promise.all(nodes.map((n) => n.start()))
const [hub, ...rest] = nodes as [NetNode, ...NetNode[]]
for (const n of rest) {
  for (let attempt = 0; ; attempt++) {
    try {
      await n.dial(hub.multiaddrs()[0]!)
      break
    } catch (err) {
      // libp2p refuses more than a few inbound connections per second from one address: wait, try again.
      if (attempt === 9) throw err
      await new Promise((r) => setTimeout(r, 1_000))
    }
  }
}
const lp = hub.libp2p!
while (lp.getConnections().length < peers) await new Promise((r) => setTimeout(r, 50))

let sink = 0
const ways: Record<string, () => void> = {
  getPeers: () => {
    for (const peer of lp.getPeers()) sink += hub.score(peer.toString())
  },
  // As createNetNode's connectedPeers now does.
  connections: () => {
    for (const [id] of new Map(lp.getConnections().map((c) => [c.remotePeer.toString(), c.remotePeer]))) sink += hub.score(id)
  },
}
const usPerCall: Record<string, number[]> = { getPeers: [], connections: [] }
for (let r = 0; r < Number(values.rounds); r++) {
  for (const [name, f] of Object.entries(ways)) {
    const start = process.cpuUsage()
    for (let i = 0; i < calls; i++) f()
    const used = process.cpuUsage(start)
    usPerCall[name]!.push((used.user + used.system) / calls)
  }
}
await Promise.all(nodes.map((n) => n.stop()))
const result = { peers, calls, getPeersUsPerCall: round(median(usPerCall.getPeers!), 2), connectionsUsPerCall: round(median(usPerCall.connections!), 2), rounds: usPerCall, load1: round(loadavg()[0]!, 1), sink: sink === 0 ? 0 : 1 }
console.log(JSON.stringify(result))
