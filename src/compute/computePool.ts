import { availableParallelism } from 'node:os'
import { type ResourceLimits, Worker } from 'node:worker_threads'

import { LIMITS, OUTCOME } from '../../blocks/schema.ts'
import { toHex } from '../crypto/index.ts'
import { computeResultHash, computeWriteSetHash } from './computeResultHash.ts'
import { ComputeError } from './errors.ts'
import type { ComponentArtifact } from './executeComponent.ts'
import { type ComputeLimits, DEFAULT_LIMITS, type ExecutionResult, prepareModule, type StateReader } from './executeModule.ts'
import { STATE_ABSENT, STATE_FAILED, STATE_FLAG_ANSWERED, STATE_HEADER_BYTES, type WorkerJob, type WorkerReply } from './workerProtocol.ts'

export interface ComputePoolOpts {
  /** worker threads; default min(2, cores) */
  workers?: number
  limits?: Partial<ComputeLimits>
  /** wall-clock backstop per execution; firing means a broken runtime, never an outcome */
  timeoutMs?: number
  resourceLimits?: ResourceLimits
  /** a worker is replaced after loading this many components (their JS modules never unload); default 256 */
  recycleAfterComponents?: number
}

export type AssetKind = 'module' | 'component'

export interface ComputeJob {
  assetId: Uint8Array | string
  code: Uint8Array
  kind: AssetKind
  fn: string
  /** module: raw bytes read through input_read; component: UTF-8 JSON array of arguments */
  input: Uint8Array
  fuelLimit: bigint
  /** read side of the asset's state at the execution's snapshot */
  state: StateReader
}

export interface ComputePool {
  /** Deploy-time validation (and, for components, transpilation): throws a typed ComputeError. */
  deploy(assetId: Uint8Array | string, code: Uint8Array, kind: AssetKind): Promise<void>
  execute(job: ComputeJob): Promise<ExecutionResult>
  close(): Promise<void>
  readonly size: number
}

interface Pending {
  job: WorkerJob
  state: StateReader
  resolve: (r: ExecutionResult | ComponentArtifact) => void
  reject: (e: Error) => void
}

interface Slot {
  worker: Worker
  ctl: Int32Array
  data: Uint8Array
  /** The worker said it takes jobs: the backstop then times the job, not the worker's boot. */
  ready: boolean
  job?: Pending & { timer: NodeJS.Timeout }
}

const DEFAULT_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 64 }
const WORKER_URL = new URL('./computeWorker.ts', import.meta.url)
/** Transpiled components kept per pool (jco output is a few hundred KB of JS per asset). */
const ARTIFACT_CACHE_ENTRIES = 256

function spawnWorker(stateChannel: SharedArrayBuffer, resourceLimits: ResourceLimits, recycleAfterComponents: number): Worker {
  const workerData = { stateChannel, recycleAfterComponents }
  if (WORKER_URL.pathname.endsWith('.ts')) {
    // Running from TypeScript sources (tsx, vitest): load the worker through tsx's API.
    const boot = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(WORKER_URL.href)}, ${JSON.stringify(import.meta.url)}))`
    return new Worker(boot, { eval: true, workerData, resourceLimits })
  }
  return new Worker(WORKER_URL, { workerData, resourceLimits })
}

/** An execution that never started because deployment-time checks refuse the code. */
function refused(e: ComputeError): ExecutionResult {
  const outcome = e.code === 'LIMIT_EXCEEDED' ? OUTCOME.limit : OUTCOME.invalid
  const output = new Uint8Array(0)
  return { outcome, reason: e.message, output, fuelUsed: 0n, logs: [], writeSet: [], resultHash: computeResultHash(outcome, output), writeSetHash: computeWriteSetHash([]) }
}

export function createComputePool(opts: ComputePoolOpts = {}): ComputePool {
  const limits: ComputeLimits = { ...DEFAULT_LIMITS, ...opts.limits }
  const size = Math.max(1, opts.workers ?? Math.min(2, availableParallelism()))
  const timeoutMs = opts.timeoutMs ?? 30_000
  const resourceLimits = { ...DEFAULT_RESOURCE_LIMITS, ...opts.resourceLimits }
  const slots: Slot[] = []
  const queue: Pending[] = []
  const artifacts = new Map<string, Promise<ComponentArtifact>>()
  let nextId = 1
  let closed = false

  const makeSlot = (index: number): void => {
    const channel = new SharedArrayBuffer(STATE_HEADER_BYTES + Math.max(LIMITS.stateValue, LIMITS.stateKey))
    const worker = spawnWorker(channel, resourceLimits, opts.recycleAfterComponents ?? 256)
    const slot: Slot = { worker, ctl: new Int32Array(channel, 0, 2), data: new Uint8Array(channel, STATE_HEADER_BYTES), ready: false }
    slots[index] = slot
    worker.on('message', (msg: WorkerReply) => onMessage(slot, msg))
    worker.on('error', (e) => fail(slot, new ComputeError('WORKER_FAILED', `compute worker failed: ${e.message}`, {}, { cause: e })))
    worker.on('exit', () => {
      if (slots[index] !== slot) return
      fail(slot, new ComputeError('WORKER_FAILED', 'compute worker exited'))
      if (!closed) { makeSlot(index); pump() }
    })
    worker.unref()
  }

  const fail = (slot: Slot, e: Error): void => {
    const j = slot.job
    if (j === undefined) return
    clearTimeout(j.timer)
    slot.job = undefined
    j.reject(e)
  }

  const onMessage = (slot: Slot, msg: WorkerReply): void => {
    if (msg.type === 'ready') {
      slot.ready = true
      pump()
      return
    }
    const j = slot.job
    if (j === undefined || j.job.id !== msg.id) return
    if (msg.type === 'stateGet') {
      let len: number
      try {
        const key = slot.data.slice(0, Atomics.load(slot.ctl, 1))
        const value = j.state(key)
        if (value === undefined) len = STATE_ABSENT
        else if (value.length > LIMITS.stateValue) len = STATE_FAILED
        else { slot.data.set(value); len = value.length }
      } catch {
        len = STATE_FAILED
      }
      Atomics.store(slot.ctl, 1, len)
      Atomics.store(slot.ctl, 0, STATE_FLAG_ANSWERED)
      Atomics.notify(slot.ctl, 0)
      return
    }
    clearTimeout(j.timer)
    slot.job = undefined
    if (msg.type === 'done') j.resolve(msg.result)
    else if (msg.type === 'prepared') j.resolve(msg.artifact)
    else j.reject(new ComputeError(msg.code as ComputeError['code'], msg.message))
    if (msg.type === 'done' && msg.retire) retire(slot)
    pump()
  }

  // Replaces a worker that asked to go (too many loaded component modules).
  const retire = (slot: Slot): void => {
    const index = slots.indexOf(slot)
    if (index < 0) return
    slots[index] = undefined as unknown as Slot
    void slot.worker.terminate()
    if (!closed) makeSlot(index)
  }

  const pump = (): void => {
    for (let i = 0; i < slots.length && queue.length > 0; i++) {
      const slot = slots[i]
      if (slot === undefined || !slot.ready || slot.job !== undefined) continue
      const next = queue.shift()!
      const timer = setTimeout(() => {
        // Backstop only: the meter ends every execution long before this in a sane runtime.
        fail(slot, new ComputeError('TIMEOUT', `execution exceeded the ${timeoutMs} ms wall-clock backstop`))
        slots[i] = undefined as unknown as Slot
        void slot.worker.terminate()
        if (!closed) { makeSlot(i); pump() }
      }, timeoutMs)
      slot.job = { ...next, timer }
      slot.worker.postMessage(next.job)
    }
  }

  for (let i = 0; i < size; i++) makeSlot(i)

  const key = (assetId: Uint8Array | string): string => (typeof assetId === 'string' ? assetId : toHex(assetId))

  const dispatch = (job: WorkerJob, state: StateReader = () => undefined): Promise<ExecutionResult | ComponentArtifact> =>
    new Promise((resolve, reject) => {
      queue.push({ job, state, resolve, reject })
      pump()
    })

  // Transpiling with jco is seconds of CPU for a big component: done in a worker, once per
  // asset, so the node's event loop never stalls on a deploy.
  const artifactFor = (assetId: string, code: Uint8Array): Promise<ComponentArtifact> => {
    let a = artifacts.get(assetId)
    if (a === undefined) {
      a = dispatch({ id: nextId++, assetId, kind: 'prepareComponent', code, fn: '', input: new Uint8Array(0), fuelLimit: 0n, limits }) as Promise<ComponentArtifact>
      artifacts.set(assetId, a)
      a.catch(() => artifacts.delete(assetId))
      if (artifacts.size > ARTIFACT_CACHE_ENTRIES) artifacts.delete(artifacts.keys().next().value!)
    }
    return a
  }

  return {
    size,
    async deploy(assetId, code, kind) {
      if (kind === 'module') prepareModule(code, limits)
      else if (kind === 'component') await artifactFor(key(assetId), code)
      else throw new ComputeError('BAD_REQUEST', `unknown asset kind ${String(kind)}`)
    },
    async execute(job) {
      if (closed) throw new ComputeError('BAD_REQUEST', 'compute pool is closed')
      const assetId = key(job.assetId)
      let artifact: ComponentArtifact | undefined
      if (job.kind === 'component') {
        try {
          artifact = await artifactFor(assetId, job.code)
        } catch (e) {
          if (e instanceof ComputeError) return refused(e)
          throw e
        }
      } else if (job.kind !== 'module') throw new ComputeError('BAD_REQUEST', `unknown asset kind ${String(job.kind)}`)
      const wj: WorkerJob = { id: nextId++, assetId, kind: job.kind, fn: job.fn, input: job.input, fuelLimit: job.fuelLimit, limits }
      if (artifact !== undefined) wj.artifact = artifact
      else wj.code = job.code
      const result = await (dispatch(wj, job.state) as Promise<ExecutionResult>).catch((e: unknown) => {
        // Code refused at preparation is a deterministic outcome, not a runtime failure.
        if (e instanceof ComputeError && ['MALFORMED_WASM', 'UNSUPPORTED_FEATURE', 'UNSUPPORTED_IMPORT', 'LIMIT_EXCEEDED'].includes(e.code)) return refused(e)
        throw e
      })
      return result
    },
    async close() {
      closed = true
      for (const q of queue.splice(0)) q.reject(new ComputeError('BAD_REQUEST', 'compute pool closed'))
      await Promise.all(slots.map(async (s) => {
        if (s === undefined) return
        fail(s, new ComputeError('BAD_REQUEST', 'compute pool closed'))
        await s.worker.terminate()
      }))
    },
  }
}
