// CPU per message between two validators: (a) a libp2p stream as validator links use it
// (createNetNode: tcp + noise + yamux, coalesceSocketWrites on) against (b) a raw `net` socket
// carrying ChaCha20-Poly1305 sealed frames (src/net/sealedFrames.ts, one native AEAD call per
// frame). Both ends in this process, so the CPU counted is the sender's and the receiver's. Each
// round sends `--n` messages of each size one-way, a tick per message (as votes leave), with a
// sealed/streamed 1-byte ack every `--k`; arms alternate, `--rounds` rounds, medians.
// The loop's own cost (a tick per message, measured alone) is subtracted from both.
// Last stdout line: one JSON object ({size: {libp2pUsPerMsg, rawUsPerMsg, ratio}}).
//   npx tsx scripts/bench/linkTransport.ts [--n 3000] [--k 4] [--rounds 5] [--sizes 150,1024]
import '../../src/polyfill.ts'

import { randomBytes } from 'node:crypto'
import { connect, createServer, type Socket } from 'node:net'
import { loadavg } from 'node:os'

import { createNetNode, type NetNode } from '../../src/net/index.ts'
import { FrameOpener, FrameSealer } from '../../src/net/sealedFrames.ts'
import { median, round } from './support/stats.ts'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const n = Number(arg('n', '3000'))
const k = Number(arg('k', '4'))
const rounds = Number(arg('rounds', '5'))
const sizes = arg('sizes', '150,1024').split(',').map(Number)
const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

interface Arm {
  /** Sends one message; resolves on the ack when `ack` is set. */
  send(bytes: Uint8Array, ack: boolean): Promise<void>
  close(): Promise<void>
}

async function libp2pArm(): Promise<Arm> {
  const seed = (i: number): Uint8Array => new Uint8Array(32).fill(i)
  const [a, b] = [createNetNode({ secretKey: seed(91), chainId: 'linkbench', heartbeatMs: 60_000 }), createNetNode({ secretKey: seed(92), chainId: 'linkbench', heartbeatMs: 60_000 })] as [NetNode, NetNode]
  await a.start()
  await b.start()
  await a.dial(b.multiaddrs()[0]!)
  let want = 0
  let got = 0
  await b.handleStream('/bench/link/1', (stream) => {
    void (async () => {
      for await (const chunk of stream) {
        got += chunk.byteLength
        if (got >= want && want > 0) {
          want = 0
          stream.send(new Uint8Array([1]))
        }
      }
    })()
  }, { maxInboundStreams: 1 })
  const stream = await a.openStream(b.peerId, '/bench/link/1', { signal: AbortSignal.timeout(10_000) })
  let pendingAck: (() => void) | undefined
  let sent = 0
  void (async () => {
    for await (const _ of stream) pendingAck?.()
  })()
  return {
    send(bytes, ack) {
      sent += bytes.length
      if (!ack) return (stream.send(bytes), Promise.resolve())
      return new Promise((r) => {
        pendingAck = r
        want = sent
        stream.send(bytes)
      })
    },
    async close() {
      await a.stop()
      await b.stop()
    },
  }
}

async function rawArm(): Promise<Arm> {
  const keyAB = randomBytes(32)
  const keyBA = randomBytes(32)
  let want = 0
  let got = 0
  const server = createServer((sock) => {
    sock.setNoDelay(true)
    const opener = new FrameOpener(keyAB, 1 << 20)
    const sealer = new FrameSealer(keyBA)
    sock.on('data', (chunk: Buffer) => {
      for (const p of opener.push(chunk)) got += p.length
      if (got >= want && want > 0) {
        want = 0
        sock.write(sealer.seal(new Uint8Array([1])))
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  const sock: Socket = await new Promise((r) => {
    const s = connect(port, '127.0.0.1', () => r(s))
  })
  sock.setNoDelay(true)
  const sealer = new FrameSealer(keyAB)
  const opener = new FrameOpener(keyBA, 1 << 20)
  let pendingAck: (() => void) | undefined
  sock.on('data', (chunk: Buffer) => {
    if (opener.push(chunk).length > 0) pendingAck?.()
  })
  let sent = 0
  return {
    send(bytes, ack) {
      sent += bytes.length
      if (!ack) return (sock.write(sealer.seal(bytes)), Promise.resolve())
      return new Promise((r) => {
        pendingAck = r
        want = sent
        sock.write(sealer.seal(bytes))
      })
    },
    async close() {
      sock.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}

async function measure(arm: Arm, size: number, count: number): Promise<number> {
  const message = new Uint8Array(size).fill(7)
  const cpu0 = process.cpuUsage()
  for (let i = 1; i <= count; i++) {
    await arm.send(message, i % k === 0)
    if (i % k !== 0) await tick()
  }
  const cpu = process.cpuUsage(cpu0)
  return (cpu.user + cpu.system) / count
}

/** The loop alone (ticks, no transport): subtracted to give each transport's own cost. */
const nullArm: Arm = { send: () => Promise.resolve(), close: () => Promise.resolve() }
const arms = { libp2p: await libp2pArm(), raw: await rawArm(), none: nullArm }
for (const arm of Object.values(arms)) for (const size of sizes) await measure(arm, size, 400) // warm-up
const samples: Record<string, Record<'libp2p' | 'raw' | 'none', number[]>> = {}
for (const size of sizes) samples[size] = { libp2p: [], raw: [], none: [] }
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['libp2p', 'raw', 'none'] as const) : (['none', 'raw', 'libp2p'] as const)
  for (const size of sizes) for (const name of order) samples[size]![name].push(await measure(arms[name], size, n))
}
await arms.libp2p.close()
await arms.raw.close()
const result: Record<string, unknown> = { n, k, rounds, load1m: round(loadavg()[0]!, 1) }
for (const size of sizes) {
  const loop = median(samples[size]!.none)
  const l = median(samples[size]!.libp2p) - loop
  const w = median(samples[size]!.raw) - loop
  result[size] = { libp2pUsPerMsg: round(l, 1), rawUsPerMsg: round(w, 1), ratio: round(w / l, 2), loopUsPerMsg: round(loop, 1), libp2pRounds: samples[size]!.libp2p.map((x) => round(x, 1)), rawRounds: samples[size]!.raw.map((x) => round(x, 1)) }
}
console.log(JSON.stringify(result))
