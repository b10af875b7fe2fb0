import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'

import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

import { toHex } from '../../../src/crypto/index.ts'
import { RPC_CODES } from '../../../src/rpc/errors.ts'
import { listMethods } from '../../../src/rpc/methods.ts'
import { type Kit, startKit } from '../../unit/rpc/rpcTestKit.ts'

/**
 * Throws random and malformed input at the real server over HTTP and WebSocket: every answer
 * must be a well-formed JSON-RPC response (errors for anything malformed), the server must keep
 * serving, and memory must stay bounded.
 */
const MAX_BODY = 256 * 1024
let kit: Kit
const KNOWN_CODES = new Set<number>(Object.values(RPC_CODES))
const METHOD_NAMES = listMethods().map((m) => m.method)

beforeAll(async () => {
  kit = await startKit({ maxBodyBytes: MAX_BODY, ratePerSecond: 1e9, rateBurst: 1e9 })
})
afterAll(async () => {
  await kit.server.close()
})

function isValidResponse(r: unknown): boolean {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false
  const o = r as Record<string, unknown>
  if (o.jsonrpc !== '2.0') return false
  if (!(o.id === null || typeof o.id === 'string' || typeof o.id === 'number')) return false
  const hasResult = Object.hasOwn(o, 'result')
  const hasError = Object.hasOwn(o, 'error')
  if (hasResult === hasError) return false
  if (hasError) {
    const e = o.error as Record<string, unknown>
    if (typeof e !== 'object' || e === null || typeof e.code !== 'number' || typeof e.message !== 'string') return false
    if (!KNOWN_CODES.has(e.code)) return false
    if (e.data !== undefined && (typeof e.data !== 'object' || e.data === null)) return false
  }
  return true
}

function isErrorResponse(r: unknown): boolean {
  return isValidResponse(r) && Object.hasOwn(r as object, 'error')
}

async function post(body: string | Uint8Array): Promise<{ status: number; json: unknown }> {
  const res = await fetch(kit.server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const text = await res.text()
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) }
}

/** Anything JSON-ish, including numbers JSON cannot hold exactly. */
const wildValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(2 ** 53 + 1, 1e308, -0, -1, 1.5, Number.MAX_SAFE_INTEGER, '1'.repeat(400), '0x', '0xzz', '-1', '01', '340282366920938463463374607431768211456'),
  fc.string(),
)

const requestLike = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), wildValue),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 300 }), fc.constant(null), wildValue),
    method: fc.oneof(fc.constantFrom(...METHOD_NAMES), fc.string(), wildValue),
    params: fc.oneof(fc.array(wildValue, { maxLength: 4 }), fc.dictionary(fc.string(), wildValue), wildValue),
  },
  { requiredKeys: [] },
)

/** A real collection before each heap reading, so the figure is live memory, not garbage. */
v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
function liveHeapMb(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed / 2 ** 20
}

describe('fuzzing the RPC endpoint', () => {
  let heapBefore = 0
  beforeAll(() => {
    heapBefore = liveHeapMb()
  })

  it('random text and bytes always get a JSON-RPC error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })), async (body) => {
        const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8')
        let valid = true
        try {
          JSON.parse(text)
        } catch {
          valid = false
        }
        const res = await post(body)
        if (!valid) expect(isErrorResponse(res.json)).toBe(true)
        else if (res.json !== undefined) expect(Array.isArray(res.json) ? (res.json as unknown[]).every(isValidResponse) : isValidResponse(res.json)).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  it('request-shaped objects with wrong types and huge numbers get well-formed answers; malformed ones get errors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(requestLike, fc.array(requestLike, { minLength: 1, maxLength: 5 })), async (req) => {
        const res = await post(JSON.stringify(req))
        const items = Array.isArray(req) ? req : [req]
        const answers = res.json === undefined ? [] : Array.isArray(res.json) ? (res.json as unknown[]) : [res.json]
        for (const a of answers) expect(isValidResponse(a)).toBe(true)
        // Batch answers come in any order and ids may repeat, so match per id: for each id, at
        // least as many error answers as malformed items carrying it (when it was answered at all).
        const malformedById = new Map<string, number>()
        for (const item of items) {
          const r = item as Record<string, unknown>
          const malformed = r.jsonrpc !== '2.0' || typeof r.method !== 'string' || !METHOD_NAMES.includes(r.method)
          if (malformed && Object.hasOwn(r, 'id')) malformedById.set(JSON.stringify(r.id), (malformedById.get(JSON.stringify(r.id)) ?? 0) + 1)
        }
        for (const [id, malformed] of malformedById) {
          const withId = answers.filter((a) => JSON.stringify((a as { id: unknown }).id) === id)
          if (withId.length > 0) expect(withId.filter(isErrorResponse).length).toBeGreaterThanOrEqual(Math.min(malformed, withId.length))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('deep nesting, anywhere in the request, is an error and never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('[', '{"a":'), fc.boolean(), async (depth, open, inParams) => {
        const close = open === '[' ? ']' : '}'
        const nest = open.repeat(depth) + '1' + close.repeat(depth)
        const body = inParams ? `{"jsonrpc":"2.0","id":1,"method":"xsc_getBalance","params":[${nest}]}` : nest
        const res = await post(body.slice(0, MAX_BODY))
        expect(isErrorResponse(res.json) || (Array.isArray(res.json) && (res.json as unknown[]).every(isErrorResponse))).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  it('oversized bodies get REQUEST_TOO_LARGE and the server keeps serving', async () => {
    for (const size of [MAX_BODY + 1, MAX_BODY * 3, 4 * 1024 * 1024]) {
      const res = await post('[' + '1,'.repeat(size / 2) + '1]')
      expect(res.status).toBe(413)
      expect(res.json).toMatchObject({ error: { code: RPC_CODES.REQUEST_TOO_LARGE } })
    }
  })

  it('random frames over a WebSocket get well-formed answers and the socket stays usable', async () => {
    const ws = new WebSocket(kit.server.wsUrl)
    await new Promise((r) => ws.once('open', r))
    const answers: unknown[] = []
    ws.on('message', (d) => answers.push(JSON.parse(d.toString())))
    const frames = fc.sample(fc.oneof(fc.string({ maxLength: 100 }), requestLike.map((r) => JSON.stringify(r))), 200)
    for (const f of frames) ws.send(f)
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'last', method: 'xsc_chainStatus' }))
    const end = Date.now() + 5000
    while (!answers.some((a) => (a as { id?: unknown }).id === 'last') && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
    ws.close()
    for (const a of answers) {
      const items = Array.isArray(a) ? a : [a]
      for (const i of items) expect(isValidResponse(i) || (i as { method?: unknown }).method === 'xsc_subscription').toBe(true)
    }
    expect(answers.some((a) => (a as { id?: unknown }).id === 'last')).toBe(true)
  })

  it('after all of it the server still answers and memory stayed bounded', async () => {
    const res = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'xsc_getNonce', params: [toHex(kit.alice.publicKey)] }))
    expect(res.json).toEqual({ jsonrpc: '2.0', id: 1, result: 0 })
    // Another burst of bad input must not leave memory behind either.
    for (let i = 0; i < 200; i++) await post(i % 2 === 0 ? '{"jsonrpc":"2.0","id":1,"method":"xsc_getBalance","params":["0x' + 'f'.repeat(i * 100) : '[' + '['.repeat(i * 50))
    const growthMb = liveHeapMb() - heapBefore
    expect(growthMb).toBeLessThan(32)
  })
})
