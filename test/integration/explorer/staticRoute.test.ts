import { connect } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

import { createExplorerRoute } from '../../../src/explorer/explorerRoute.ts'
import { isSameOriginLocal, type RpcServer, startRpcServer } from '../../../src/rpc/server.ts'
import { MemoryBackend } from '../../unit/rpc/memoryBackend.ts'

let server: RpcServer
let port: number

beforeAll(async () => {
  server = await startRpcServer({}, { backend: new MemoryBackend(), staticFiles: createExplorerRoute() })
  port = server.port
})
afterAll(async () => {
  await server.close()
})

/** Sends a request line exactly as written (fetch would normalize `..` away before sending). */
function rawGet(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    socket.on('data', (d) => (data += d.toString('latin1')))
    socket.on('error', reject)
    socket.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n')
      resolve({ status: Number(head.split(' ')[1]), head: head.toLowerCase(), body })
    })
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    socket.write(`${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n${extra}\r\n`)
  })
}

describe('the explorer files on the RPC port', () => {
  it('serves the page, its modules and three.js with their content types, ETags and caching headers', async () => {
    const index = await rawGet('/')
    expect(index.status).toBe(200)
    expect(index.head).toContain('content-type: text/html; charset=utf-8')
    expect(index.head).toContain('cache-control: no-cache')
    expect(index.head).toContain("content-security-policy: default-src 'self'")
    expect(index.head).toContain('x-content-type-options: nosniff')
    expect(index.body).toContain('<script type="module" src="/app.js"></script>')

    const app = await rawGet('/app.js')
    expect(app.status).toBe(200)
    expect(app.head).toContain('content-type: text/javascript; charset=utf-8')
    expect((await rawGet('/style.css')).head).toContain('content-type: text/css; charset=utf-8')

    const three = await rawGet('/vendor/three.module.js')
    expect(three.status).toBe(200)
    expect(three.head).toContain('content-type: text/javascript')
    expect(three.head).toContain('cache-control: public, max-age=86400')
    expect(three.body).toContain("from './three.core.js'")
    expect((await rawGet('/vendor/three.core.js')).status).toBe(200)

    const etag = /etag: (".*")/.exec(app.head)![1]!
    const again = await rawGet('/app.js', 'GET', { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(again.body).toBe('')
    const head = await rawGet('/app.js', 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
  })

  it('refuses path traversal in every spelling, other node_modules files and the server sources (404)', async () => {
    const attacks = [
      '/../package.json',
      '/../../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/%2E%2E/package.json',
      '/..%2fpackage.json',
      '/..%2f..%2fpackage.json',
      '/%2e%2e%2fpackage.json',
      '/..%5cpackage.json',
      '/..\\package.json',
      '/vendor/../package.json',
      '/vendor/..%2f..%2fpackage.json',
      '/vendor/three.cjs',
      '/vendor/../../node_modules/three/package.json',
      '/vendor/%2e%2e/build/three.cjs',
      '//etc/passwd',
      '/static/../explorerRoute.ts',
      '/explorerRoute.ts',
      '/../explorerRoute.ts',
      '/./app.js',
      '/app.js/',
      '/app.js%00.html',
      '/%61pp.js',
    ]
    for (const path of attacks) {
      const res = await rawGet(path)
      expect(res.status, path).toBe(404)
      expect(res.body, path).not.toContain('"name": "xsc"')
      expect(res.body, path).not.toContain('createExplorerRoute')
      expect(res.body, path).not.toContain('root:')
    }
  })

  it('answers only GET and HEAD with files; other methods on a file path keep the JSON-RPC answers', async () => {
    expect((await rawGet('/app.js', 'DELETE')).status).toBe(405)
    expect((await rawGet('/index.html', 'PUT')).status).toBe(405)
    const post = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'xsc_chainStatus', params: [] }) })
    expect(((await post.json()) as { result: { head: unknown } }).result.head).toBeDefined()
  })
})

describe('WebSocket origins: the node\'s own page may subscribe, other pages may not', () => {
  const open = (origin: string, host?: string): Promise<'open' | number> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { origin, headers: host ? { host } : {} })
      ws.on('open', () => {
        ws.close()
        resolve('open')
      })
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => resolve(0))
    })

  it('accepts the page it served (same IP origin) and refuses foreign and DNS-rebinding origins', async () => {
    expect(await open(`http://127.0.0.1:${port}`)).toBe('open')
    expect(await open('http://evil.example')).toBe(403)
    expect(await open(`http://127.0.0.1:${port + 1}`)).toBe(403)
    // A rebinding page names itself in both Origin and Host: never trusted as same-origin.
    expect(await open(`http://evil.example:${port}`, `evil.example:${port}`)).toBe(403)
    expect(await open(`http://localhost:${port}`, `localhost:${port}`)).toBe('open')
  })

  it('isSameOriginLocal trusts only IP literals and localhost that match the Host exactly', () => {
    expect(isSameOriginLocal('http://127.0.0.1:8545', '127.0.0.1:8545')).toBe(true)
    expect(isSameOriginLocal('http://10.0.0.7:8545', '10.0.0.7:8545')).toBe(true)
    expect(isSameOriginLocal('http://[::1]:8545', '[::1]:8545')).toBe(true)
    expect(isSameOriginLocal('http://localhost:8545', 'localhost:8545')).toBe(true)
    expect(isSameOriginLocal('http://node.example:8545', 'node.example:8545')).toBe(false)
    expect(isSameOriginLocal('http://127.0.0.1:8545', '127.0.0.1:8546')).toBe(false)
    expect(isSameOriginLocal('https://127.0.0.1:8545', '127.0.0.1:8545')).toBe(false)
    expect(isSameOriginLocal('http://127.0.0.1.evil.example', '127.0.0.1.evil.example')).toBe(false)
    expect(isSameOriginLocal('http://127.0.0.1:8545', undefined)).toBe(false)
  })
})
