import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { getAssetDataDirectStream } from '../../../src/client/actions/getAssetDataDirect.ts'
import { createClient, getAsset, getHosts, type Transport } from '../../../src/client/index.ts'
import { equalBytes, fromHex } from '../../../src/crypto/index.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { type ComputeNetwork, startComputeNetwork } from '../../support/computeNetwork.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { type CliErrorJson, runCli } from '../cli/cliHarness.ts'

/**
 * Read back and encryption at rest on real processes: one validator and six hosts, a random
 * blob deployed with `xsc deploy` (encrypted by default), two of its hosts killed, `xsc get`
 * returns identical bytes; no window of the plaintext is in any node's data directory; a
 * --public blob is served by GET /assets/<id> with range requests. 24 MiB by default
 * (XSC_READBACK_MIB to change it): six 4 MiB coding segments, so each shard spans several 2 MiB
 * read windows and the last one is partial, as in any large blob. The 64 MiB run is
 * test/faults/readBackLarge.test.ts (npm run test:faults); the 64 MiB scenario cost ~28 s of
 * the 10-minute npm test for no path the 24 MiB one does not take.
 */
const MIB = Number(process.env.XSC_READBACK_MIB ?? 24)
let net: ComputeNetwork
let rpc: string
let keyFile: string
let otherKeyFile: string
/** The --public blob of the first test (the fallback test reads it again). */
let publicBlob: { plain: Uint8Array; assetId: string } | undefined

beforeAll(async () => {
  // Two-second slots: this test moves tens of MiB between seven processes on a small shared
  // machine, and a host must import the deployment block before it takes its shard.
  net = await startComputeNetwork({ name: 'readback', validators: 1, hosts: 6, slotMs: 2000 })
  rpc = net.validators[0]!.rpc
  keyFile = join(net.dir, 'owner.json')
  otherKeyFile = join(net.dir, 'other.json')
  writeKeyFile(keyFile, net.client)
  writeKeyFile(otherKeyFile, testKey('readback-stranger'))
  await waitFor(async () => (await getHosts(net.rpc(), { limit: 100 })).length >= 6, 240_000, 'six hosts to join')
}, 360_000)

afterAll(async () => {
  await net?.close()
})

const cli = async (...argv: string[]): Promise<{ code: number; json: Record<string, unknown> }> => {
  const r = await runCli(...argv, '--rpc', rpc, '--json')
  return { code: r.code, json: r.json as Record<string, unknown> }
}
const ok = async (...argv: string[]): Promise<Record<string, unknown>> => {
  const r = await cli(...argv)
  expect(r.code, JSON.stringify(r.json)).toBe(0)
  return r.json
}

/** Shards held by host i, from its /metrics. */
async function shardsOn(i: number): Promise<number> {
  const host = net.hosts[i]
  if (host === undefined) return 0
  // A fresh connection each time: a kept-alive one may be closed by the node as we reuse it.
  const text = await fetch(`${host.rpc}/metrics`, { headers: { connection: 'close' } }).then((r) => r.text(), () => '')
  return Number(/^xsc_host_shards(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0)
}
const totalShards = async (): Promise<number> => (await Promise.all(net.hosts.map((_, i) => shardsOn(i)))).reduce((a, b) => a + b, 0)

/** Deploys a file with the CLI and waits until its six shards are on their hosts. */
async function deployBlob(file: string, ...flags: string[]): Promise<Record<string, unknown>> {
  const before = await totalShards()
  const d = await ok('deploy', file, '--key', keyFile, '--kind', 'blob', '--bid', '10', '--wait', '--timeout', '180', ...flags)
  await waitFor(async () => (await totalShards()) >= before + 6, 120_000, 'six shards handed to the hosts')
  return d
}

/** Every file under `dir`, read once. Running nodes rename temp files as we walk, so one that vanishes is skipped. */
function filesUnder(dir: string): { file: string; bytes: Buffer }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = join(dir, e.name)
    if (e.isDirectory()) return filesUnder(file)
    if (!e.isFile()) return []
    try {
      return [{ file, bytes: readFileSync(file) }]
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  })
}

/**
 * Windows of the plaintext at every 32nd offset, looked up at every offset of the files: any
 * run of 63 or more plaintext bytes in a file contains one of them. An open-addressing table of
 * their first 4 bytes keeps the scan at a few ns per byte; candidates are compared in full.
 */
function findPlaintextWindows(plain: Uint8Array, files: { file: string; bytes: Buffer }[]): string[] {
  const W = 32
  const slots = 1 << (32 - Math.clz32(plain.length / W * 2))
  const table = new Int32Array(slots).fill(-1)
  const view = new DataView(plain.buffer, plain.byteOffset)
  const mix = (x: number): number => (Math.imul(x, 0x9e3779b1) >>> 0) & (slots - 1)
  for (let at = 0; at + W <= plain.length; at += W) {
    let s = mix(view.getUint32(at))
    while (table[s] !== -1) s = (s + 1) & (slots - 1)
    table[s] = at
  }
  const hits: string[] = []
  for (const { file, bytes } of files) {
    const fv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let at = 0; at + W <= bytes.length; at++) {
      const key = fv.getUint32(at)
      for (let s = mix(key); table[s] !== -1; s = (s + 1) & (slots - 1)) {
        const p = table[s]!
        if (view.getUint32(p) === key && bytes.subarray(at, at + W).equals(plain.subarray(p, p + W))) {
          hits.push(`${file}@${at}`)
          break
        }
      }
    }
  }
  return hits
}

describe('read back and encryption at rest on six host processes', () => {
  it('a --public blob is served by GET /assets/<id> with 200, 206 and 416', async () => {
    const plain = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17))
    const file = join(net.dir, 'public.bin')
    writeFileSync(file, plain)
    const d = await deployBlob(file, '--public')
    expect(d).toMatchObject({ encrypted: false, storedSize: plain.length })
    publicBlob = { plain, assetId: d.assetId as string }
    const url = `${rpc}/assets/${d.assetId as string}`
    const whole = await fetch(url)
    expect(whole.status).toBe(200)
    expect(whole.headers.get('accept-ranges')).toBe('bytes')
    expect(Buffer.from(await whole.arrayBuffer()).equals(plain)).toBe(true)
    const part = await fetch(url, { headers: { range: 'bytes=1000000-1999999' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 1000000-1999999/${plain.length}`)
    expect(Buffer.from(await part.arrayBuffer()).equals(plain.subarray(1_000_000, 2_000_000))).toBe(true)
    const tail = await fetch(url, { headers: { range: 'bytes=-10' } })
    expect(Buffer.from(await tail.arrayBuffer()).equals(plain.subarray(plain.length - 10))).toBe(true)
    const past = await fetch(url, { headers: { range: `bytes=${plain.length}-` } })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe(`bytes */${plain.length}`)
    await past.arrayBuffer()
    const unknown = await fetch(`${rpc}/assets/0x${'ab'.repeat(32)}`)
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { data: { reason: string } } }).error.data.reason).toBe('UNKNOWN_ASSET')
    // The CLI reads a public blob without a key, by default straight from the hosts' shard HTTP servers (the node's /assets/<id>/hosts names them).
    const out = join(net.dir, 'public.out')
    expect(await ok('get', d.assetId as string, '--out', out)).toMatchObject({ encrypted: false, bytes: plain.length, via: 'hosts' })
    expect(readFileSync(out).equals(plain)).toBe(true)
    const hostUrls = (await (await fetch(`${rpc}/assets/${d.assetId as string}/hosts`)).json()) as { shardUrls: (string | null)[] }
    expect(hostUrls.shardUrls.filter((u) => u !== null && /^http:\/\/127\.0\.0\.1:\d+$/.test(u))).toHaveLength(6)
    // --via-node: the old path, the node reading the hosts and serving GET /assets/<id>.
    const viaNode = join(net.dir, 'public.node')
    expect(await ok('get', d.assetId as string, '--out', viaNode, '--via-node')).toMatchObject({ bytes: plain.length, via: 'node' })
    expect(readFileSync(viaNode).equals(plain)).toBe(true)
    // --direct: straight from the hosts over the CLI's own libp2p node, the manifest proven against a finalized block.
    const direct = join(net.dir, 'public.direct')
    expect(await ok('get', d.assetId as string, '--out', direct, '--direct')).toMatchObject({ encrypted: false, bytes: plain.length, direct: true })
    expect(readFileSync(direct).equals(plain)).toBe(true)
    // A node that lies about the asset record (here: one byte of it) is caught by the state proof before any host is dialed.
    const honest = net.rpc()
    const lying: Transport = {
      ...honest.transport,
      request: async (method, params) => {
        const answer = (await honest.transport.request(method, params)) as { proofs?: { value: string | null }[] }
        const value = method === 'xsc_getProof' ? answer.proofs?.[0]?.value : undefined
        if (typeof value === 'string') answer.proofs![0]!.value = value.slice(0, -2) + (value.endsWith('00') ? '01' : '00')
        return answer as never
      },
    }
    await expect(getAssetDataDirectStream(createClient({ transport: lying }), { id: fromHex(d.assetId as string, 32) })).rejects.toThrow(/state proof refused/)
  }, 300_000)

  it('with every host unreachable over HTTP, xsc get reads through the node (the fallback) and gets identical bytes', async () => {
    // The first test's 3 MiB public blob, or one of its own when run alone.
    const { plain, assetId } = publicBlob ?? await (async () => {
      const own = new Uint8Array(randomBytes(2 * 1024 * 1024 + 5))
      writeFileSync(join(net.dir, 'fallback.bin'), own)
      return { plain: own, assetId: (await deployBlob(join(net.dir, 'fallback.bin'), '--public')).assetId as string }
    })()
    // Stale hints: the node's route to the validator, except that it names a closed port on each
    // host's own IP for every shard (what a node's cache holds after hosts moved or shut HTTP off).
    const closedPort = await freePort()
    const stale = await startHintProxy(rpc, () => ({ shardUrls: Array.from({ length: 6 }, () => `http://127.0.0.1:${closedPort}`) }))
    // No hints at all (hosts with shard-http off): the node answers every URL null.
    const none = await startHintProxy(rpc, () => ({ shardUrls: Array.from({ length: 6 }, () => null) }))
    try {
      for (const [name, proxy] of [['stale', stale], ['none', none]] as const) {
        const out = join(net.dir, `fallback-${name}.out`)
        const r = await runCli('get', assetId, '--out', out, '--rpc', proxy.url, '--json')
        expect(r.code, `${name}: ${r.stdout} ${r.stderr}`).toBe(0)
        expect(r.json, name).toMatchObject({ assetId, bytes: plain.length, encrypted: false, via: 'node' })
        expect(readFileSync(out).equals(plain), name).toBe(true)
      }
      expect(stale.hintsServed()).toBeGreaterThan(0)
    } finally {
      await stale.close()
      await none.close()
    }
  }, 300_000)

  it(`a random ${MIB} MiB blob is encrypted, survives two killed hosts, reads back identical, and no node stores its plaintext`, async () => {
    const plain = new Uint8Array(randomBytes(MIB << 20))
    const file = join(net.dir, 'secret.bin')
    writeFileSync(file, plain)
    const d = await deployBlob(file)
    expect(d).toMatchObject({ kind: 'blob', encrypted: true, size: plain.length })
    const assetId = d.assetId as string
    const info = (await getAsset(net.rpc(), { id: fromHex(assetId, 32) }))!
    // Kill the hosts of two data shards, so the read must rebuild from parity.
    const holders = [0, 1].map((s) => net.hostKeys.findIndex((k) => equalBytes(k.publicKey, info.record.placement[s]!)))
    expect(holders.every((h) => h >= 0)).toBe(true)
    for (const h of holders) await net.killHost(h)

    const out = join(net.dir, 'secret.out')
    const got = await ok('get', assetId, '--out', out, '--key', keyFile)
    expect(got).toMatchObject({ assetId, bytes: plain.length, encrypted: true, via: 'hosts' })
    expect(readFileSync(out).equals(plain)).toBe(true)
    const direct = join(net.dir, 'secret.direct')
    expect(await ok('get', assetId, '--out', direct, '--key', keyFile, '--direct')).toMatchObject({ assetId, bytes: plain.length, encrypted: true, direct: true })
    expect(readFileSync(direct).equals(plain)).toBe(true)

    // Without the key the stored bytes are ciphertext: the CLI refuses rather than write them; another key fails to decrypt.
    const noKey = await cli('get', assetId, '--out', join(net.dir, 'nokey.out'))
    expect(noKey.code).toBe(1)
    expect((noKey.json as unknown as CliErrorJson).error.code).toBe('KEY_REQUIRED')
    const wrong = await cli('get', assetId, '--out', join(net.dir, 'wrong.out'), '--key', otherKeyFile)
    expect((wrong.json as unknown as CliErrorJson).error.code).toBe('DECRYPT_FAILED')
    expect(() => statSync(join(net.dir, 'wrong.out'))).toThrow()

    // Every node's data directory (hosts, killed or not, and the validator that took the upload).
    const dirs = [...net.hosts.map((_, i) => join(net.dir, `host-${i}`)), join(net.dir, 'validator-0')]
    const files = dirs.flatMap(filesUnder)
    expect(files.reduce((n, f) => n + f.bytes.length, 0)).toBeGreaterThan(plain.length)
    expect(findPlaintextWindows(plain, files)).toEqual([])
  }, 600_000)
})

/** A port nothing listens on (bound once, then released). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * The node's RPC at `target` behind a pass-through proxy that answers `GET /assets/<id>/hosts`
 * itself with `hints()`; every other request (JSON-RPC, GET /assets/<id>) goes to the node as it is.
 */
async function startHintProxy(target: string, hints: () => unknown): Promise<{ url: string; hintsServed(): number; close(): Promise<void> }> {
  let served = 0
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && /^\/assets\/0x[0-9a-f]{64}\/hosts$/.test(req.url ?? '')) {
      served++
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hints()))
      return
    }
    const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hintsServed: () => served,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
