// Storage benchmark: Reed-Solomon 4+2 encode and rebuild on 64 MiB, our WASM SIMD coder next to
// the reference (@subspace/reed-solomon-erasure.wasm) in the same run, plus the full asset
// pipeline (coding + data/shard/chunk hashes). Medians of a few runs; MB = 10^6 bytes.
// Then read back on a devnet (storageReadBack.ts): getMBps for a --get-mib (256) MiB public blob and
// encryptOverhead (a private --encrypt-mib (64) MiB read with decryption ÷ the public one);
// --no-devnet skips that part. Also encryptOverheadLocal: (encrypt + encode) ÷ encode in this process.
// Last line: one JSON object. Usage: npm run bench:storage [-- --mib 64 --runs 5 --get-mib 256 --no-devnet]
import { randomFillSync } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

import { generateKeyPair } from '../../src/crypto/index.ts'
import { encryptBlob } from '../../src/storage/blobCipher.ts'
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

// Encryption at rest in this process: encrypt then encode, against encode alone, same data.
const owner = generateKeyPair()
const plainEnc: number[] = []
const withEnc: number[] = []
for (let r = 0; r < Math.min(RUNS, 3); r++) {
  let t = performance.now()
  encodeAsset(data, params)
  plainEnc.push(performance.now() - t)
  t = performance.now()
  encodeAsset(await encryptBlob(data, owner), params)
  withEnc.push(performance.now() - t)
}
const encryptOverheadLocal = Math.round((median(withEnc) / median(plainEnc)) * 100) / 100

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
  encryptOverheadLocal,
  ...readBack,
  goalGetMBps: 100,
  goalEncryptOverhead: 1.1,
}
if ('getMBps' in readBack) console.log(`get ${readBack.getMiB} MiB from the devnet: ${readBack.getMBps} MB/s (goal 100); encryption overhead ${readBack.encryptOverhead} (goal 1.1)`)
console.log(`encode ${result.encodeMBps} MB/s (reference ${result.referenceEncodeMBps}), rebuild ${result.rebuildMBps} MB/s (reference ${result.referenceRebuildMBps}), identical ${identicalToReference}`)
console.log(JSON.stringify(result))
