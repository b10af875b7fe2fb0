import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { hash, toHex } from '../crypto/index.ts'

/**
 * Raw bytes uploaded by clients (`PUT /blob`) before their deploy tx, kept by data hash.
 * Files written to a temp name then renamed, so a reader never sees half a blob.
 */
export class BlobStore {
  readonly #dir: string
  constructor(dir: string) {
    this.#dir = dir
    mkdirSync(dir, { recursive: true })
  }
  put(bytes: Uint8Array): Uint8Array {
    const h = hash(bytes)
    const path = join(this.#dir, toHex(h).slice(2))
    if (!existsSync(path)) {
      writeFileSync(path + '.tmp', bytes)
      renameSync(path + '.tmp', path)
    }
    return h
  }
  get(dataHash: Uint8Array): Uint8Array | undefined {
    const path = join(this.#dir, toHex(dataHash).slice(2))
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined
  }
}
