import type { AddressInfo } from 'node:net'

import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'

import { createClient, getBalance, RpcClientError, webSocket } from '../../../src/client/index.ts'
import type { Transport } from '../../../src/client/transports/transport.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { startKit } from '../rpc/rpcTestKit.ts'

interface Call { jsonrpc: string; id: number; method: string; params: unknown[] }

/**
 * A stand-in node that records every message it gets and answers a batch as one array, in
 * reverse order (answers are matched by id, not position): `xsc_fail` gets an error object.
 */
async function fakeNode(): Promise<{ url: string; messages: unknown[]; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const messages: unknown[] = []
  const answerOf = (c: Call): unknown => c.method === 'xsc_fail'
    ? { jsonrpc: '2.0', id: c.id, error: { code: -32602, message: 'bad params', data: { reason: 'INVALID_PARAMS' } } }
    : { jsonrpc: '2.0', id: c.id, result: `${c.method}:${String(c.params[0])}` }
  wss.on('connection', (ws) => ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as Call | Call[]
    messages.push(msg)
    ws.send(JSON.stringify(Array.isArray(msg) ? msg.map(answerOf).reverse() : answerOf(msg)))
  }))
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    messages,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate()
      wss.close(() => resolve())
    }),
  }
}

describe('webSocket transport: requestBatch', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  const open = (url: string, maxBatch?: number): Transport => {
    const t = webSocket(url, maxBatch === undefined ? {} : { maxBatch })
    cleanups.push(() => t.close())
    return t
  }

  it('sends a batch as one message (one round trip, not one per call) and matches the answers by id, each with its own error', async () => {
    const node = await fakeNode()
    cleanups.push(node.close)
    const t = open(node.url)
    expect(t.requestBatch).toBeDefined()
    const answers = await t.requestBatch!([
      { method: 'xsc_a', params: [1] },
      { method: 'xsc_fail', params: [2] },
      { method: 'xsc_b', params: [3] },
    ])
    expect(node.messages).toHaveLength(1)
    expect((node.messages[0] as Call[]).map((c) => c.method)).toEqual(['xsc_a', 'xsc_fail', 'xsc_b'])
    expect(answers[0]).toEqual({ ok: true, value: 'xsc_a:1' })
    expect(answers[1]!.ok).toBe(false)
    expect(!answers[1]!.ok && answers[1]!.error).toBeInstanceOf(RpcClientError)
    expect(!answers[1]!.ok && answers[1]!.error.code).toBe('INVALID_PARAMS')
    expect(answers[2]).toEqual({ ok: true, value: 'xsc_b:3' })
  })

  it('a list longer than maxBatch goes as several messages, in order', async () => {
    const node = await fakeNode()
    cleanups.push(node.close)
    const t = open(node.url, 2)
    const answers = await t.requestBatch!([1, 2, 3, 4, 5].map((n) => ({ method: 'xsc_n', params: [n] })))
    expect(node.messages.map((m) => (m as Call[]).length)).toEqual([2, 2, 1])
    expect(answers.map((a) => a.ok && a.value)).toEqual(['xsc_n:1', 'xsc_n:2', 'xsc_n:3', 'xsc_n:4', 'xsc_n:5'])
  })

  it('a dropped connection fails the whole batch (CLOSED), as a failed POST does', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())))
    wss.on('connection', (ws) => ws.on('message', () => ws.terminate()))
    const t = open(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
    await expect(t.requestBatch!([{ method: 'xsc_a', params: [] }, { method: 'xsc_b', params: [] }])).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('on the real server: a client\'s batch over WebSocket answers every call in order', async () => {
    const kit = await startKit()
    cleanups.push(() => kit.server.close())
    const client = createClient({ transport: open(kit.server.wsUrl) })
    const stranger = generateKeyPair().publicKey
    const answers = await client.requestBatch('xsc_getBalance', [[kit.alice.publicKey], [stranger], [kit.bob.publicKey]])
    expect(answers.map((a) => a.ok && a.value)).toEqual([await getBalance(client, { address: kit.alice.publicKey }), 0n, 5n])
  })
})
