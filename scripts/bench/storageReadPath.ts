// The read path without consensus, one process per role, for profiling (`--cpu-prof` per
// process via XSC_READ_PATH_PROF=<dir>): six host libp2p nodes with real ShardStores (one process)
// serve shard/range; a "validator" process reads through createAssetSource's path (streamAsset
// over fetchShardRange) and serves GET /assets/<id>; this process is the client (fetch, sha256
// of what it received, bytes discarded). Prints MB/s of the HTTP read. Not part of bench:storage.
// --path hosts: what `xsc get` does by default instead: this process reads the six hosts' shard
// HTTP servers itself (src/node/shardHttpServer.ts) with streamAsset over ShardHttpReader (every
// window checked, shard hashes at the end), the "validator" idle.
// Usage: npx tsx scripts/bench/storageReadPath.ts [--mib 256] [--runs 3] [--path node|hosts]
import { fork } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { Session } from 'node:inspector'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

import { decode, encode } from '../../blocks/codec.ts'
import { Manifest as ManifestCodec } from '../../blocks/schema.ts'
type Manifest = import('../../blocks/schema.ts').Manifest
import { equalBytes, fromHex, hash, toHex } from '../../src/crypto/index.ts'
import { createNetNode, fetchShardPageRoots, fetchShardRange, serveShards } from '../../src/net/index.ts'
import { startShardHttpServer } from '../../src/node/shardHttpServer.ts'
import { createAssetRoute } from '../../src/rpc/assetRoute.ts'
import { encodeAsset } from '../../src/storage/encodeAsset.ts'
import { createIncrementalHash } from '../../src/storage/incrementalHash.ts'
import { ShardHttpReader } from '../../src/storage/shardHttpReader.ts'
import { ShardStore } from '../../src/storage/ShardStore.ts'
import { streamAsset } from '../../src/storage/streamAsset.ts'
import { median } from './support/stats.ts'

const CHAIN = 'readpath'
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const send = (msg: unknown): void => void process.send!(msg)

/** CPU profile of this process between start and stop (node:inspector), written to `dir` when set. */
function profiler(dir: string | undefined, name: string): { start(): Promise<void>; stop(): Promise<void> } {
  if (dir === undefined) return { start: async () => undefined, stop: async () => undefined }
  const session = new Session()
  session.connect()
  const post = (method: string): Promise<unknown> => new Promise((resolve, reject) => session.post(method, (err, res) => (err ? reject(err) : resolve(res))))
  return {
    start: async () => {
      await post('Profiler.enable')
      await post('Profiler.start')
    },
    stop: async () => {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown }
      writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile))
    },
  }
}
const nextMessage = <T>(child: NodeJS.Process | import('node:child_process').ChildProcess): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)))

/** A role process's profiled window, told by the parent: start, stop, then one more message to go on. */
async function profileUntilTold(name: string): Promise<void> {
  const prof = profiler(process.env.XSC_READ_PATH_PROF, name)
  await nextMessage(process)
  await prof.start()
  const cpu = process.cpuUsage()
  send('started')
  await nextMessage(process)
  const used = process.cpuUsage(cpu)
  await prof.stop()
  send({ cpuUs: used.user + used.system })
  await nextMessage(process)
}

async function runHosts(dir: string, mib: number): Promise<void> {
  const data = new Uint8Array(mib << 20)
  randomFillSync(data)
  const { manifest, shards } = encodeAsset(data, { k: 4, m: 2, segmentSize: 4 << 20, chunkSize: 256 })
  const asset = hash(encode(ManifestCodec, manifest))
  const addrs: string[] = []
  const urls: string[] = []
  const stores: ShardStore[] = []
  for (let i = 0; i < 6; i++) {
    const store = await ShardStore.open(join(dir, `host-${i}`), { capacityBytes: 1n << 40n })
    await store.put(manifest, asset, i, shards[i]!)
    stores.push(store)
    const net = createNetNode({ secretKey: seed(10 + i), chainId: CHAIN })
    await net.start()
    await serveShards(net, {
      openShard: async (ref) => ((await store.has(ref.asset, ref.shardIndex)) ? store.getStream(ref.asset, ref.shardIndex) : undefined),
      readShardRange: async (ref) => ((await store.has(ref.asset, ref.shardIndex)) ? store.getRangeParts(ref.asset, ref.shardIndex, ref.offset, ref.length) : undefined),
      readPageRoots: (ref) => store.pageRoots(ref.asset, ref.shardIndex),
      expectedShardHash: async () => undefined,
      putShardStream: async () => undefined,
    })
    addrs.push(`${net.multiaddrs()[0]!}`)
    const http = await startShardHttpServer({
      servable: async (a, i) => ((await store.has(a, i)) ? Number(manifest.shardSize) : undefined),
      readRange: (a, i, offset, length) => store.getRangeParts(a, i, offset, length),
      pageRoots: (a, i) => store.pageRoots(a, i),
    }, { host: '127.0.0.1', port: 0 })
    urls.push(http.url)
  }
  send({ addrs, urls, manifest: toHex(encode(ManifestCodec, manifest)), asset: toHex(asset) })
  await profileUntilTold('hosts')
  for (const s of stores) await s.close()
  process.exit(0)
}

async function runValidator(): Promise<void> {
  const { addrs, manifest: manifestHex, asset: assetHex } = await nextMessage<{ addrs: string[]; manifest: string; asset: string }>(process)
  const manifest: Manifest = decode(ManifestCodec, fromHex(manifestHex))
  const asset = fromHex(assetHex, 32)
  const net = createNetNode({ secretKey: seed(3), chainId: CHAIN })
  await net.start()
  const peers = await Promise.all(addrs.map((a) => net.dial(a)))
  const placement = peers.map((_, i) => seed(10 + i).subarray(0, 20))
  const peerOf = new Map(placement.map((p, i) => [toHex(p), peers[i]!]))
  const route = createAssetRoute({
    open: async () => ({
      manifest,
      read: (start, end) => streamAsset(manifest, placement, (host, i, offset, length, into) => fetchShardRange(net, peerOf.get(toHex(host))!, { asset, shardIndex: i, offset, length, ...(into ? { into } : {}) }), {
        start, end, readPageRoots: (host, i) => fetchShardPageRoots(net, peerOf.get(toHex(host))!, { asset, shardIndex: i }),
      }),
    }),
  })
  const server = createServer((req, res) => void route(req, res, req.url ?? ''))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  send({ url: `http://127.0.0.1:${port}/assets/${assetHex}` })
  await profileUntilTold('validator')
  server.close()
  await net.stop()
  process.exit(0)
}

async function main(): Promise<void> {
  const mib = arg('mib', 256)
  const runs = arg('runs', 3)
  const dir = mkdtempSync(join(tmpdir(), 'xsc-readpath-'))
  const prof = process.env.XSC_READ_PATH_PROF
  const execArgv = ['--import', 'tsx']
  const script = new URL(import.meta.url).pathname
  const hosts = fork(script, ['hosts', dir, String(mib)], { execArgv })
  const validator = fork(script, ['validator'], { execArgv: [...execArgv, ...(process.env.XSC_READ_PATH_TRACE_GC ? ['--trace-gc'] : []), ...(process.env.XSC_READ_PATH_V8 ? process.env.XSC_READ_PATH_V8.split(' ') : [])], stdio: ['inherit', process.env.XSC_READ_PATH_TRACE_GC ? 'pipe' : 'inherit', 'inherit', 'ipc'] })
  let gcLines = ''
  validator.stdout?.on('data', (d: Buffer) => void (gcLines += d.toString()))
  try {
    const h = await nextMessage<{ addrs: string[]; urls: string[]; manifest: string; asset: string }>(hosts)
    validator.send(h)
    const { url } = await nextMessage<{ url: string }>(validator)
    const manifest: Manifest = decode(ManifestCodec, fromHex(h.manifest))
    const times: number[] = []
    const own = profiler(prof, 'client')
    for (const c of [hosts, validator]) c.send('start')
    await Promise.all([nextMessage(hosts), nextMessage(validator), own.start()])
    const ownCpu = process.cpuUsage()
    const viaHosts = process.argv.includes('hosts')
    const placement = h.urls.map((_, i) => seed(10 + i).subarray(0, 20))
    const asset = fromHex(h.asset, 32)
    for (let r = 0; r < runs; r++) {
      const t = performance.now()
      const hsh = createIncrementalHash()
      let n = 0
      if (viaHosts) {
        // streamAsset already proves whole reads against the shard hashes; the client hashes nothing more.
        const reader = new ShardHttpReader()
        for await (const chunk of streamAsset(manifest, placement, (_h, i, offset, length, into) => reader.readRange(h.urls[i]!, asset, i, offset, length, into))) n += chunk.length
        reader.close()
      } else {
        const res = await fetch(url)
        for await (const chunk of res.body!) {
          hsh.update(chunk)
          n += chunk.length
        }
      }
      if (n !== mib << 20 || (!viaHosts && !equalBytes(hsh.digest(), manifest.dataHash))) throw new Error(`read ${n} bytes, hash ok ${equalBytes(hsh.digest(), manifest.dataHash)}`)
      times.push(performance.now() - t)
      console.log(`run ${r}: ${((mib * 1.048576) / (times.at(-1)! / 1000)).toFixed(1)} MB/s`)
    }
    const clientCpu = process.cpuUsage(ownCpu)
    for (const c of [hosts, validator]) c.send('stop')
    const [hostsCpu, validatorCpu] = await Promise.all([nextMessage<{ cpuUs: number }>(hosts), nextMessage<{ cpuUs: number }>(validator), own.stop()])
    // CPU ms per MiB read, per process (the six hosts share one): holds up under load, unlike MB/s.
    const perMiB = (us: number): number => Math.round(us / 1000 / (mib * runs) * 100) / 100
    console.log(JSON.stringify({
      bench: 'storageReadPath', path: viaHosts ? 'hosts' : 'node', mib, runs, load: Math.round(loadavg()[0]! * 10) / 10, getMBps: Math.round(((mib * 1.048576) / (median(times) / 1000)) * 10) / 10,
      cpuMsPerMiB: { hosts: perMiB(hostsCpu.cpuUs), validator: perMiB(validatorCpu.cpuUs), client: perMiB(clientCpu.user + clientCpu.system) },
    }))
  } finally {
    validator.send('stop')
    hosts.send('stop')
    await Promise.all([new Promise((r) => validator.once('exit', r)), new Promise((r) => hosts.once('exit', r))])
    rmSync(dir, { recursive: true, force: true })
    if (gcLines !== '') writeFileSync(process.env.XSC_READ_PATH_TRACE_GC!, gcLines)
  }
}

const role = process.argv[2]
if (role === 'hosts') await runHosts(process.argv[3]!, Number(process.argv[4]))
else if (role === 'validator') await runValidator()
else await main()
