import { Agent, request } from 'node:http'

import { XscError } from '../../blocks/errors.ts'
import { toHex } from '../crypto/bytes.ts'

/** Why one HTTP shard request failed; the reader (streamAsset) drops that shard and asks another. */
export type ShardFetchErrorPayloads = {
  /** The host answered with an error status (its JSON error code when it sent one). */
  HTTP_STATUS: { url: string; status: number; remoteCode?: string }
  /** Fewer or more bytes than asked. */
  WRONG_LENGTH: { url: string; expected: number; got: number }
  TIMEOUT: { url: string; ms: number }
  /** Refused, reset, unreachable. */
  TRANSPORT: { url: string }
}
export class ShardFetchError extends XscError<ShardFetchErrorPayloads> {}

/** What a host's shard HTTP base URL may look like: http://<host>:<port>, nothing else (no path, no credentials). */
const SHARD_HTTP_URL = /^http:\/\/(\[[0-9a-fA-F:.]+\]|[0-9A-Za-z.-]{1,200}):\d{1,5}$/

export function isShardHttpUrl(url: string): boolean {
  return url.length <= 256 && SHARD_HTTP_URL.test(url)
}

/**
 * Whether `url` names the same IP as a host's on-chain multiaddr (/ip4/<ip>/… or /ip6/<ip>/…): a
 * reader only follows a host's HTTP URL to the machine the chain says the host is on, so neither
 * a host nor a node can point reads at another address (an intranet service, a victim).
 */
export function urlMatchesMultiaddr(url: string, multiaddr: string): boolean {
  const m = /^\/(ip4|ip6)\/([^/]+)\//.exec(multiaddr)
  if (m === null || !isShardHttpUrl(url)) return false
  try {
    return new URL(url).hostname === new URL(m[1] === 'ip6' ? `http://[${m[2]!}]` : `http://${m[2]!}`).hostname
  } catch {
    return false
  }
}

export interface ShardHttpReaderOpts {
  /** One request (a window of a few MiB) has this long (default 60 s). */
  timeoutMs?: number
  /** Connections kept per host (default 8: depth × a few windows). */
  socketsPerHost?: number
}

/**
 * Shard windows from hosts' HTTP servers (src/node/shardHttpServer.ts) over kept-alive
 * connections: each answer is copied straight into the caller's window buffer, never joined.
 * Only the length is checked here; the caller checks the bytes against the manifest.
 */
export class ShardHttpReader {
  readonly #agent: Agent
  readonly #timeoutMs: number

  constructor(opts: ShardHttpReaderOpts = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 60_000
    // With a timeout of its own the agent closes an idle socket by the server's `Keep-Alive: timeout` hint, before the
    // server does (without one it keeps it until the server closes, and a request sent as it does is cut: ECONNRESET).
    this.#agent = new Agent({ keepAlive: true, maxSockets: opts.socketsPerHost ?? 8, scheduling: 'lifo', timeout: this.#timeoutMs })
  }

  /** `length` bytes at `offset` of shard `shardIndex` of `asset` from the host at `base` (http://host:port). */
  readRange(base: string, asset: Uint8Array, shardIndex: number, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const out = into !== undefined && into.length >= length ? into.subarray(0, length) : new Uint8Array(length)
    return this.#get(`${base}/shards/${toHex(asset).slice(2)}/${shardIndex}`, { range: `bytes=${offset}-${offset + length - 1}` }, length, out)
  }

  /** The host's page roots of its shard (32 bytes each), unchecked: the caller folds them to the manifest's chunk root. */
  async pageRoots(base: string, asset: Uint8Array, shardIndex: number): Promise<Uint8Array> {
    const roots = await this.#get(`${base}/shards/${toHex(asset).slice(2)}/${shardIndex}/roots`, {}, undefined, undefined)
    if (roots.length % 32 !== 0) throw new ShardFetchError('WRONG_LENGTH', `page roots of ${roots.length} bytes are not whole hashes`, { url: base, expected: roots.length - (roots.length % 32), got: roots.length })
    return roots
  }

  close(): void {
    this.#agent.destroy()
  }

  #get(url: string, headers: Record<string, string>, expected: number | undefined, out: Uint8Array | undefined): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const req = request(url, { agent: this.#agent, headers, timeout: this.#timeoutMs }, (res) => {
        const status = res.statusCode ?? 0
        if (status !== 200 && status !== 206) {
          const body: Buffer[] = []
          let size = 0
          res.on('data', (c: Buffer) => {
            if (size < 4096) body.push(c)
            size += c.length
          })
          res.on('end', () => {
            let remoteCode: string | undefined
            try {
              remoteCode = String((JSON.parse(Buffer.concat(body).toString('utf8')) as { error?: { code?: unknown } }).error?.code ?? '') || undefined
            } catch {
              // not our JSON error body
            }
            reject(new ShardFetchError('HTTP_STATUS', `${url}: HTTP ${status}${remoteCode ? ` ${remoteCode}` : ''}`, { url, status, ...(remoteCode ? { remoteCode } : {}) }))
          })
          res.on('error', () => undefined)
          return
        }
        const declared = Number(res.headers['content-length'])
        const want = expected ?? declared
        if (!Number.isSafeInteger(want) || want < 0 || want > 64 * 1024 * 1024 || (expected !== undefined && declared !== expected)) {
          res.destroy()
          reject(new ShardFetchError('WRONG_LENGTH', `${url}: answer of ${declared} bytes, asked ${expected ?? 'a known length'}`, { url, expected: expected ?? 0, got: declared }))
          return
        }
        const target = out ?? new Uint8Array(want)
        let filled = 0
        res.on('data', (chunk: Buffer) => {
          if (filled + chunk.length > want) {
            res.destroy()
            reject(new ShardFetchError('WRONG_LENGTH', `${url}: more than the ${want} bytes asked`, { url, expected: want, got: filled + chunk.length }))
            return
          }
          target.set(chunk, filled)
          filled += chunk.length
        })
        res.on('end', () => {
          if (filled !== want) reject(new ShardFetchError('WRONG_LENGTH', `${url}: ${filled} of ${want} bytes`, { url, expected: want, got: filled }))
          else resolve(target)
        })
        res.on('error', (err) => reject(new ShardFetchError('TRANSPORT', `${url}: ${err.message}`, { url }, { cause: err })))
        res.on('aborted', () => reject(new ShardFetchError('TRANSPORT', `${url}: the host cut the answer after ${filled} bytes`, { url })))
      })
      req.on('timeout', () => {
        req.destroy()
        reject(new ShardFetchError('TIMEOUT', `${url}: no answer within ${this.#timeoutMs} ms`, { url, ms: this.#timeoutMs }))
      })
      req.on('error', (err) => reject(new ShardFetchError('TRANSPORT', `${url}: ${err.message}`, { url }, { cause: err })))
      req.end()
    })
  }
}
