// The ceiling of the read path's transport: bytes per second over one libp2p stream (tcp + noise
// + yamux, as createNetNode builds it) between two processes on loopback, with nothing of ours
// on it (`raw`: the sender writes 256 KiB buffers, the receiver counts them), and the same
// bytes as shard/range answers (`framed`: our framing and exchange, fetchShardRange into one
// reused buffer, one request at a time and `--depth` at once). Usage:
//   npx tsx scripts/bench/libp2pStream.ts [--mib 256] [--runs 3] [--depth 4]
// The last stdout line is one JSON object (MB/s medians).
import '../../src/polyfill.ts'

import { fork } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'

import { createNetNode, fetchShardRange, serveShards } from '../../src/net/index.ts'
import { median, round } from './support/stats.ts'

const CHAIN = 'streambench'
const RAW = '/xsc/bench/raw/1'
const PIECE = 256 * 1024
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const nextMessage = <T>(p: NodeJS.Process | import('node:child_process').ChildProcess): Promise<T> => new Promise((resolve) => p.once('message', (m) => resolve(m as T)))

/** The serving process: a raw protocol that writes N bytes on request, and shard/range over a constant piece. */
async function runServer(): Promise<void> {
  const piece = new Uint8Array(PIECE)
  randomFillSync(piece)
  const net = createNetNode({ secretKey: new Uint8Array(32).fill(7), chainId: CHAIN })
  await net.start()
  await net.libp2p!.handle(RAW, async (stream) => {
    let want = 0
    for await (const chunk of stream) {
      want = new DataView(chunk.subarray().buffer, chunk.subarray().byteOffset).getUint32(0)
      break
    }
    for (let sent = 0; sent < want; sent += PIECE) if (!stream.send(piece)) await stream.onDrain()
    await stream.close()
  })
  await serveShards(net, {
    openShard: async () => undefined,
    readShardRange: async (ref) => {
      const parts: Uint8Array[] = []
      for (let o = 0; o < ref.length; o += PIECE) parts.push(piece.subarray(0, Math.min(PIECE, ref.length - o)))
      return parts
    },
    expectedShardHash: async () => undefined,
    putShardStream: async () => undefined,
  })
  process.send!({ addr: `${net.multiaddrs()[0]!}` })
  // 'cpu' asks for this process's CPU time so far (user + system, µs); anything else stops it.
  for (let m = await nextMessage<string>(process); m === 'cpu'; m = await nextMessage<string>(process)) {
    const u = process.cpuUsage()
    process.send!(u.user + u.system)
  }
  await net.stop()
  process.exit(0)
}

async function main(): Promise<void> {
  const mib = arg('mib', 256)
  const runs = arg('runs', 3)
  const depth = arg('depth', 4)
  const bytes = mib << 20
  const profDir = process.env.XSC_STREAM_PROF
  const server = fork(new URL(import.meta.url).pathname, ['server'], { execArgv: ['--import', 'tsx', ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])] })
  const net = createNetNode({ secretKey: new Uint8Array(32).fill(8), chainId: CHAIN })
  try {
    const { addr } = await nextMessage<{ addr: string }>(server)
    await net.start()
    const peer = await net.dial(addr)
    const mbps = (ms: number): number => (bytes / 1e6) / (ms / 1000)
    // CPU time per MiB moved, each side: unlike MB/s it holds up on a loaded machine.
    const cpuNow = async (): Promise<{ client: number; server: number }> => {
      server.send('cpu')
      const serverUs = await nextMessage<number>(server)
      const u = process.cpuUsage()
      return { client: u.user + u.system, server: serverUs }
    }
    const cpuPerMiB = (a: { client: number; server: number }, b: { client: number; server: number }, n: number) => ({
      clientMsPerMiB: round((b.client - a.client) / 1000 / (mib * n), 2),
      serverMsPerMiB: round((b.server - a.server) / 1000 / (mib * n), 2),
    })
    const rawRuns = process.argv.includes('--framed-only') ? 0 : runs
    const rawCpu0 = await cpuNow()
    const raw: number[] = []
    for (let r = 0; r < rawRuns; r++) {
      const t = performance.now()
      const stream = await net.libp2p!.dialProtocol(net.libp2p!.getConnections().find((c) => c.remotePeer.toString() === peer)!.remotePeer, RAW)
      const req = new Uint8Array(4)
      new DataView(req.buffer).setUint32(0, bytes)
      stream.send(req)
      await stream.close()
      let got = 0
      for await (const chunk of stream) got += chunk.byteLength
      if (got !== bytes) throw new Error(`raw: ${got} of ${bytes}`)
      raw.push(mbps(performance.now() - t))
      console.log(`raw run ${r}: ${raw.at(-1)!.toFixed(1)} MB/s`)
    }
    const rawCpu = cpuPerMiB(rawCpu0, await cpuNow(), rawRuns)
    const windowBytes = 2 << 20
    const framed: number[] = []
    const framedCpu0 = await cpuNow()
    for (let r = 0; r < runs; r++) {
      const t = performance.now()
      let next = 0
      const worker = async (): Promise<void> => {
        const into = new Uint8Array(windowBytes)
        for (let off = next; off < bytes; off = next) {
          next += windowBytes
          await fetchShardRange(net, peer, { asset: new Uint8Array(32), shardIndex: 0, offset: off, length: windowBytes, into })
        }
      }
      await Promise.all(Array.from({ length: depth }, worker))
      framed.push(mbps(performance.now() - t))
      console.log(`framed run ${r}: ${framed.at(-1)!.toFixed(1)} MB/s`)
    }
    const framedCpu = cpuPerMiB(framedCpu0, await cpuNow(), runs)
    console.log(JSON.stringify({ bench: 'libp2pStream', mib, runs, depth, load: round(loadavg()[0]!, 1), rawMBps: round(median(raw), 1), framedMBps: round(median(framed), 1), raw: rawCpu, framed: framedCpu }))
  } finally {
    await net.stop()
    server.send('stop')
    await new Promise((r) => server.once('exit', r))
  }
}

if (process.argv[2] === 'server') await runServer()
else await main()
