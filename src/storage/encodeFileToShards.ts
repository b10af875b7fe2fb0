import { mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'

import type { Manifest } from '../../blocks/schema.ts'
import { type CodingParams, encodeAssetStream, type EncoderOpts } from './encodeAsset.ts'

/** Read size of the source file: large reads, few syscalls; memory is one read plus one segment. */
const READ_BYTES = 4 * 1024 * 1024

/**
 * A file's bytes as views of ONE reused buffer: each view is valid until the consumer asks for
 * the next. For consumers that copy what they take (the encoder's segment, a frame encoder):
 * a GiB read through fresh Buffers leaves hundreds of MiB of garbage for a lazy GC to find,
 * which shows as resident memory.
 */
export async function* readFileReusing(path: string, bufferBytes: number): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r')
  try {
    const buffer = new Uint8Array(bufferBytes)
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, bufferBytes, null)
      if (bytesRead === 0) return
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    await file.close()
  }
}

export interface ShardFiles {
  manifest: Manifest
  /** Path of shard i, written whole before this returns. */
  paths: string[]
  /** Removes the shard files. */
  remove(): Promise<void>
}

/**
 * Erasure-codes a file into one file per shard, segment by segment: memory stays at one read
 * and one segment's pieces whatever the file's size (a 4 GiB blob is coded in ~20 MiB). The
 * returned manifest is recomputed from the bytes, so a caller can compare it with the one a
 * deployment named before handing shards out (without its chunk roots when `opts.chunkRoots` is false).
 */
export async function encodeFileToShards(source: string, dir: string, params: CodingParams, opts: EncoderOpts = {}): Promise<ShardFiles> {
  await mkdir(dir, { recursive: true })
  const paths = Array.from({ length: params.k + params.m }, (_, i) => join(dir, `shard-${i}`))
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true })
  const files = await Promise.all(paths.map((p) => open(p, 'w')))
  try {
    const manifest = await encodeAssetStream(readFileReusing(source, READ_BYTES), params, async (pieces) => {
      await Promise.all(pieces.map((piece, i) => files[i]!.write(piece)))
    }, undefined, opts)
    return { manifest, paths, remove }
  } catch (err) {
    await remove()
    throw err
  } finally {
    await Promise.all(files.map((f) => f.close().catch(() => {})))
  }
}
