import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

import type { BlockHeader } from '../../blocks/schema.ts'
import { type BlockContext, computeTimeSegments, computeVerifyContext, throwBadTimeSegment, type TimeSegment, verifyTimeWindow } from '../../consensus/index.ts'

/**
 * Verifies the hash chain of a `time` proof with its segments spread over worker threads. The
 * segments are independent (each starts from the previous checkpoint), so k workers cut the
 * wall time of a long chain by about k. The pure rules (slot, drift, proof length) run here on
 * the calling thread with the same functions `verifyProofs` uses; afterwards call
 * `verifyProofs(ctx, header, { timeChainVerified: true })` for everything else.
 *
 * The worker is plain JS evaluated from a string (Node 20 can't load .ts in a worker without a
 * loader); it hashes with node:crypto sha256, the same function as src/crypto `hash`. A test
 * checks that it agrees with the sequential `verifyTimeSegment` on valid and tampered proofs.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const crypto = require('node:crypto')
const step = typeof crypto.hash === 'function'
  ? (x) => crypto.hash('sha256', x, 'buffer')
  : (x) => crypto.createHash('sha256').update(x).digest()
parentPort.on('message', ({ id, segments }) => {
  const results = segments.map(({ start, end, iterations }) => {
    let x = Buffer.from(start)
    for (let i = 0; i < iterations; i++) x = step(x)
    return x.equals(Buffer.from(end))
  })
  parentPort.postMessage({ id, results })
})
`

interface Job {
  resolve: (results: boolean[]) => void
  reject: (error: unknown) => void
}

interface Slot {
  worker: Worker
  jobs: Map<number, Job>
}

export interface TimeVerifierPoolOpts {
  /** Worker threads; default: available cores, at least 1. */
  threads?: number
}

export class TimeVerifierPool {
  readonly threads: number
  private readonly slots: (Slot | undefined)[]
  private nextId = 0
  private closed = false

  constructor(opts: TimeVerifierPoolOpts = {}) {
    this.threads = Math.max(1, opts.threads ?? availableParallelism())
    this.slots = new Array<Slot | undefined>(this.threads).fill(undefined)
  }

  /** Checks each segment; results in input order. */
  async verifySegments(segments: readonly TimeSegment[]): Promise<boolean[]> {
    if (this.closed) throw new Error('TimeVerifierPool is closed')
    if (segments.length === 0) return []
    // Contiguous batches of near-equal total iterations, one per worker.
    const total = segments.reduce((n, s) => n + s.iterations, 0)
    const batches: { from: number; segs: TimeSegment[] }[] = []
    let acc = 0
    for (let i = 0; i < segments.length; i++) {
      const b = Math.min(this.threads - 1, Math.floor((acc * this.threads) / Math.max(1, total)))
      let batch = batches[batches.length - 1]
      if (batch === undefined || batches.length - 1 < b) {
        batch = { from: i, segs: [] }
        batches.push(batch)
      }
      batch.segs.push(segments[i]!)
      acc += segments[i]!.iterations
    }
    const parts = await Promise.all(batches.map((batch, w) => this.run(w, batch.segs)))
    return parts.flat()
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map(async (slot, i) => {
      if (slot === undefined) return
      this.slots[i] = undefined
      for (const job of slot.jobs.values()) job.reject(new Error('TimeVerifierPool closed'))
      await slot.worker.terminate()
    }))
  }

  private run(index: number, segments: TimeSegment[]): Promise<boolean[]> {
    const slot = this.slot(index)
    const id = this.nextId++
    return new Promise<boolean[]>((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject })
      slot.worker.ref()
      slot.worker.postMessage({
        id,
        segments: segments.map((s) => ({ start: s.start, end: s.end, iterations: s.iterations })),
      })
    })
  }

  private slot(index: number): Slot {
    const existing = this.slots[index]
    if (existing !== undefined) return existing
    const worker = new Worker(WORKER_SOURCE, { eval: true })
    const slot: Slot = { worker, jobs: new Map() }
    // Idle workers must not keep the process alive; busy ones must.
    worker.unref()
    worker.on('message', (msg: { id: number; results: boolean[] }) => {
      const job = slot.jobs.get(msg.id)
      if (job === undefined) return
      slot.jobs.delete(msg.id)
      if (slot.jobs.size === 0) worker.unref()
      job.resolve(msg.results)
    })
    const fail = (error: unknown): void => {
      if (this.slots[index] === slot) this.slots[index] = undefined
      for (const job of slot.jobs.values()) job.reject(error)
      slot.jobs.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`time verifier worker exited with code ${code}`)))
    this.slots[index] = slot
    return slot
  }
}

/**
 * The time scheme's verification with the hash chain checked in parallel. Same outcome as the
 * sequential `timeScheme.verify`: returns, or throws the same ConsensusError codes naming
 * `time` (BAD_PROOF with the failing segment index, MALFORMED_PROOF, WRONG_SLOT, ...). A header
 * on a chain that does not require `time`, or without a time proof, is left to `verifyProofs`.
 */
export async function verifyTimeProofParallel(pool: TimeVerifierPool, ctx: BlockContext, header: BlockHeader): Promise<void> {
  if (ctx.registry.get('time') === undefined) return
  const proof = header.proofs.find((p) => p.scheme === 'time')
  if (proof === undefined) return
  const vctx = computeVerifyContext(ctx, header)
  verifyTimeWindow(vctx)
  const segments = computeTimeSegments(vctx.config, vctx.prevHash, vctx.seal.slot, proof.data)
  const results = await pool.verifySegments(segments)
  const bad = results.indexOf(false)
  if (bad >= 0) throwBadTimeSegment(segments[bad]!.index)
}
