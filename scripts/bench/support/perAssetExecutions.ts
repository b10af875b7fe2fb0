import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { type Client, deploy, execute, EXECUTION_STATUS, getAsset, getChainParams, getExecution, getNonce, query } from '../../../src/client/index.ts'
import type { KeyPair } from '../../../src/crypto/index.ts'
import { codingParamsOf, computeManifest } from '../../../src/storage/encodeAsset.ts'
import { BenchError } from './benchError.ts'

export interface PerAssetExecutionsOpts {
  client: Client
  /** A funded account with no txs in flight. */
  account: KeyPair
  repoRoot: string
  /** Executions of the one asset, sent back to back (default 40). */
  count?: number
  timeoutMs?: number
}

export interface PerAssetExecutionsResult {
  /** Executions of one asset settled per second, from the first send to the last settlement. */
  perAssetExecutionsPerSec: number
  perAssetExecutions: { sent: number; agreed: number; failed: number; windowMs: number; finalCount: number | null; lostUpdates: number | null }
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

/**
 * Throughput of linearizable executions on ONE asset (docs/compute.md, "Ordering"): deploys the
 * counter fixture, sends `count` increments back to back, waits until every one is settled, and
 * reads the counter back with a query (input 0 adds nothing): finalCount = agreed means no update
 * was lost. Executions of one asset settle one after another, several per block when hosts keep up.
 */
export async function measurePerAssetExecutions(o: PerAssetExecutionsOpts): Promise<PerAssetExecutionsResult> {
  const { client, account } = o
  const count = o.count ?? 40
  const timeoutMs = o.timeoutMs ?? 90_000
  const code = new Uint8Array(readFileSync(join(o.repoRoot, 'fixtures/wasm/counter.wasm')))
  const { params } = await getChainParams(client)
  const asset = await deploy(client, { account, bytes: code, manifest: computeManifest(code, codingParamsOf(params)), kind: 'module', deposit: 10_000_000n, bidPerByteEpoch: 10n })
  const deployDeadline = Date.now() + 30_000
  while ((await getAsset(client, { id: asset })) === null) {
    if (Date.now() > deployDeadline) throw new BenchError('the counter deployment did not land within 30 s')
    await sleep(100)
  }
  const first = await getNonce(client, { address: account.publicKey })
  const start = Date.now()
  const ids: Uint8Array[] = []
  for (let i = 0; i < count; i++) ids.push(await execute(client, { account, nonce: first + i, asset, fn: 'run', fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 40, origin: { x: 150, y: 100, z: 100 } }))
  const status = new Map<number, number>()
  let lastSettledAt = start
  const deadline = Date.now() + timeoutMs
  while (status.size < ids.length) {
    if (Date.now() > deadline) throw new BenchError(`only ${status.size} of ${ids.length} executions of one asset settled within ${timeoutMs} ms`)
    for (const [i, id] of ids.entries()) {
      if (status.has(i)) continue
      const ex = await getExecution(client, { id })
      if (ex !== null && ex.record.status !== EXECUTION_STATUS.pending) {
        status.set(i, ex.record.status)
        lastSettledAt = Date.now()
      }
    }
    await sleep(50)
  }
  const agreed = [...status.values()].filter((s) => s === EXECUTION_STATUS.completed).length
  const read = await query(client, { asset, fn: 'run', input: u32(0) }).catch(() => undefined)
  const finalCount = read === undefined || read.output.length !== 4 ? null : new DataView(read.output.buffer, read.output.byteOffset, 4).getUint32(0, true)
  const windowMs = lastSettledAt - start
  return {
    perAssetExecutionsPerSec: Math.round((agreed / Math.max(1, windowMs)) * 1000 * 10) / 10,
    perAssetExecutions: { sent: count, agreed, failed: count - agreed, windowMs, finalCount, lostUpdates: finalCount === null ? null : agreed - finalCount },
  }
}
