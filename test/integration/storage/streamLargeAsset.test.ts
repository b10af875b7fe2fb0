import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { equalBytes } from '../../../src/crypto/index.ts'
import { decodeAssetStream } from '../../../src/storage/decodeAsset.ts'
import { encodeAssetStream } from '../../../src/storage/encodeAsset.ts'
import { createIncrementalHash } from '../../../src/storage/incrementalHash.ts'

/**
 * Streams a large asset through encode → six shard files → decode with two data shards lost,
 * holding one segment at a time. 96 MiB by default (fast); XSC_STORAGE_GIB=1 runs the full 1 GiB.
 */
const SIZE = process.env.XSC_STORAGE_GIB === '1' ? 1024 * 1024 * 1024 : 96 * 1024 * 1024
const P = { k: 4, m: 2, segmentSize: 4 * 1024 * 1024, chunkSize: 64 * 1024 }
const PART = 1024 * 1024
const dir = mkdtempSync(join(tmpdir(), 'xsc-stream-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Deterministic pseudo-random data produced on the fly (xorshift32), never held whole. */
function* generate(size: number): Generator<Uint8Array> {
  let x = 0x9e3779b9
  const buf = new Uint8Array(PART)
  const words = new Uint32Array(buf.buffer)
  for (let at = 0; at < size; at += PART) {
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      words[i] = x >>> 0
    }
    yield buf.subarray(0, Math.min(PART, size - at))
  }
}

describe('streaming a large asset', () => {
  it(`round-trips ${SIZE / 1024 / 1024} MiB with bounded memory and two shards lost`, async () => {
    const expected = createIncrementalHash()
    for (const part of generate(SIZE)) expected.update(part)
    const expectedHash = expected.digest()

    const before = process.memoryUsage()
    let peak = 0
    const sample = () => {
      const u = process.memoryUsage()
      peak = Math.max(peak, u.arrayBuffers - before.arrayBuffers)
    }
    const fds = Array.from({ length: 6 }, (_, i) => openSync(join(dir, `shard-${i}`), 'w+'))
    const offsets = [0, 0, 0, 0, 0, 0]
    const manifest = await encodeAssetStream(generate(SIZE), P, (pieces) => {
      pieces.forEach((p, i) => {
        writeSync(fds[i]!, p, 0, p.length, offsets[i])
        offsets[i]! += p.length
      })
      sample()
    })
    expect(manifest.size).toBe(BigInt(SIZE))
    expect(equalBytes(manifest.dataHash, expectedHash)).toBe(true)
    expect(BigInt(offsets[0]!)).toBe(manifest.shardSize)

    const out = createIncrementalHash()
    let received = 0
    await decodeAssetStream(manifest, [1, 3, 4, 5], async (i, offset, length) => {
      const b = new Uint8Array(length)
      readSync(fds[i]!, b, 0, length, offset)
      return b
    }, (data) => {
      out.update(data)
      received += data.length
      sample()
    })
    fds.forEach((fd) => closeSync(fd))
    expect(received).toBe(SIZE)
    expect(equalBytes(out.digest(), expectedHash)).toBe(true)
    // One segment plus buffers, never the asset: far below the data size.
    expect(peak).toBeLessThan(64 * 1024 * 1024)
  })
})
