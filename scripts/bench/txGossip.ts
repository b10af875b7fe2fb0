/**
 * What gossiping a tx costs 4 validators (real libp2p nodes, full mesh on loopback, one process):
 * txs arrive at the 4 nodes in turn (as RPC clients spread them) at `--rate` per second; each
 * node gossips what it admits and admits what it receives (the real `transactions` handler:
 * batch decode, a signature check per tx, a seen-set standing in for the mempool's ALREADY_KNOWN).
 * Run three times: one message per tx (how txs were gossiped before), through TxGossipBatcher on
 * gossipsub, and batched over the validator links (validatorLinks.ts: each batch written once to
 * each other validator, relayed by nobody; how validators send their txs since session 10).
 * CPU is the process's (all threads) from the first tx until every node holds every tx; CPU per
 * tx per node divides by txs × nodes. Last line: one JSON object.
 *
 *   npx tsx scripts/bench/txGossip.ts [--txs 4000] [--rate 400] [--window-ms 25]
 */
import '../../src/polyfill.ts'

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

import { encode } from '../../blocks/codec.ts'
import { txId } from '../../blocks/ids.ts'
import type { SignedTx } from '../../blocks/schema.ts'
import { MempoolError } from '../../src/chain/errors.ts'
import { buildTransfer, signTx } from '../../src/client/tx.ts'
import { hash, keyPairFromSecret, toHex, utf8 } from '../../src/crypto/index.ts'
import { createNetNode, type NetNode } from '../../src/net/index.ts'
import { createLogger } from '../../src/node/logger.ts'
import { createGossipHandlers, runGossipHandler, subscribeGossipHandlers } from '../../src/node/network/gossipHandlers.ts'
import { TxGossipBatch, TxGossipBatcher } from '../../src/node/network/txGossipBatch.ts'
import { ValidatorLinks } from '../../src/node/network/validatorLinks.ts'
import { verifyTxSignature } from '../../src/state/checkTx.ts'
import { txOnlyModules } from '../../test/support/txOnlyModules.ts'
import { round } from './support/stats.ts'
import { sleep, waitUntil } from './support/waitUntil.ts'

const { values } = parseArgs({ options: { txs: { type: 'string', default: '4000' }, rate: { type: 'string', default: '400' }, 'window-ms': { type: 'string', default: '25' } } })
const TXS = Number(values.txs)
const RATE = Number(values.rate)
const WINDOW_MS = Number(values['window-ms'])
const CHAIN = 'bench-tx-gossip'
const NODES = 4

function makeTxs(run: string): SignedTx[] {
  const senders = Array.from({ length: 16 }, (_, i) => keyPairFromSecret(hash(utf8(`bench-tx-gossip/${run}/${i}`))))
  const to = hash(utf8('sink'))
  return Array.from({ length: TXS }, (_, i) => signTx(buildTransfer({ chainId: CHAIN, from: senders[i % 16]!.publicKey, nonce: Math.floor(i / 16), fee: 500n, to, amount: 1000n }), senders[i % 16]!.secretKey))
}

interface Validator { net: NetNode; held: Set<string>; messages: number; send(tx: SignedTx): void; close(): void }

type Mode = 'single' | 'batched' | 'links'

async function runMode(mode: Mode): Promise<Record<string, number>> {
  const batched = mode !== 'single'
  const validators: Validator[] = []
  const keys = Array.from({ length: NODES }, (_, i) => keyPairFromSecret(hash(utf8(`bench-tx-gossip/validator-${i}`))))
  const members = keys.map((k) => toHex(k.publicKey))
  const links: ValidatorLinks[] = []
  for (let i = 0; i < NODES; i++) {
    const net = createNetNode({ secretKey: new Uint8Array(32).fill({ single: 80, batched: 40, links: 120 }[mode] + i), chainId: CHAIN })
    const v: Validator = { net, held: new Set(), messages: 0, send: () => {}, close: () => {} }
    const admit = (tx: SignedTx): void => {
      const id = toHex(txId(tx))
      if (v.held.has(id)) throw new MempoolError('ALREADY_KNOWN', 'known', { txId: id })
      verifyTxSignature(tx, CHAIN, {})
      v.held.add(id)
    }
    const handlers = createGossipHandlers(txOnlyModules((tx) => admit(tx)))
    const counted = { ...handlers, transactions: { ...handlers.transactions, validate: (txs: SignedTx[], bytes: Uint8Array, from: string | undefined) => (v.messages++, handlers.transactions.validate(txs, bytes, from)) } }
    subscribeGossipHandlers(net, counted, { validator: true })
    let publish = (bytes: Uint8Array): Promise<unknown> => net.publish('transactions', bytes)
    if (mode === 'links') {
      const l = new ValidatorLinks({ net, log: createLogger({ level: 'silent' }), chainId: CHAIN, validatorKey: keys[i]!, validators: () => members, receive: (topic, bytes, from) => runGossipHandler(counted, topic, bytes, from) })
      links.push(l)
      await l.start()
      publish = async (bytes) => (l.send('transactions', bytes) ? undefined : net.publish('transactions', bytes))
    }
    if (batched) {
      const batcher = new TxGossipBatcher({ publish, windowMs: WINDOW_MS })
      v.send = (tx) => {
        admit(tx)
        batcher.add(tx)
      }
      v.close = () => batcher.close()
    } else {
      v.send = (tx) => {
        admit(tx)
        void publish(encode(TxGossipBatch, [tx]))
      }
    }
    validators.push(v)
  }
  try {
    await Promise.all(validators.map((v) => v.net.start()))
    for (let i = 0; i < NODES; i++) for (let j = i + 1; j < NODES; j++) await validators[i]!.net.dial(validators[j]!.net.multiaddrs()[0]!)
    await waitUntil(() => validators.every((v) => v.net.topicPeers('transactions').length === NODES - 1), 10_000, 'the mesh')
    await waitUntil(() => links.every((l) => l.linkedValidators().size === NODES - 1), 10_000, 'the validator links')
    await sleep(1500) // mesh grafts settle
    const txs = makeTxs(mode)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < TXS; i++) {
      const due = t0 + (i * 1000) / RATE
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      validators[i % NODES]!.send(txs[i]!)
    }
    await waitUntil(() => validators.every((v) => v.held.size >= TXS), 60_000, 'every tx on every node')
    const cpu = process.cpuUsage(cpu0)
    const wallMs = performance.now() - t0
    const messages = validators.reduce((s, v) => s + v.messages, 0)
    return { cpuUsPerTxPerNode: round((cpu.user + cpu.system) / TXS / NODES, 1), messagesReceivedPerTxPerNode: round(messages / TXS / NODES, 3), wallMs: Math.round(wallMs) }
  } finally {
    for (const v of validators) v.close()
    await Promise.all(links.map((l) => l.stop()))
    await Promise.all(validators.map((v) => v.net.stop().catch(() => undefined)))
  }
}

const single = await runMode('single')
console.log(JSON.stringify({ mode: 'one message per tx', ...single }))
const batched = await runMode('batched')
console.log(JSON.stringify({ mode: 'batched', ...batched }))
const linked = await runMode('links')
console.log(JSON.stringify({ mode: 'batched over validator links', ...linked }))
console.log(JSON.stringify({ txs: TXS, ratePerSec: RATE, windowMs: WINDOW_MS, nodes: NODES, cpuUsPerTxPerNodeSingle: single.cpuUsPerTxPerNode, cpuUsPerTxPerNodeBatched: batched.cpuUsPerTxPerNode, cpuUsPerTxPerNodeLinks: linked.cpuUsPerTxPerNode, ratio: round(single.cpuUsPerTxPerNode! / batched.cpuUsPerTxPerNode!, 2), ratioLinks: round(batched.cpuUsPerTxPerNode! / linked.cpuUsPerTxPerNode!, 2), messagesPerTxPerNodeSingle: single.messagesReceivedPerTxPerNode, messagesPerTxPerNodeBatched: batched.messagesReceivedPerTxPerNode, messagesPerTxPerNodeLinks: linked.messagesReceivedPerTxPerNode, loadAvg1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) }))
process.exit(0)
