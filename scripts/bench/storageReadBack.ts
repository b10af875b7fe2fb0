// Read back on a real devnet (scripts/devnet.ts: validators + 6 host processes) of a public blob
// of --get-mib MiB, three ways, alternating: getMBps is `xsc get`'s default path
// (getAssetDataHostsStream, in this process: the manifest proven through a validator, shard
// windows read from the hosts' plain HTTP servers, checked and rebuilt here); getViaNodeMBps is
// `xsc get --via-node` (a validator reads the hosts over libp2p/HTTP and serves GET /assets/<id>);
// getDirectMBps is `xsc get --direct` (this process runs libp2p and reads the hosts). CPU ms per
// MiB per process role (this client, the six hosts, the validators) from /proc, which holds up
// under load when MB/s does not. Then the cost of decryption: the default read of a private blob
// with decryption ÷ the public read, same size.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

import { getAssetDataDirectStream } from '../../src/client/actions/getAssetDataDirect.ts'
import { type Client, createClient, deploy, getAssetDataHostsStream, getAssetDataStream, getChainParams, getHosts, http, prepareBlob } from '../../src/client/index.ts'
import { devnetKey } from '../devnetKeys.ts'
import { BenchError } from './support/benchError.ts'
import { devnetCpuByRole, launchDevnet, type LaunchedDevnet } from './support/launchDevnet.ts'
import { median } from './support/stats.ts'

/** CPU ms per MiB read, by process role (validators: all four, though one serves). */
export interface ReadCpu { client: number; hosts: number; validators: number }

export interface ReadBackResult {
  getMiB: number
  /** `xsc get` (the default): the client reads the hosts' shard HTTP servers (host → client). */
  getMBps: number
  /** `xsc get --via-node`: through a validator's GET /assets/<id> (host → validator → client). */
  getViaNodeMBps: number
  /** `xsc get --direct`: the client proves the manifest and reads the hosts itself over libp2p. */
  getDirectMBps: number
  /** Medians over the runs, per path. */
  cpuMsPerMiB: { get: ReadCpu; getViaNode: ReadCpu; getDirect: ReadCpu }
  encryptMiB: number
  /** A private read with decryption ÷ the same read of a public blob of the same size (the default path). */
  decryptOverhead: number
  getRuns: number
}

const mbps = (bytes: number, ms: number): number => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10

/** One full read, bytes discarded; returns ms. Memory stays bounded: nothing is kept. */
async function timeGet(client: Client, id: Uint8Array, key?: { secretKey: Uint8Array; publicKey: Uint8Array }): Promise<number> {
  const t = performance.now()
  const { data } = await getAssetDataStream(client, { id, ...(key ? { key } : {}) })
  let n = 0
  for await (const chunk of data) n += chunk.length
  if (n === 0) throw new BenchError('empty read')
  return performance.now() - t
}

/** One full default `xsc get` read (the hosts' HTTP servers), bytes discarded; returns ms. */
async function timeGetHosts(client: Client, id: Uint8Array, key?: { secretKey: Uint8Array; publicKey: Uint8Array }): Promise<number> {
  const t = performance.now()
  const stream = await getAssetDataHostsStream(client, { id, ...(key ? { key } : {}) })
  let n = 0
  for await (const chunk of stream.data) n += chunk.length
  if (n === 0) throw new BenchError('empty read')
  if (stream.via() !== 'hosts') console.log(`note: a default read went ${stream.via()}, not to the hosts alone (a fallback): its time counts as it is`)
  return performance.now() - t
}

/** ms of `read`, and the CPU it cost per MiB in this process, the hosts and the validators. */
async function withCpu(devnet: LaunchedDevnet, mib: number, read: () => Promise<number>): Promise<{ ms: number; cpu: ReadCpu }> {
  const before = devnetCpuByRole(devnet)
  const own = process.cpuUsage()
  const ms = await read()
  const used = process.cpuUsage(own)
  const after = devnetCpuByRole(devnet)
  const perMiB = (seconds: number): number => Math.round((seconds * 1000 / mib) * 100) / 100
  return { ms, cpu: { client: perMiB((used.user + used.system) / 1e6), hosts: perMiB(after.hosts - before.hosts), validators: perMiB(after.validators - before.validators) } }
}

const medianCpu = (xs: ReadCpu[]): ReadCpu => ({ client: median(xs.map((x) => x.client)), hosts: median(xs.map((x) => x.hosts)), validators: median(xs.map((x) => x.validators)) })

/** One full `xsc get --direct` read (the client's own libp2p node, proofs from the node), bytes discarded; returns ms. */
async function timeGetDirect(client: Client, id: Uint8Array): Promise<number> {
  const t = performance.now()
  const { data } = await getAssetDataDirectStream(client, { id })
  let n = 0
  for await (const chunk of data) n += chunk.length
  if (n === 0) throw new BenchError('empty read')
  return performance.now() - t
}

/** Deploys `plain` (public or encrypted) and waits until a full read succeeds (the hand-off to the hosts is done). */
async function deployAndWait(client: Client, plain: Uint8Array, isPublic: boolean, logTail: () => string): Promise<Uint8Array> {
  const account = devnetKey('account', 0)
  const { params } = await getChainParams(client)
  const coding = { k: params.dataShards, m: params.parityShards, segmentSize: params.segmentSize, chunkSize: params.chunkSize }
  const blob = await prepareBlob({ bytes: plain, owner: account, public: isPublic, coding })
  const hosts = await getHosts(client, { limit: 1000 })
  const bid = 2n * hosts.reduce((m, h) => (h.record.params.askPerByteEpoch > m ? h.record.params.askPerByteEpoch : m), 1n)
  const id = await deploy(client, { account, bytes: blob.bytes, manifest: blob.manifest, kind: 'blob', deposit: bid * blob.manifest.shardSize * 6n * 100n, bidPerByteEpoch: bid })
  // The hand-off of a 256 MiB blob (384 MiB of shards) can take minutes on a loaded machine.
  const deadline = Date.now() + 240_000 + 2_000 * Math.ceil(plain.length / (1 << 20))
  for (;;) {
    try {
      await timeGet(client, id, isPublic ? undefined : account)
      return id
    } catch (err) {
      if (Date.now() > deadline) throw new BenchError(`asset never became readable: ${(err as Error).message}; devnet log tail:\n${logTail()}`)
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
}

export async function measureReadBack(o: { repoRoot: string; getMiB: number; encryptMiB: number; runs: number; logLevel: string }): Promise<ReadBackResult> {
  const workDir = mkdtempSync(join(tmpdir(), 'xsc-bench-readback-'))
  let devnet: LaunchedDevnet | undefined
  let client: Client | undefined
  try {
    // The repo's devnet (genesis.json: four validators, six hosts) with a storage-ack deadline long
    // enough for the hand-off of a 256 MiB blob on a loaded machine (the devnet's one minute is
    // not: the placement was refunded before its shards arrived). It may take minutes to come up.
    const genesis = JSON.parse(readFileSync(join(o.repoRoot, 'genesis.json'), 'utf8')) as { params: Record<string, unknown> }
    const genesisFile = join(workDir, 'genesis.json')
    writeFileSync(genesisFile, JSON.stringify({ ...genesis, params: { ...genesis.params, storageAckBlocks: 3600 } }, null, 2))
    devnet = await launchDevnet({ repoRoot: o.repoRoot, workDir, validators: 4, hosts: 6, attempt: 0, logLevel: o.logLevel, genesisFile, readyTimeoutMs: 600_000 })
    const urls = await devnet.ready
    client = createClient({ transport: http(urls.validators[0]!) })
    const logTail = (): string => devnet?.log.tail(40) ?? ''
    const big = await deployAndWait(client, new Uint8Array(randomBytes(o.getMiB << 20)), true, logTail)
    const gets: { ms: number; cpu: ReadCpu }[] = []
    const viaNode: { ms: number; cpu: ReadCpu }[] = []
    const directs: { ms: number; cpu: ReadCpu }[] = []
    const d = devnet
    for (let r = 0; r < o.runs; r++) {
      gets.push(await withCpu(d, o.getMiB, () => timeGetHosts(client!, big)))
      viaNode.push(await withCpu(d, o.getMiB, () => timeGet(client!, big)))
      directs.push(await withCpu(d, o.getMiB, () => timeGetDirect(client!, big)))
      console.log(`run ${r}: get ${mbps(o.getMiB << 20, gets.at(-1)!.ms)} MB/s ${JSON.stringify(gets.at(-1)!.cpu)}, --via-node ${mbps(o.getMiB << 20, viaNode.at(-1)!.ms)} MB/s ${JSON.stringify(viaNode.at(-1)!.cpu)}, --direct ${mbps(o.getMiB << 20, directs.at(-1)!.ms)} MB/s ${JSON.stringify(directs.at(-1)!.cpu)}`)
    }
    const plain = new Uint8Array(randomBytes(o.encryptMiB << 20))
    const pub = await deployAndWait(client, plain, true, logTail)
    const priv = await deployAndWait(client, plain, false, logTail)
    const key = devnetKey('account', 0)
    const ratios: number[] = []
    for (let r = 0; r < o.runs; r++) {
      // Alternate the order so drift in the machine's load hits both sides alike.
      const a = r % 2 === 0 ? await timeGetHosts(client, pub) : 0
      const b = await timeGetHosts(client, priv, key)
      const c = r % 2 === 1 ? await timeGetHosts(client, pub) : a
      ratios.push(b / c)
    }
    return {
      getMiB: o.getMiB,
      getMBps: mbps(o.getMiB << 20, median(gets.map((g) => g.ms))),
      getViaNodeMBps: mbps(o.getMiB << 20, median(viaNode.map((g) => g.ms))),
      getDirectMBps: mbps(o.getMiB << 20, median(directs.map((g) => g.ms))),
      cpuMsPerMiB: { get: medianCpu(gets.map((g) => g.cpu)), getViaNode: medianCpu(viaNode.map((g) => g.cpu)), getDirect: medianCpu(directs.map((g) => g.cpu)) },
      encryptMiB: o.encryptMiB,
      decryptOverhead: Math.round(median(ratios) * 100) / 100,
      getRuns: o.runs,
    }
  } finally {
    await client?.close()
    await devnet?.group.stop()
    rmSync(workDir, { recursive: true, force: true })
  }
}
