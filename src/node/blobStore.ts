import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'

import type { Address } from '../../blocks/schema.ts'
import { fromHex, hash, toHex } from '../crypto/index.ts'
import { RpcBackendError } from '../rpc/errors.ts'
import { createIncrementalHash } from '../storage/incrementalHash.ts'

/** Per blob: who uploaded it, its size, when, and whether a deployment named it since. */
interface BlobMeta { owner: string; size: number; uploadedAtMs: number; referenced: boolean }

export interface BlobStoreOpts {
  /** Unreferenced blobs older than this are deleted by `sweep` (default one hour). */
  ttlMs?: number
  /** When set, `sweep` runs on this period (an unref'd timer: it never keeps the process alive). */
  sweepIntervalMs?: number
}

export const DEFAULT_BLOB_TTL_MS = 60 * 60_000

/**
 * Raw bytes uploaded by clients (`PUT /blob`) before their deploy tx, kept by data hash.
 * Files written to a temp name then renamed, so a reader never sees half a blob. Each blob has
 * a sidecar `<hash>.meta` (owner, size, upload time, referenced): an account's unreferenced
 * bytes count against its quota, and `sweep` deletes unreferenced blobs past the TTL, so an
 * upload that no deployment ever names cannot occupy the node for long.
 */
export class BlobStore {
  readonly #dir: string
  readonly #ttlMs: number
  readonly #meta = new Map<string, BlobMeta>()
  readonly #timer: NodeJS.Timeout | undefined
  constructor(dir: string, opts: BlobStoreOpts = {}) {
    this.#dir = dir
    this.#ttlMs = opts.ttlMs ?? DEFAULT_BLOB_TTL_MS
    mkdirSync(dir, { recursive: true })
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.meta')) continue
      try {
        this.#meta.set(name.slice(0, -5), JSON.parse(readFileSync(join(dir, name), 'utf8')) as BlobMeta)
      } catch {
        rmSync(join(dir, name), { force: true })
      }
    }
    // Uploads cut off by a restart.
    for (const name of readdirSync(dir)) if (name.startsWith('upload-') && name.endsWith('.tmp')) rmSync(join(dir, name), { force: true })
    if (opts.sweepIntervalMs !== undefined) {
      this.#timer = setInterval(() => this.sweep(), opts.sweepIntervalMs)
      this.#timer.unref()
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer)
  }

  /** Stores `bytes` for `owner` (a blob already stored keeps its first owner); returns its data hash. */
  put(bytes: Uint8Array, owner?: Address, nowMs = Date.now()): Uint8Array {
    const h = hash(bytes)
    const id = toHex(h).slice(2)
    const path = join(this.#dir, id)
    if (!existsSync(path)) {
      writeFileSync(path + '.tmp', bytes)
      renameSync(path + '.tmp', path)
    }
    if (!this.#meta.has(id)) this.#writeMeta(id, { owner: owner ? toHex(owner) : '', size: bytes.length, uploadedAtMs: nowMs, referenced: false })
    return h
  }

  /**
   * Writes a body to disk as it arrives, hashing it on the way (a blob may be 4 GiB: it is never
   * held). `check(dataHash, size)` runs before the file becomes visible under its hash; when it
   * throws, or the source fails, or passes `maxBytes`, the partial file is removed.
   */
  async putStream(source: AsyncIterable<Uint8Array>, owner: Address | undefined, check: (dataHash: Uint8Array, size: number) => void, opts: { maxBytes?: number; nowMs?: number } = {}): Promise<{ dataHash: Uint8Array; size: number }> {
    const tmp = join(this.#dir, `upload-${randomBytes(8).toString('hex')}.tmp`)
    const file = await open(tmp, 'w')
    const hasher = createIncrementalHash()
    let size = 0
    try {
      for await (const part of source) {
        size += part.length
        if (opts.maxBytes !== undefined && size > opts.maxBytes) throw new RpcBackendError('BLOB_TOO_LARGE', `blob exceeds ${opts.maxBytes} bytes`, { size, max: opts.maxBytes })
        hasher.update(part)
        await file.write(part)
      }
      await file.close()
      const dataHash = hasher.digest()
      check(dataHash, size)
      const id = toHex(dataHash).slice(2)
      if (existsSync(join(this.#dir, id))) rmSync(tmp, { force: true })
      else renameSync(tmp, join(this.#dir, id))
      if (!this.#meta.has(id)) this.#writeMeta(id, { owner: owner ? toHex(owner) : '', size, uploadedAtMs: opts.nowMs ?? Date.now(), referenced: false })
      return { dataHash, size }
    } catch (err) {
      await file.close().catch(() => {})
      rmSync(tmp, { force: true })
      throw err
    }
  }

  /** Where a stored blob's bytes are (for streamed reads), or undefined. */
  pathOf(dataHash: Uint8Array): string | undefined {
    const path = join(this.#dir, toHex(dataHash).slice(2))
    return existsSync(path) ? path : undefined
  }

  /** Size in bytes of a stored blob, from its metadata. */
  sizeOf(dataHash: Uint8Array): number | undefined {
    return this.#meta.get(toHex(dataHash).slice(2))?.size
  }

  get(dataHash: Uint8Array): Uint8Array | undefined {
    const path = join(this.#dir, toHex(dataHash).slice(2))
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined
  }

  has(dataHash: Uint8Array): boolean {
    return this.#meta.has(toHex(dataHash).slice(2)) || existsSync(join(this.#dir, toHex(dataHash).slice(2)))
  }

  /** Bytes of `owner`'s blobs that no deployment has named yet (what its quota counts). */
  unreferencedBytesOf(owner: Address): number {
    const hex = toHex(owner)
    let sum = 0
    for (const m of this.#meta.values()) if (!m.referenced && m.owner === hex) sum += m.size
    return sum
  }

  /** A deployment named this blob: it no longer counts against the quota nor expires. */
  markReferenced(dataHash: Uint8Array): void {
    const id = toHex(dataHash).slice(2)
    const m = this.#meta.get(id)
    if (m && !m.referenced) this.#writeMeta(id, { ...m, referenced: true })
  }

  /** Deletes unreferenced blobs uploaded more than the TTL ago; returns their data hashes. */
  sweep(nowMs = Date.now()): Uint8Array[] {
    const gone: Uint8Array[] = []
    for (const [id, m] of [...this.#meta]) {
      if (m.referenced || nowMs - m.uploadedAtMs < this.#ttlMs) continue
      rmSync(join(this.#dir, id), { force: true })
      rmSync(join(this.#dir, `${id}.meta`), { force: true })
      this.#meta.delete(id)
      gone.push(fromHex(`0x${id}`, 32))
    }
    return gone
  }

  #writeMeta(id: string, meta: BlobMeta): void {
    const path = join(this.#dir, `${id}.meta`)
    writeFileSync(path + '.tmp', JSON.stringify(meta))
    renameSync(path + '.tmp', path)
    this.#meta.set(id, meta)
  }
}

