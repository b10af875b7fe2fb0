/**
 * What gossiping an execution's receipts costs the network (real libp2p nodes on loopback, one
 * process): 4 validators and 6 hosts, every node connected to every other (as on the devnet).
 * Executions come in blocks of `--per-block` every `--block-ms` (hosts run a block's executions
 * one after another); each is assigned 3 hosts, and each of those publishes its signed receipt
 * (signed beforehand: signing is not what is compared). Receivers judge receipts with the real
 * receipt pool (a signature check each) on a state holding the execution records.
 * Run three times:
 * - before: every node subscribes to `receipts` and takes every receipt in; one message per receipt;
 * - validators only: only validators subscribe (hosts publish by fanout); one message per receipt;
 * - after: validators only, and a host's receipts signed within `--window-ms` share one message
 *   (ReceiptGossipBatcher);
 * - push (session 14): batched as after, but each host writes its batches straight to the 4
 *   validators over receipt-push streams (receiptPush.ts); nothing on gossip, nobody relays.
 * `--pairs N`: only after and push, alternated N times (median of each; the A/B of receipt push).
 * CPU is the process's (all threads) from the first receipt until every validator holds every
 * receipt, per execution over the whole network. Last line: one JSON object.
 *
 *   npx tsx scripts/bench/receiptGossip.ts [--executions 240] [--per-block 4] [--block-ms 250] [--window-ms 25] [--pairs 0]
 */
import '../../src/polyfill.ts'

import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { computeResultHash, computeWriteSetHash } from '../../blocks/executionHashes.ts'
import { receiptSigningHash } from '../../blocks/ids.ts'
import { OUTCOME, type Receipt, type ReceiptBody, ReceiptGossip } from '../../blocks/schema.ts'
import { ReceiptPool } from '../../src/chain/receiptPool.ts'
import { hash, keyPairFromSecret, sign, toHex, utf8 } from '../../src/crypto/index.ts'
import { createNetNode, type NetNode, type ValidationResult } from '../../src/net/index.ts'
import { createLogger } from '../../src/node/logger.ts'
import { admitReceiptBatch, ReceiptGossipBatch, ReceiptGossipBatcher } from '../../src/node/network/receiptGossipBatch.ts'
import { ReceiptPushClient, ReceiptPushServer } from '../../src/node/network/receiptPush.ts'
import { EXECUTION_STATUS } from '../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../src/state/stateView.ts'
import { TABLES } from '../../src/state/tables.ts'
import { median, round } from './support/stats.ts'
import { sleep, waitUntil } from './support/waitUntil.ts'

const { values } = parseArgs({ options: { executions: { type: 'string', default: '240' }, 'per-block': { type: 'string', default: '4' }, 'block-ms': { type: 'string', default: '250' }, 'window-ms': { type: 'string', default: '25' }, pairs: { type: 'string', default: '0' } } })
const EXECUTIONS = Number(values.executions)
const PER_BLOCK = Number(values['per-block'])
const BLOCK_MS = Number(values['block-ms'])
const WINDOW_MS = Number(values['window-ms'])
const CHAIN = 'bench-receipt-gossip'
const VALIDATORS = 4
const HOSTS = 6
const REPLICAS = 3

const validatorKeys = Array.from({ length: VALIDATORS }, (_, i) => keyPairFromSecret(hash(utf8(`bench-receipt-gossip/validator/${i}`))))
const silent = createLogger({ level: 'silent' })
const hostKeys = Array.from({ length: HOSTS }, (_, i) => keyPairFromSecret(hash(utf8(`bench-receipt-gossip/host/${i}`))))

/** The executions (records in a state every node reads) and, per host, its signed receipts in order. */
function makeWork(run: string): { state: StateOverlay; byHost: ReceiptGossip[][] } {
  const state = new StateOverlay(new MemoryState())
  const byHost: ReceiptGossip[][] = hostKeys.map(() => [])
  const output = utf8('6765')
  for (let e = 0; e < EXECUTIONS; e++) {
    const executionId = hash(utf8(`${run}/execution/${e}`))
    const assigned = Array.from({ length: REPLICAS }, (_, r) => (e + r) % HOSTS)
    state.write(TABLES.execution.at(executionId), {
      client: hash(utf8('client')), asset: hash(utf8('asset')), fn: 'run', input: new Uint8Array(0), fuelLimit: 1000n, bidPerFuel: 1n, replicas: REPLICAS, quorum: 2, private: false,
      assignment: assigned.map((h) => hostKeys[h]!.publicKey), escrow: 1000n, startSlot: 1, deadlineSlot: 1_000_000, status: EXECUTION_STATUS.pending, origin: { x: 0, y: 0, z: 0 }, seq: BigInt(e), agreed: undefined,
    })
    for (const h of assigned) {
      const body: ReceiptBody = { chainId: CHAIN, executionId, host: hostKeys[h]!.publicKey, outcome: OUTCOME.ok, resultHash: computeResultHash(OUTCOME.ok, output), fuelUsed: 1234n, writeSetHash: computeWriteSetHash([]), output, preStateHash: hash(utf8(`pre/${e}`)) }
      const receipt: Receipt = { body, signature: sign(hostKeys[h]!.secretKey, receiptSigningHash(body)) }
      byHost[h]!.push({ receipt, writeSet: [] })
    }
  }
  return { state, byHost }
}

/** libp2p refuses more than a few inbound connections a second from one address: 45 dials on loopback need patience. */
async function dialWithRetry(net: NetNode, addr: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return void (await net.dial(addr))
    } catch (err) {
      if (attempt >= 5) throw err
      await sleep(500 * attempt)
    }
  }
}

interface Peer { net: NetNode; pool: ReceiptPool; messages: number; held: number; validate(bytes: Uint8Array): ValidationResult }

let runs = 0
async function runMode(validatorsOnly: boolean, batched: boolean, push = false): Promise<Record<string, number>> {
  const run = `${validatorsOnly ? 'validators' : 'all'}/${batched ? 'batched' : 'single'}/${push ? 'push' : 'gossip'}/${runs++}`
  const { state, byHost } = makeWork(run)
  const after = batched
  const peers: Peer[] = []
  for (let i = 0; i < VALIDATORS + HOSTS; i++) {
    const net = createNetNode({ secretKey: hash(utf8(`${run}/node/${i}`)), chainId: CHAIN })
    const peer: Peer = { net, pool: new ReceiptPool(CHAIN), messages: 0, held: 0, validate: () => 'ignore' }
    const take = (msg: ReceiptGossip): void => {
      peer.pool.add(msg.receipt, msg.writeSet, state)
      peer.held++
    }
    const validate = (bytes: Uint8Array): ValidationResult => {
      peer.messages++
      try {
        if (!after) return admitReceiptBatch([decode(ReceiptGossip, bytes)], take, () => undefined)
        return admitReceiptBatch(decode(ReceiptGossipBatch, bytes), take, () => undefined)
      } catch {
        return 'reject'
      }
    }
    peer.validate = validate
    if (i < VALIDATORS || !validatorsOnly) net.subscribe('receipts', { validate, handle: () => undefined })
    peers.push(peer)
  }
  const validators = peers.slice(0, VALIDATORS)
  const hosts = peers.slice(VALIDATORS)
  const servers = push ? validators.map((v, i) => new ReceiptPushServer({ net: v.net, log: silent, chainId: CHAIN, validatorKey: validatorKeys[i]!, accept: (bytes) => v.validate(bytes) })) : []
  const clients = push ? hosts.map((h) => new ReceiptPushClient({ net: h.net, log: silent, chainId: CHAIN, validators: () => validatorKeys.map((k) => toHex(k.publicKey)), candidates: () => validators.map((v) => v.net.peerId) })) : []
  const batchers = hosts.map((h, i) => new ReceiptGossipBatcher({ publish: async (bytes) => (clients[i]?.send(bytes) === true ? undefined : h.net.publish('receipts', bytes)), windowMs: WINDOW_MS }))
  try {
    for (const s of servers) await s.start()
    await Promise.all(peers.map((p) => p.net.start()))
    for (let i = 0; i < peers.length; i++) for (let j = i + 1; j < peers.length; j++) await dialWithRetry(peers[i]!.net, peers[j]!.net.multiaddrs()[0]!)
    await waitUntil(() => hosts.every((h) => h.net.topicPeers('receipts').length >= VALIDATORS), 10_000, 'the hosts to see the validators\' subscriptions')
    await sleep(1500) // mesh grafts settle
    for (const c of clients) c.poll()
    await waitUntil(() => clients.every((c) => c.validators.length === VALIDATORS), 10_000, 'a push stream from every host to every validator')
    const next = hostKeys.map(() => 0)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let start = 0; start < EXECUTIONS; start += PER_BLOCK) {
      const due = t0 + (start / PER_BLOCK) * BLOCK_MS
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      // A block's executions, run one after another: each assigned host sends its receipt as it finishes one.
      for (let e = start; e < Math.min(EXECUTIONS, start + PER_BLOCK); e++) {
        for (let r = 0; r < REPLICAS; r++) {
          const h = (e + r) % HOSTS
          const msg = byHost[h]![next[h]!++]!
          // The host's own node takes its receipt in, as hostRole does (a pool of its own here).
          hosts[h]!.pool.add(msg.receipt, msg.writeSet, state)
          if (after) batchers[h]!.add(msg)
          else void hosts[h]!.net.publish('receipts', encode(ReceiptGossip, msg))
        }
        await sleep(1)
      }
    }
    await waitUntil(() => validators.every((v) => v.held >= EXECUTIONS * REPLICAS), 60_000, 'every receipt at every validator').catch((err: unknown) => {
      throw new Error(`${run}: ${(err as Error).message}: held ${validators.map((v) => v.held).join('/')} of ${EXECUTIONS * REPLICAS}, fallbacks ${clients.map((c) => c.sent.gossipFallbacks).join('/')}`)
    })
    const cpu = process.cpuUsage(cpu0)
    const wallMs = performance.now() - t0
    const messages = peers.reduce((s, p) => s + p.messages, 0)
    const fallbacks = clients.reduce((s, c) => s + c.sent.gossipFallbacks, 0)
    return { cpuMsPerExecution: round((cpu.user + cpu.system) / 1000 / EXECUTIONS, 3), messagesReceivedPerReceipt: round(messages / (EXECUTIONS * REPLICAS), 2), wallMs: Math.round(wallMs), ...(push ? { gossipFallbacks: fallbacks } : {}) }
  } finally {
    for (const b of batchers) b.close()
    for (const c of clients) c.stop()
    await Promise.all(servers.map((s) => s.stop()))
    await Promise.all(peers.map((p) => p.net.stop().catch(() => undefined)))
  }
}

const PAIRS = Number(values.pairs)
if (PAIRS > 0) {
  const load = (): number => Number(loadavg()[0]!.toFixed(1))
  const gossip: number[] = []
  const pushed: number[] = []
  const loads: number[] = []
  for (let i = 0; i < PAIRS; i++) {
    const a = await runMode(true, true)
    const b = await runMode(true, true, true)
    gossip.push(a.cpuMsPerExecution!)
    pushed.push(b.cpuMsPerExecution!)
    loads.push(load())
    console.log(JSON.stringify({ pair: i, gossip: a, push: b, loadAvg1m: loads.at(-1) }))
  }
  console.log(JSON.stringify({ executions: EXECUTIONS, perBlock: PER_BLOCK, blockMs: BLOCK_MS, windowMs: WINDOW_MS, pairs: PAIRS, cpuMsPerExecutionGossip: median(gossip), cpuMsPerExecutionPush: median(pushed), ratio: round(median(gossip) / median(pushed), 2), loadAvg1m: loads }))
  process.exit(0)
}
const before = await runMode(false, false)
console.log(JSON.stringify({ mode: 'before: every node subscribed, one message per receipt', ...before }))
const validatorsOnly = await runMode(true, false)
console.log(JSON.stringify({ mode: 'validators only, one message per receipt', ...validatorsOnly }))
const after = await runMode(true, true)
console.log(JSON.stringify({ mode: 'after: validators only, batched per host', ...after }))
console.log(JSON.stringify({ executions: EXECUTIONS, perBlock: PER_BLOCK, blockMs: BLOCK_MS, windowMs: WINDOW_MS, validators: VALIDATORS, hosts: HOSTS, replicas: REPLICAS, cpuMsPerExecutionBefore: before.cpuMsPerExecution, cpuMsPerExecutionValidatorsOnly: validatorsOnly.cpuMsPerExecution, cpuMsPerExecutionAfter: after.cpuMsPerExecution, ratio: round(before.cpuMsPerExecution! / after.cpuMsPerExecution!, 2), messagesPerReceiptBefore: before.messagesReceivedPerReceipt, messagesPerReceiptValidatorsOnly: validatorsOnly.messagesReceivedPerReceipt, messagesPerReceiptAfter: after.messagesReceivedPerReceipt }))
process.exit(0)
