import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { verify } from '../crypto/index.ts'

export interface SignatureCheck { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }

const RECORD = 128
/** Below this, posting to a worker costs more than it saves. */
const MIN_PARALLEL = 64

/**
 * Verifies many ed25519 signatures over 32-byte messages using every core: the batch is split
 * between the calling thread and worker threads (native node:crypto everywhere, same rule as
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
   * With `offload`, every check goes to the workers and the calling thread stays free (block
   * import runs the state transition meanwhile); otherwise the calling thread takes a share.
   */
  async verifyAll(checks: readonly SignatureCheck[], opts: { offload?: boolean } = {}): Promise<boolean[]> {
    if (opts.offload && this.#workers.length > 0 && checks.length >= MIN_PARALLEL) {
      const per = Math.ceil(checks.length / this.#workers.length)
      const parts = await Promise.all(this.#workers.map((w, i) => this.#post(w, checks.slice(i * per, (i + 1) * per))))
      const out: boolean[] = []
      for (const part of parts) for (const b of part) out.push(b === 1)
      return out
    }
    const parts = this.#workers.length + 1
    if (this.#workers.length === 0 || checks.length < MIN_PARALLEL) return checks.map((c) => verify(c.publicKey, c.message, c.signature))
    const per = Math.ceil(checks.length / parts)
    const jobs: Promise<Uint8Array>[] = []
    for (let w = 0; w < this.#workers.length; w++) {
      const slice = checks.slice((w + 1) * per, (w + 2) * per)
      if (slice.length === 0) break
      jobs.push(this.#post(this.#workers[w]!, slice))
    }
    // The calling thread takes the first share while the workers run.
    const mine = checks.slice(0, per).map((c) => verify(c.publicKey, c.message, c.signature))
    const theirs = await Promise.all(jobs)
    const out = mine
    for (const part of theirs) for (const b of part) out.push(b === 1)
    return out
  }

  #post(worker: Worker, checks: readonly SignatureCheck[]): Promise<Uint8Array> {
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
