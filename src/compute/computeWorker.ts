import { parentPort, workerData } from 'node:worker_threads'

import { ComputeError } from './errors.ts'
import { executeComponent, loadComponent, type LoadedComponent, prepareComponent } from './executeComponent.ts'
import { executeModule, type ExecutionResult, type PreparedModule, prepareModule } from './executeModule.ts'
import { STATE_ABSENT, STATE_FLAG_WAITING, STATE_HEADER_BYTES, type WorkerJob, type WorkerReply } from './workerProtocol.ts'

/**
 * One pool worker. Each job gets fresh instances and a fresh meter, so executions never share
 * memory or state; only compiled code is cached, by asset id. State reads block on a
 * SharedArrayBuffer while the main thread answers from the caller's snapshot.
 */
const { stateChannel, recycleAfterComponents } = workerData as { stateChannel: SharedArrayBuffer; recycleAfterComponents: number }
const ctl = new Int32Array(stateChannel, 0, 2)
const data = new Uint8Array(stateChannel, STATE_HEADER_BYTES)
const port = parentPort!

// Compiled code by asset id, least recently used dropped first (jobs always carry the code).
const CACHE_ENTRIES = 64
const modules = new Map<string, PreparedModule>()
const components = new Map<string, LoadedComponent>()

// Each component's generated JS is an ES module, and ES modules are never unloaded: a worker
// that has loaded this many asks the pool to retire it (the pool respawns it).
let componentLoads = 0

function cached<T>(cache: Map<string, T>, key: string): T | undefined {
  const v = cache.get(key)
  if (v !== undefined) { cache.delete(key); cache.set(key, v) }
  return v
}

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  cache.set(key, value)
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!)
}

function readState(jobId: number, key: Uint8Array): Uint8Array | undefined {
  data.set(key)
  Atomics.store(ctl, 1, key.length)
  Atomics.store(ctl, 0, STATE_FLAG_WAITING)
  port.postMessage({ type: 'stateGet', id: jobId } satisfies WorkerReply)
  Atomics.wait(ctl, 0, STATE_FLAG_WAITING)
  const len = Atomics.load(ctl, 1)
  if (len === STATE_ABSENT) return undefined
  if (len < 0) throw new ComputeError('WORKER_FAILED', 'state snapshot read failed in the caller')
  return data.slice(0, len)
}

async function run(job: WorkerJob): Promise<ExecutionResult> {
  if (job.kind === 'module') {
    let prepared = cached(modules, job.assetId)
    if (prepared === undefined) {
      if (job.code === undefined) throw new ComputeError('BAD_REQUEST', 'module code missing')
      prepared = prepareModule(job.code, job.limits)
      remember(modules, job.assetId, prepared)
    }
    return executeModule(prepared, { fn: job.fn, input: job.input, fuelLimit: job.fuelLimit, state: (k) => readState(job.id, k) })
  }
  let loaded = cached(components, job.assetId)
  if (loaded === undefined) {
    if (job.artifact === undefined) throw new ComputeError('BAD_REQUEST', 'component artifact missing')
    loaded = await loadComponent(job.artifact, job.limits)
    remember(components, job.assetId, loaded)
    componentLoads++
  }
  return executeComponent(loaded, { fn: job.fn, input: job.input, fuelLimit: job.fuelLimit, state: (k) => readState(job.id, k) })
}

port.on('message', (job: WorkerJob) => {
  if (job.kind === 'prepareComponent') {
    prepareComponent(job.code ?? new Uint8Array(), job.limits).then(
      (artifact) => port.postMessage({ type: 'prepared', id: job.id, artifact } satisfies WorkerReply),
      (e: unknown) => port.postMessage({ type: 'error', id: job.id, code: e instanceof ComputeError ? e.code : 'WORKER_FAILED', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply),
    )
    return
  }
  run(job).then(
    (result) => port.postMessage({ type: 'done', id: job.id, result, retire: componentLoads >= recycleAfterComponents } satisfies WorkerReply),
    (e: unknown) => {
      const code = e instanceof ComputeError ? e.code : 'WORKER_FAILED'
      port.postMessage({ type: 'error', id: job.id, code, message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply)
    },
  )
})

port.postMessage({ type: 'ready' } satisfies WorkerReply)
