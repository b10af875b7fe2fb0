import { createNetNode, type NetNode, type NetNodeOpts } from '../../../src/net/index.ts'

export const CHAIN = 'testnet'

export function seed(n: number): Uint8Array {
  return new Uint8Array(32).fill(n)
}

/** Real libp2p nodes on 127.0.0.1 with a fast heartbeat so meshes form within a test's patience. */
export async function startNodes(count: number, extra: Partial<NetNodeOpts> = {}, firstSeed = 1): Promise<NetNode[]> {
  const nodes = Array.from({ length: count }, (_, i) => createNetNode({ secretKey: seed(firstSeed + i), chainId: CHAIN, heartbeatMs: 100, ...extra }))
  await Promise.all(nodes.map((n) => n.start()))
  return nodes
}

/** Two nodes (seeds `firstSeed`, `firstSeed + 1`), the first dialled to the second. */
export async function startConnectedPair(firstSeed: number): Promise<[NetNode, NetNode]> {
  const [a, b] = (await startNodes(2, {}, firstSeed)) as [NetNode, NetNode]
  await a.dial(b.multiaddrs()[0]!)
  return [a, b]
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export async function stopAll(nodes: NetNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()))
}

/** Dials every pair once and waits until every connection is open on both sides (the dialled side's opens a moment after the dialler's). */
export async function connectAll(ns: NetNode[]): Promise<void> {
  for (let i = 0; i < ns.length; i++) for (let j = i + 1; j < ns.length; j++) await ns[i]!.dial(ns[j]!.multiaddrs()[0]!)
  await waitFor(() => ns.every((n) => n.peers().length === ns.length - 1), 5_000, 'every connection open on both sides')
}

/** Records the penalties `net` hands out (the real penalize still runs). */
export function penaltiesOf(net: NetNode): { peer: string; points: number }[] {
  const seen: { peer: string; points: number }[] = []
  const real = net.penalize.bind(net)
  net.penalize = (peer, points, reason) => {
    seen.push({ peer, points })
    real(peer, points, reason)
  }
  return seen
}
