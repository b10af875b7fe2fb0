import type { ServerResponse } from 'node:http'

import type { RpcBackend } from './backend.ts'

/**
 * Kubernetes-style probes on the RPC port. `GET /health` (liveness): the process answers.
 * `GET /ready` (readiness): the node is worth sending traffic to: not behind (downloading blocks
 * while its head is old), connected to at least `minPeers` peers, and its finalized block is
 * recent (finality stalls show up here, not only in the logs). 200 when ready, 503 with the
 * reasons otherwise; both bodies are JSON. A node that fetches a block or two by range sync while
 * its head is recent stays ready: readiness must not flap with every short download.
 */
export interface ReadinessOpts {
  minPeers: number
  /** Oldest acceptable finalized block; default max(30 s, 20 slots). */
  maxFinalizedAgeMs?: number
  /** While syncing, a head older than this means the node is behind; default max(10 s, 5 slots). */
  maxSyncingHeadAgeMs?: number
}

export const DEFAULT_READINESS: ReadinessOpts = { minPeers: 1 }

export interface Readiness {
  ready: boolean
  reasons: string[]
  head: number
  finalized: number
  finalizedAgeMs: number
  peers: number
  syncing: boolean
}

export const PROBE_PATHS = ['/health', '/ready'] as const

export function isProbePath(path: string | undefined): path is (typeof PROBE_PATHS)[number] {
  return path !== undefined && (PROBE_PATHS as readonly string[]).includes(path)
}

export async function checkReadiness(backend: RpcBackend, opts: Partial<ReadinessOpts> = {}, now: number = Date.now()): Promise<Readiness> {
  const { minPeers, maxFinalizedAgeMs, maxSyncingHeadAgeMs } = { ...DEFAULT_READINESS, ...opts }
  const [status, params] = await Promise.all([backend.chainStatus(), backend.getChainParams()])
  const ageOf = async (height: number): Promise<number> => {
    const stored = await backend.getBlockByHeight(height)
    return Math.max(0, now - (stored === null ? Number(params.genesisTime) : Number(stored.block.header.timestamp)))
  }
  const finalizedAgeMs = await ageOf(status.finalized.height)
  const maxAge = maxFinalizedAgeMs ?? Math.max(30_000, 20 * params.slotMs)
  const reasons: string[] = []
  if (status.syncing) {
    const headAgeMs = await ageOf(status.head.height)
    if (headAgeMs > (maxSyncingHeadAgeMs ?? Math.max(10_000, 5 * params.slotMs))) reasons.push(`syncing: catching up with peers, head block ${status.head.height} is ${Math.round(headAgeMs / 1000)} s old`)
  }
  if (status.peers < minPeers) reasons.push(`peers: ${status.peers} connected, need ${minPeers}`)
  if (finalizedAgeMs > maxAge) reasons.push(`finality: finalized block ${status.finalized.height} is ${Math.round(finalizedAgeMs / 1000)} s old (limit ${Math.round(maxAge / 1000)} s)`)
  return { ready: reasons.length === 0, reasons, head: status.head.height, finalized: status.finalized.height, finalizedAgeMs, peers: status.peers, syncing: status.syncing }
}

/** Answers a probe path; never throws (a failing backend makes the node not ready). */
export async function serveProbe(path: (typeof PROBE_PATHS)[number], res: ServerResponse, backend: RpcBackend, opts: Partial<ReadinessOpts> = {}): Promise<void> {
  let status = 200
  let body: unknown = { status: 'ok' }
  if (path === '/ready') {
    try {
      const r = await checkReadiness(backend, opts)
      status = r.ready ? 200 : 503
      body = { status: r.ready ? 'ready' : 'not ready', ...r }
    } catch (err) {
      status = 503
      body = { status: 'not ready', ready: false, reasons: [`error: ${err instanceof Error ? err.message : String(err)}`] }
    }
  }
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}
