// Run inside the client's network namespace by netns.test.ts: talks to the nodes only through
// their 10.77.0.x addresses, runs deploy → execute → complete, and prints one JSON line of facts.
import '../../../src/polyfill.ts'

import { readFileSync } from 'node:fs'

import { type Client, createClient, deploy, execute, getAsset, getBlock, getChainParams, getChainStatus, getHosts, http, waitForExecution } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { readKeyFile } from '../../../src/node/keyFile.ts'
import { codingParamsOf, computeManifest } from '../../../src/storage/encodeAsset.ts'

interface Plan { validators: string[]; hosts: string[]; clientKey: string; fixture: string }
const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Plan
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const log = (msg: string) => process.stderr.write(`[driver] ${msg}\n`)

async function until<T>(what: string, f: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await f().catch(() => undefined)
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

async function probe(base: string, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`)
  const text = await res.text()
  return { status: res.status, body: path === '/metrics' ? text : JSON.parse(text) }
}

const clients: Client[] = plan.validators.map((url) => createClient({ transport: http(url) }))
const hostClients: Client[] = plan.hosts.map((url) => createClient({ transport: http(url) }))
const c = clients[clients.length - 1]!
try {
  const account = readKeyFile(plan.clientKey)
  let lastReport = 0
  const hosts = await until(`${plan.hosts.length} hosts to join`, async () => {
    const list = await getHosts(c, { limit: 1000 })
    if (Date.now() - lastReport > 15_000) {
      lastReport = Date.now()
      const statuses = await Promise.all([...clients, ...hostClients].map((cl) => getChainStatus(cl).then((s) => `${s.head.height}/${s.finalized.height}/${s.peers}p`, (e: Error) => e.message.slice(0, 40))))
      log(`${list.length} hosts joined; head/finalized/peers per node: ${statuses.join(' ')}`)
    }
    return list.length >= plan.hosts.length ? list : undefined
  }, 600_000)
  log(`${hosts.length} hosts joined`)
  // A host that is still downloading blocks cannot take its shard or run its assignment in time:
  // on a loaded machine that takes a while, so wait until every host follows the chain.
  await until('every host to follow the chain', async () => {
    const target = (await getChainStatus(c)).finalized.height
    const heads = await Promise.all(hostClients.map((h) => getChainStatus(h).then((s) => s.head.height)))
    return heads.every((h) => h >= target)
  }, 600_000)
  log('every host follows the chain')
  const code = new Uint8Array(readFileSync(plan.fixture))
  const manifest = computeManifest(code, codingParamsOf((await getChainParams(c)).params))
  const asset = await deploy(c, { account, bytes: code, manifest, kind: 'module', deposit: 10_000_000n, bidPerByteEpoch: 10n })
  const info = await until('the deployment block', () => getAsset(c, { id: asset }), 60_000)
  log(`deployed ${toHex(asset)} on ${info.record.placement.length} hosts`)
  const input = new Uint8Array(4)
  new DataView(input.buffer).setUint32(0, 20, true)
  const id = await execute(c, { account, asset, fn: 'run', input, fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 200 })
  const done = await waitForExecution(c, { id, timeoutMs: 300_000 })
  const entry = done.completion.entry
  const height = done.completion.block.height
  log(`completed in block ${height}`)
  await until('every validator to finalize the completion', async () => (await Promise.all(clients.map((v) => getChainStatus(v)))).every((s) => s.finalized.height >= height), 60_000)
  const views = await Promise.all(clients.map((v) => getBlock(v, { height })))
  // A host's earnings metric counts the completion once the host has applied its block: hosts
  // follow the chain through the commits topic, a moment behind the validators.
  await until('every host to finalize the completion', async () => (await Promise.all(hostClients.map((h) => getChainStatus(h)))).every((s) => s.finalized.height >= height), 60_000)
  // Readiness flips to 503 while a node downloads a range (it does under load): wait for each
  // validator's /ready to say 200 rather than sampling once.
  await until('every validator to be ready', async () => (await Promise.all(plan.validators.map((u) => probe(u, '/ready')))).every((r) => r.status === 200), 120_000).catch((e: Error) => log(e.message))
  const probes = await Promise.all([...plan.validators, ...plan.hosts].map(async (url) => ({ url, health: await probe(url, '/health'), ready: await probe(url, '/ready'), metrics: (await probe(url, '/metrics')).body as string })))
  const metric = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
  process.stdout.write(JSON.stringify({
    hostPeerIds: hosts.map((h) => h.record.params.peerId),
    placement: info.record.placement.length,
    status: entry.status,
    output: entry.output.length === 8 ? new DataView(entry.output.buffer, entry.output.byteOffset, 8).getBigUint64(0, true).toString() : toHex(entry.output),
    receipts: entry.receipts.length,
    payouts: entry.payouts.map((p) => ({ to: toHex(p.to), amount: p.amount.toString() })),
    completionHashes: views.map((v) => (v ? toHex(v.hash) : null)),
    probes: probes.map((p) => ({ url: p.url, health: p.health.status, ready: p.ready.status, readyBody: p.ready.body, storedBytes: metric(p.metrics, 'xsc_host_stored_bytes'), shards: metric(p.metrics, 'xsc_host_shards'), earned: metric(p.metrics, 'xsc_host_earned_base_units_total{source="execution"}'), finalized: metric(p.metrics, 'xsc_finalized_height') })),
  }) + '\n')
} finally {
  for (const cl of [...clients, ...hostClients]) await cl.close()
}
process.exit(0)
