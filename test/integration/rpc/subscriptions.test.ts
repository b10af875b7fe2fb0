import { connect, createServer, type Server, type Socket } from 'node:net'

import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

import type { ErrorWithCode } from '../../../blocks/errors.ts'
import { type Client, createClient, RpcClientError, watchEvents, webSocket } from '../../../src/client/index.ts'
import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { type RpcEvent } from '../../../src/rpc/backend.ts'
import { RpcBackendError } from '../../../src/rpc/errors.ts'
import { type Kit, sampleExecution, sampleHost, startKit } from '../../unit/rpc/rpcTestKit.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function kitWithClient(opts: Parameters<typeof startKit>[0] = {}): Promise<{ kit: Kit; client: Client }> {
  const kit = await startKit(opts)
  const client = createClient({ transport: webSocket(kit.server.wsUrl, { reconnectDelayMs: 20 }) })
  cleanups.push(() => kit.server.close(), () => client.close())
  return { kit, client }
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** A TCP proxy whose live connections can be cut, to drop a client's WebSocket for real. */
async function startProxy(targetPort: number): Promise<{ url: string; drop(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client)
    sockets.add(upstream)
    client.pipe(upstream).pipe(client)
    const done = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', done).on('close', done)
    upstream.on('error', done).on('close', done)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  return {
    url: `ws://127.0.0.1:${port}`,
    drop: () => {
      for (const s of sockets) s.destroy()
    },
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy()
      server.close(() => r())
    }),
  }
}

describe('subscriptions over WebSocket', () => {
  it('newHeads delivers every new block live', async () => {
    const { kit, client } = await kitWithClient()
    const seen: RpcEvent[] = []
    const sub = watchEvents(client, { filter: { topic: 'newHeads' }, onEvent: (e) => seen.push(e) })
    await new Promise((r) => setTimeout(r, 50))
    for (let i = 0; i < 3; i++) kit.backend.produceBlock()
    await until(() => seen.length === 3)
    expect(seen.map((e) => e.height)).toEqual([1, 2, 3])
    const last = seen[2]!
    expect(last.topic === 'newHeads' && toHex(last.hash)).toBe(toHex(kit.backend.head.hash))
    await sub.unsubscribe()
    kit.backend.produceBlock()
    await new Promise((r) => setTimeout(r, 50))
    expect(seen).toHaveLength(3)
  })

  it('fromHeight replays stored events, then continues live without a gap or a duplicate', async () => {
    const { kit, client } = await kitWithClient()
    for (let i = 0; i < 5; i++) kit.backend.produceBlock()
    const heads: number[] = []
    const finals: number[] = []
    watchEvents(client, { filter: { topic: 'newHeads' }, fromHeight: 2, onEvent: (e) => heads.push(e.height) })
    watchEvents(client, { filter: { topic: 'finalizedHeads' }, fromHeight: 0, onEvent: (e) => finals.push(e.height) })
    await until(() => heads.length === 4)
    kit.backend.produceBlock()
    kit.backend.produceBlock()
    await until(() => heads.length === 6 && finals.length === 7)
    expect(heads).toEqual([2, 3, 4, 5, 6, 7])
    expect(finals).toEqual([0, 1, 2, 3, 4, 5, 6])
  })

  it('resumes after a dropped connection: every block exactly once, in order', async () => {
    const kit = await startKit()
    const proxy = await startProxy(kit.server.port)
    const client = createClient({ transport: webSocket(proxy.url, { reconnectDelayMs: 20 }) })
    cleanups.push(() => kit.server.close(), () => proxy.close(), () => client.close())
    const heights: number[] = []
    watchEvents(client, { filter: { topic: 'newHeads' }, fromHeight: 0, onEvent: (e) => heights.push(e.height) })
    await until(() => heights.length === 1)
    for (let round = 0; round < 3; round++) {
      kit.backend.produceBlock()
      await until(() => heights.length === kit.backend.blocks.length)
      proxy.drop()
      // Blocks made while the client is away must arrive after it reconnects.
      kit.backend.produceBlock()
      kit.backend.produceBlock()
      await until(() => heights.length === kit.backend.blocks.length)
    }
    expect(heights).toEqual(kit.backend.blocks.map((b) => b.block.header.height))
  })

  it('execution and hostEvents subscriptions see only their subject', async () => {
    const { kit, client } = await kitWithClient()
    const host = sampleHost()
    const other = sampleHost()
    const mine = sampleExecution(kit.alice.publicKey, hash(utf8('asset')), [host.address], false)
    const stages: string[] = []
    const hostKinds: string[] = []
    watchEvents(client, { filter: { topic: 'execution', executionId: mine.id }, fromHeight: 0, onEvent: (e) => e.topic === 'execution' && stages.push(e.stage) })
    watchEvents(client, { filter: { topic: 'hostEvents', host: host.address }, onEvent: (e) => e.topic === 'hostEvents' && hostKinds.push(e.kind) })
    await new Promise((r) => setTimeout(r, 50))
    kit.backend.addExecution(mine)
    kit.backend.emitExecutionStage(hash(utf8('someone else')), 'receipt')
    kit.backend.produceBlock()
    kit.backend.emitExecutionStage(mine.id, 'receipt', host.address)
    kit.backend.emitExecutionStage(mine.id, 'completed')
    kit.backend.addHost(host)
    kit.backend.addHost(other)
    kit.backend.recordReputation(host.address, { height: 1, cause: 1, before: 5100, after: 4000, subject: mine.id })
    await until(() => stages.length === 3 && hostKinds.length === 2)
    expect(stages).toEqual(['scheduled', 'receipt', 'completed'])
    expect(hostKinds).toEqual(['joined', 'reputation'])
  })

  it('enforces the subscription cap, checks filters and refuses replays older than the window', async () => {
    const { kit } = await kitWithClient({ maxSubscriptions: 2, maxReplayBlocks: 2 })
    for (let i = 0; i < 5; i++) kit.backend.produceBlock()
    const ws = new WebSocket(kit.server.wsUrl)
    cleanups.push(async () => ws.close())
    await new Promise((r) => ws.once('open', r))
    const answers = new Map<number, { result?: unknown; error?: { code: number; data?: { reason?: string } } }>()
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { id?: number; result?: unknown; error?: { code: number } }
      if (typeof m.id === 'number') answers.set(m.id, m)
    })
    const send = (id: number, method: string, params: unknown[]): void => ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    send(1, 'xsc_subscribe', [{ topic: 'newHeads' }, 0])
    send(2, 'xsc_subscribe', [{ topic: 'execution' }])
    send(3, 'xsc_subscribe', [{ topic: 'newHeads' }])
    send(4, 'xsc_subscribe', [{ topic: 'finalizedHeads' }])
    await until(() => answers.size === 4)
    send(5, 'xsc_subscribe', [{ topic: 'newHeads' }])
    await until(() => answers.size === 5)
    expect(answers.get(1)?.error?.data?.reason).toBe('HISTORY_UNAVAILABLE')
    expect(answers.get(2)?.error?.code).toBe(-32602)
    expect(typeof answers.get(3)?.result).toBe('string')
    expect(typeof answers.get(4)?.result).toBe('string')
    expect(answers.get(5)?.error?.data?.reason).toBe('TOO_MANY_SUBSCRIPTIONS')
    send(6, 'xsc_unsubscribe', [answers.get(3)?.result])
    send(7, 'xsc_unsubscribe', ['0xdead'])
    await until(() => answers.size === 7)
    expect(answers.get(6)?.result).toBe(true)
    expect(answers.get(7)?.result).toBe(false)
  })

  it('a subscription the server cannot serve reaches the client as an error with its documented code', async () => {
    const { kit, client } = await kitWithClient({ maxSubscriptions: 1 })
    kit.backend.events.replay = async () => {
      throw new RpcBackendError('HISTORY_UNAVAILABLE', 'pruned', { oldest: 5 })
    }
    const errors: ErrorWithCode<RpcClientError, 'HISTORY_UNAVAILABLE'>[] = []
    const onError = (e: Error): void => void errors.push(e as ErrorWithCode<RpcClientError, 'HISTORY_UNAVAILABLE'>)
    watchEvents(client, { filter: { topic: 'newHeads' }, fromHeight: 0, onEvent: () => undefined, onError })
    await until(() => errors.length === 1)
    expect(errors[0]?.code).toBe('HISTORY_UNAVAILABLE')
    expect(errors[0]?.details.data).toMatchObject({ reason: 'HISTORY_UNAVAILABLE', oldest: 5 })
    watchEvents(client, { filter: { topic: 'newHeads' }, onEvent: () => undefined, onError })
    watchEvents(client, { filter: { topic: 'finalizedHeads' }, onEvent: () => undefined, onError })
    await until(() => errors.length === 2)
    expect(errors[1]?.code).toBe('TOO_MANY_SUBSCRIPTIONS')
  })

  it('watchEvents needs a WebSocket transport', async () => {
    const { client } = await kitWithClient()
    const httpLike = { ...client, transport: { ...client.transport, subscribe: undefined } }
    expect(() => watchEvents(httpLike, { filter: { topic: 'newHeads' }, onEvent: () => undefined })).toThrow(RpcClientError)
  })
})
