// Storage benchmark: Reed-Solomon 4+2 encode and rebuild on 64 MiB, our WASM SIMD coder next to
// the reference (@subspace/reed-solomon-erasure.wasm) in the same run, plus the full asset
// pipeline (coding + data/shard/chunk hashes). Medians of a few runs; MB = 10^6 bytes.
// encryptOverhead: the client's side of `xsc deploy` for a --encrypt-mib (64) MiB file (the manifest
// pass and the upload pass's byte stream, consumed here instead of sent) encrypted ÷ --public,
// alternating, medians; the network upload, which encryption does not touch, is left out, so the
// ratio is an upper bound. Then read back on a devnet (storageReadBack.ts): getMBps for a --get-mib
// (256) MiB public blob by `xsc get`'s default path (the client reads the hosts' shard HTTP
// servers), getViaNodeMBps for `xsc get --via-node` (through a validator), getDirectMBps for
// `xsc get --direct` (libp2p), CPU ms per MiB per process role for each, decryptOverhead (a
// private read with decryption ÷ the public one); --no-devnet skips that part.
// Last line: one JSON object. Usage: npm run bench:storage [-- --mib 64 --runs 5 --get-mib 256 --no-devnet]
import { randomBytes, randomFillSync } from 'node:crypto'
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

import { prepareBlobStream } from '../../src/client/index.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { decodeAsset } from '../../src/storage/decodeAsset.ts'
import { encodeAsset } from '../../src/storage/encodeAsset.ts'
import type { ErasureCoder } from '../../src/storage/erasureCoder.ts'
import { getFastCoder } from '../../src/storage/fastCoder.ts'
import { loadReferenceCoder } from '../../src/storage/referenceCoder.ts'
import { measureReadBack, type ReadBackResult } from './storageReadBack.ts'
import { median } from './support/stats.ts'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const MIB = arg('mib', 64)
const RUNS = arg('runs', 5)
const K = 4
const M = 2
const dataBytes = MIB * 1024 * 1024
const shardLen = dataBytes / K
const LOST = [0, 2] // two data shards lost: the rebuild has real work to do

const mbps = (bytes: number, ms: number): number => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10

function measure(coder: ErasureCoder, template: Uint8Array): { encodeMs: number; rebuildMs: number; encoded: Uint8Array; rebuilt: Uint8Array } {
  const enc: number[] = []
  const reb: number[] = []
  let encoded = new Uint8Array(0)
  let rebuilt = new Uint8Array(0)
  const present = Array.from({ length: K + M }, (_, i) => !LOST.includes(i))
  for (let r = 0; r < RUNS; r++) {
    const buf = template.slice()
    let t = performance.now()
    coder.encode(buf, K, M)
    enc.push(performance.now() - t)
    encoded = buf.slice()
    for (const i of LOST) buf.fill(0, i * shardLen, (i + 1) * shardLen)
    t = performance.now()
    coder.reconstruct(buf, K, M, present)
    reb.push(performance.now() - t)
    rebuilt = buf
  }
  return { encodeMs: median(enc), rebuildMs: median(reb), encoded, rebuilt }
}

const template = new Uint8Array((K + M) * shardLen)
randomFillSync(template.subarray(0, dataBytes))

const fast = getFastCoder()
const reference = await loadReferenceCoder()
const ours = measure(fast, template)
const ref = measure(reference, template)
const identicalToReference = Buffer.compare(ours.encoded, ref.encoded) === 0 && Buffer.compare(ours.rebuilt, ref.encoded) === 0 && Buffer.compare(ref.rebuilt, ref.encoded) === 0

// Whole pipeline on the same data: segments of 1 MiB, manifest hashes (data, shards, chunk leaves).
const data = template.subarray(0, dataBytes)
const params = { k: K, m: M, segmentSize: 1 << 20, chunkSize: 4096 }
const pipeEnc: number[] = []
const pipeDec: number[] = []
for (let r = 0; r < Math.min(RUNS, 3); r++) {
  let t = performance.now()
  const { manifest, shards } = encodeAsset(data, params)
  pipeEnc.push(performance.now() - t)
  const given = shards.map((s, i) => (LOST.includes(i) ? undefined : s))
  t = performance.now()
  decodeAsset(manifest, given)
  pipeDec.push(performance.now() - t)
}

// Encryption at rest on deploy: what `xsc deploy` does with the file before the tx, encrypted and public, same file.
const owner = generateKeyPair()
const ENCRYPT_MIB = arg('encrypt-mib', 64)
const encFile = join(mkdtempSync(join(tmpdir(), 'xsc-bench-enc-')), 'plain.bin')
writeFileSync(encFile, randomBytes(ENCRYPT_MIB << 20))
const deployCoding = { k: K, m: M, segmentSize: 4 << 20, chunkSize: 256 }
async function timeDeployWork(isPublic: boolean): Promise<number> {
  const t = performance.now()
  const stored = await prepareBlobStream({ plain: { size: ENCRYPT_MIB << 20, open: () => createReadStream(encFile, { highWaterMark: 1 << 20 }) }, owner, public: isPublic, coding: deployCoding })
  let n = 0
  for await (const chunk of stored.bytes.open()) n += chunk.length
  if (n !== stored.bytes.size) throw new Error(`upload stream gave ${n} of ${stored.bytes.size} bytes`)
  return performance.now() - t
}
const deployRatios: number[] = []
for (let r = 0; r < RUNS; r++) {
  // Alternate the order so drift in the machine's load hits both sides alike.
  const pub1 = r % 2 === 0 ? await timeDeployWork(true) : 0
  const enc = await timeDeployWork(false)
  const pub = r % 2 === 1 ? await timeDeployWork(true) : pub1
  deployRatios.push(enc / pub)
}
rmSync(dirname(encFile), { recursive: true, force: true })
const encryptOverhead = Math.round(median(deployRatios) * 100) / 100

let readBack: ReadBackResult | { skipped: string } = { skipped: '--no-devnet' }
if (!process.argv.includes('--no-devnet')) {
  readBack = await measureReadBack({ repoRoot: fileURLToPath(new URL('../..', import.meta.url)), getMiB: arg('get-mib', 256), encryptMiB: arg('encrypt-mib', 64), runs: Math.min(RUNS, 3), logLevel: 'warn' })
}

const result = {
  bench: 'storage',
  k: K,
  m: M,
  dataMiB: MIB,
  runs: RUNS,
  encodeMBps: mbps(dataBytes, ours.encodeMs),
  rebuildMBps: mbps(dataBytes, ours.rebuildMs),
  referenceEncodeMBps: mbps(dataBytes, ref.encodeMs),
  referenceRebuildMBps: mbps(dataBytes, ref.rebuildMs),
  encodeSpeedup: Math.round((ref.encodeMs / ours.encodeMs) * 100) / 100,
  rebuildSpeedup: Math.round((ref.rebuildMs / ours.rebuildMs) * 100) / 100,
  identicalToReference,
  pipelineEncodeMBps: mbps(dataBytes, median(pipeEnc)),
  pipelineDecodeMBps: mbps(dataBytes, median(pipeDec)),
  goalEncodeMBps: 1000,
  goalMet: mbps(dataBytes, ours.encodeMs) >= 1000,
  encryptMiB: ENCRYPT_MIB,
  encryptOverhead,
  ...readBack,
  goalGetMBps: 100,
  goalEncryptOverhead: 1.1,
}
console.log(`deploy work for ${ENCRYPT_MIB} MiB, encrypted ÷ public: ${encryptOverhead} (goal 1.1)`)
if ('getMBps' in readBack) console.log(`get ${readBack.getMiB} MiB from the devnet: ${readBack.getMBps} MB/s from the hosts' HTTP servers (goal 100; CPU ms/MiB ${JSON.stringify(readBack.cpuMsPerMiB.get)}), ${readBack.getViaNodeMBps} MB/s --via-node (${JSON.stringify(readBack.cpuMsPerMiB.getViaNode)}), ${readBack.getDirectMBps} MB/s --direct; decryption on read ${readBack.decryptOverhead}`)
console.log(`encode ${result.encodeMBps} MB/s (reference ${result.referenceEncodeMBps}), rebuild ${result.rebuildMBps} MB/s (reference ${result.referenceRebuildMBps}), identical ${identicalToReference}`)
console.log(JSON.stringify(result))
