// CPU per small message over a libp2p stream (tcp + noise + yamux as createNetNode builds it), the
// shape of a vote on a validator link: two nodes in this process, `--n` messages of `--bytes`
// sent one at a time, each answered by a 1-byte ack before the next (so every message is its own
// send, as votes are). `--root DIR` takes createNetNode from another checkout (A/B against main
// in the same run: run it twice, alternating). Last stdout line: one JSON object.
//   npx tsx scripts/bench/smallMessages.ts [--n 4000] [--bytes 300] [--root /work/main]
import '../../src/polyfill.ts'

import { loadavg } from 'node:os'
import { resolve } from 'node:path'

import type { NetNode, NetNodeOpts } from '../../src/net/index.ts'
import { round } from './support/stats.ts'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const root = resolve(arg('root', new URL('../..', import.meta.url).pathname))
const n = Number(arg('n', '4000'))
const bytes = Number(arg('bytes', '300'))
const { createNetNode } = (await import(`${root}/src/net/index.ts`)) as { createNetNode: (o: NetNodeOpts) => NetNode }
const seed = (i: number): Uint8Array => new Uint8Array(32).fill(i)
const [a, b] = [createNetNode({ secretKey: seed(81), chainId: 'smallmsg', heartbeatMs: 60_000 }), createNetNode({ secretKey: seed(82), chainId: 'smallmsg', heartbeatMs: 60_000 })] as [NetNode, NetNode]
await a.start()
await b.start()
await a.dial(b.multiaddrs()[0]!)
let pendingAck: (() => void) | undefined
await b.handleStream('/bench/small/1', (stream) => {
  void (async () => {
    for await (const chunk of stream) if (chunk.byteLength > 0) stream.send(new Uint8Array([1]))
  })()
}, { maxInboundStreams: 1 })
const stream = await a.openStream(b.peerId, '/bench/small/1', { signal: AbortSignal.timeout(10_000) })
void (async () => {
  for await (const _ of stream) pendingAck?.()
})()
const message = new Uint8Array(bytes).fill(7)
const sendOne = (): Promise<void> => new Promise((r) => {
  pendingAck = r
  stream.send(message)
})
for (let i = 0; i < 200; i++) await sendOne() // warm-up
const cpu0 = process.cpuUsage()
const t0 = performance.now()
for (let i = 0; i < n; i++) await sendOne()
const cpu = process.cpuUsage(cpu0)
const ms = performance.now() - t0
await a.stop()
await b.stop()
console.log(JSON.stringify({ root, n, bytes, cpuUsPerMessage: round((cpu.user + cpu.system) / n, 1), wallUsPerMessage: round((ms * 1000) / n, 1), load1m: round(loadavg()[0]!, 1) }))
