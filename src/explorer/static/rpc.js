// JSON-RPC to the node that served this page: HTTP POST for calls (batched), one WebSocket for
// live events. Same origin only: the page makes no other network request.

let nextId = 1

export class RpcError extends Error {
  constructor(error) {
    super(error.message)
    this.code = error.code
    this.data = error.data
  }
}

/** One call; throws RpcError on a JSON-RPC error. */
export async function call(method, params = []) {
  const [result] = await batch([[method, params]])
  if (result instanceof RpcError) throw result
  return result
}

/** Many calls in one HTTP request (the server takes up to 100): results in order, errors as RpcError values. */
export async function batch(calls) {
  if (calls.length === 0) return []
  const out = []
  for (let i = 0; i < calls.length; i += 100) {
    const chunk = calls.slice(i, i + 100)
    const body = chunk.map(([method, params]) => ({ jsonrpc: '2.0', id: nextId++, method, params }))
    const res = await fetch('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (!res.ok && res.status !== 200) throw new Error(`RPC HTTP ${res.status}`)
    const answers = await res.json()
    const byId = new Map((Array.isArray(answers) ? answers : [answers]).map((a) => [a.id, a]))
    for (const req of body) {
      const a = byId.get(req.id)
      out.push(a === undefined ? new RpcError({ code: -32603, message: 'no answer' }) : a.error ? new RpcError(a.error) : a.result)
    }
  }
  return out
}

/**
 * Live events over one WebSocket, resubscribed after a reconnect. `on(topic, fn)` for
 * newHeads / finalizedHeads; `onState(fn)` learns whether the socket is up. When WebSockets are
 * refused (e.g. a proxy), the page falls back to polling chainStatus and sends synthetic
 * newHeads events so everything still updates.
 */
export class Live {
  constructor() {
    this.handlers = new Map()
    this.stateHandlers = new Set()
    this.subs = new Map()
    this.up = false
    this.failures = 0
    this.lastHead = -1
    this.connect()
  }

  on(topic, fn) {
    if (!this.handlers.has(topic)) this.handlers.set(topic, new Set())
    this.handlers.get(topic).add(fn)
    return () => this.handlers.get(topic).delete(fn)
  }

  onState(fn) {
    this.stateHandlers.add(fn)
    fn(this.up)
    return () => this.stateHandlers.delete(fn)
  }

  setUp(up) {
    this.up = up
    for (const fn of this.stateHandlers) fn(up)
  }

  emit(topic, event) {
    if (topic === 'newHeads') this.lastHead = Math.max(this.lastHead, event.height)
    for (const fn of this.handlers.get(topic) ?? []) {
      // A listener failing (e.g. the node restarting mid-fetch) must not break the others.
      try {
        Promise.resolve(fn(event)).catch((err) => console.warn('live update failed', err))
      } catch (err) {
        console.warn('live update failed', err)
      }
    }
  }

  connect() {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`)
    this.ws = ws
    const pending = new Map()
    ws.onopen = () => {
      this.failures = 0
      this.setUp(true)
      for (const topic of ['newHeads', 'finalizedHeads']) {
        const id = nextId++
        pending.set(id, topic)
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'xsc_subscribe', params: [{ topic, subject: null }] }))
      }
    }
    ws.onmessage = (msg) => {
      const data = JSON.parse(msg.data)
      if (data.id !== undefined && pending.has(data.id)) {
        if (data.result) this.subs.set(data.result, pending.get(data.id))
        pending.delete(data.id)
        return
      }
      if (data.method === 'xsc_subscription' && data.params?.result) {
        const topic = this.subs.get(data.params.subscription)
        if (topic) this.emit(topic, data.params.result)
      }
    }
    ws.onclose = () => {
      this.subs.clear()
      this.setUp(false)
      this.failures++
      if (this.failures >= 3) this.poll()
      setTimeout(() => this.connect(), Math.min(10_000, 500 * 2 ** this.failures))
    }
  }

  /** Fallback while the socket is down: poll the head and announce blocks we have not seen. */
  async poll() {
    if (this.polling) return
    this.polling = true
    while (!this.up) {
      try {
        const status = await call('xsc_chainStatus')
        if (this.lastHead >= 0 && status.head.height > this.lastHead) {
          const blocks = await batch(range(this.lastHead + 1, status.head.height).slice(-20).map((h) => ['xsc_getBlockByHeight', [h, false]]))
          for (const b of blocks) if (b && !(b instanceof RpcError)) this.emit('newHeads', { type: 'newHeads', height: b.header.height, index: 0, hash: b.hash, header: b.header })
        }
        this.lastHead = status.head.height
      } catch {
        // the node may be restarting
      }
      await new Promise((r) => setTimeout(r, 2000))
    }
    this.polling = false
  }
}

export function range(from, to) {
  const out = []
  for (let i = from; i <= to; i++) out.push(i)
  return out
}
