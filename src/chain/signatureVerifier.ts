import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

import { verify } from '../crypto/index.ts'

export interface SignatureCheck { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }

const RECORD = 128
/** Below this, posting to a worker costs more than it saves. */
const MIN_PARALLEL = 64

/**
 * Verifies many ed25519 signatures over 32-byte messages using every core: the batch is split
 * between the calling thread and worker threads (libsodium everywhere, same rule as
 * `verify`). Block import is bounded by this; see scripts/bench/chain.ts.
 */
export class SignatureVerifier {
  readonly #workers: Worker[] = []
  readonly #pending = new Map<number, (out: Uint8Array) => void>()
  #nextId = 0

  constructor(opts: { workers?: number } = {}) {
    const n = opts.workers ?? Math.max(0, availableParallelism() - 1)
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./sigWorker.mjs', import.meta.url))
      w.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
        this.#pending.get(id)?.(out)
        this.#pending.delete(id)
        if (this.#pending.size === 0) for (const x of this.#workers) x.unref()
      })
      // Idle workers must not keep the process alive; busy ones must (see #post).
      w.unref()
      this.#workers.push(w)
    }
  }

  /**
   * Starts a batch: the workers' share is posted now; `finish()` checks the calling thread's
   * share (the first `mainShare` of the batch) and then waits for the workers. Block import
   * calls `start` first, does its own work (structure, proofs, transition) while the workers
   * run, and calls `finish` last, so neither side idles.
   */
  start(checks: readonly SignatureCheck[], mainShare = 0.3): { finish(): Promise<boolean[]> } {
    if (this.#workers.length === 0 || checks.length < MIN_PARALLEL) {
      return { finish: async () => checks.map((c) => verify(c.publicKey, c.message, c.signature)) }
    }
    const mine = Math.floor(checks.length * mainShare)
    const rest = checks.slice(mine)
    const per = Math.ceil(rest.length / this.#workers.length)
    const jobs = this.#workers.map((w, i) => this.#post(w, rest.slice(i * per, (i + 1) * per)))
    return {
      finish: async () => {
        const out = checks.slice(0, mine).map((c) => verify(c.publicKey, c.message, c.signature))
        for (const part of await Promise.all(jobs)) for (const b of part) out.push(b === 1)
        return out
      },
    }
  }

  #post(worker: Worker, checks: readonly SignatureCheck[]): Promise<Uint8Array> {
    if (checks.length === 0) return Promise.resolve(new Uint8Array(0))
    const buf = new Uint8Array(checks.length * RECORD)
    checks.forEach((c, i) => {
      if (c.publicKey.length !== 32 || c.message.length !== 32 || c.signature.length !== 64) return // leaves zeros: fails
      buf.set(c.publicKey, i * RECORD)
      buf.set(c.message, i * RECORD + 32)
      buf.set(c.signature, i * RECORD + 64)
    })
    const id = this.#nextId++
    return new Promise((resolve) => {
      this.#pending.set(id, resolve)
      worker.ref()
      worker.postMessage({ id, buf: buf.buffer }, [buf.buffer])
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()))
  }
}
