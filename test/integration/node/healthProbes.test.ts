import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { XscNode } from '../../../src/node/node.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'

const tmp = tempDir('xsc-probes-')
const nodes: XscNode[] = []
afterAll(async () => {
  for (const n of nodes) await n.stop()
  tmp.cleanup()
})

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function startNode(name: string, genesisTime: bigint, opts: { produce: boolean; minPeers?: number }): Promise<XscNode> {
  const key = testKey('probe-validator')
  const node = await XscNode.start({
    dataDir: join(tmp.dir, name),
    genesis: testGenesis({ validators: [key], slotMs: 200, genesisTime }),
    validatorKey: key,
    produce: opts.produce,
    logLevel: 'silent',
    p2p: { enabled: false },
    rpc: { port: 0, ...(opts.minPeers !== undefined ? { readiness: { minPeers: opts.minPeers } } : {}) },
  })
  nodes.push(node)
  return node
}

describe('health probes on the RPC port (real node)', () => {
  it('a producing, finalizing node is live and ready once its finalized block is recent', async () => {
    const node = await startNode('live', BigInt(Date.now()), { produce: true, minPeers: 0 })
    expect(await get(`${node.rpc.url}/health`)).toEqual({ status: 200, body: { status: 'ok' } })
    const ready = await waitFor(async () => {
      const r = await get(`${node.rpc.url}/ready`)
      return r.status === 200 && (r.body.finalized as number) > 0 ? r : undefined
    }, 20_000, '/ready to answer 200')
    expect(ready.body).toMatchObject({ status: 'ready', ready: true, reasons: [], peers: 0, syncing: false })
    expect(ready.body.finalized as number).toBeGreaterThan(0)
  })

  it('a node without peers whose finality stalled answers /ready 503 with both reasons, /health stays 200', async () => {
    const node = await startNode('stalled', BigInt(Date.now() - 10 * 60_000), { produce: false })
    expect((await get(`${node.rpc.url}/health`)).status).toBe(200)
    const r = await get(`${node.rpc.url}/ready`)
    expect(r.status).toBe(503)
    expect(r.body).toMatchObject({ status: 'not ready', ready: false, finalized: 0, peers: 0 })
    const reasons = r.body.reasons as string[]
    expect(reasons.some((s) => s.startsWith('peers: 0 connected, need 1'))).toBe(true)
    expect(reasons.some((s) => /^finality: finalized block 0 is \d+ s old/.test(s))).toBe(true)
  })
})
