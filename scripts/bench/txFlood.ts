// CPU a validator spends per junk tx of a gossip flood (issue 12, flood12): tx batches' bytes run
// through the gossip handler table (decode → admitAndGossip → Chain.submitTx → the mempool), as a
// stranger on the tx topic delivers them, minus libp2p. Kinds of junk, each fresh per round (no
// memoized id or signature): txs from unfunded senders (each a cold account), nonces far past the
// sender's, fees below the floor, replays of txs a block included, forged signatures on a live
// nonce (the one kind that must be verified); and valid txs as the reference. Per kind: CPU µs per
// tx (median of the rounds) and signature verifies per tx.
// usage: npx tsx scripts/bench/txFlood.ts [--rounds 5 --batches 4]
import '../../src/polyfill.ts'

import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'

import { encode } from '../../blocks/codec.ts'
import { txSigningHash } from '../../blocks/ids.ts'
import type { SignedTx, TxBody } from '../../blocks/schema.ts'
import { Chain } from '../../src/chain/chain.ts'
import { type KeyPair, sign } from '../../src/crypto/index.ts'
import { createLogger } from '../../src/node/logger.ts'
import { admitAndGossip } from '../../src/node/network/admitAndGossip.ts'
import { createGossipHandlers, runGossipHandler } from '../../src/node/network/gossipHandlers.ts'
import { MAX_TXS_PER_GOSSIP, TxGossipBatch } from '../../src/node/network/txGossipBatch.ts'
import { txOnlyModules } from '../../test/support/txOnlyModules.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'
import { median } from './support/stats.ts'
import { benchTempDirs } from './support/tempDirs.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, batches: { type: 'string', default: '4' } } })
const ROUNDS = Number(values.rounds)
const BATCHES = Number(values.batches)
const N = BATCHES * MAX_TXS_PER_GOSSIP
const FEE = 1_000n

const { genesis, key, validator, senders } = buildBenchGenesis({ name: 'xsc-bench-txflood', senders: N, amount: 10n ** 15n, params: { minFeePerByte: 1n, minBaseFee: 0n } })
const dirs = benchTempDirs()
const chain = await Chain.open({ dataDir: dirs.make(), genesis, validatorKey: validator, signatureWorkers: 0, mempoolSize: 10 * N })
const log = createLogger({ level: 'silent' })
const handlers = createGossipHandlers(txOnlyModules(async (tx) => void (await admitAndGossip({ chain, log }, tx, 'gossip'))))

const signed = (k: KeyPair, nonce: number, amount: bigint, fee = FEE): SignedTx => {
  const body: TxBody = { chainId: genesis.chainId, from: k.publicKey, nonce, fee, payload: { type: 'transfer', to: senders[0]!.publicKey, amount } }
  return { body, signature: sign(k.secretKey, txSigningHash(body)) }
}
const forge = (tx: SignedTx): SignedTx => ({ ...tx, signature: tx.signature.map((b, i) => (i === 7 ? b ^ 1 : b)) })
const batchesOf = (txs: SignedTx[]): Uint8Array[] => Array.from({ length: Math.ceil(txs.length / MAX_TXS_PER_GOSSIP) }, (_, i) => encode(TxGossipBatch, txs.slice(i * MAX_TXS_PER_GOSSIP, (i + 1) * MAX_TXS_PER_GOSSIP)))
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

let height = 0
let amount = 0n
const nonceOf = async (k: KeyPair): Promise<number> => (await chain.readAccount(k.publicKey)).nonce
/** Each sender's last tx a block included, for the replays; fills blocks with one valid tx per sender. */
async function includeOne(): Promise<SignedTx[]> {
  const txs = await Promise.all(senders.map(async (s) => signed(s, await chain.nextNonce(s.publicKey), ++amount)))
  for (const tx of txs) await chain.submitTx(tx)
  while (chain.mempool.size > 0) {
    height++
    await chain.produceBlock(height, Number(genesis.genesisTime) + height * genesis.slotMs)
  }
  return txs
}

const kinds = ['valid', 'unfunded', 'farNonce', 'lowFee', 'replay', 'forgedLive'] as const
type Kind = (typeof kinds)[number]
const usPerTx: Record<Kind, number[]> = { valid: [], unfunded: [], farNonce: [], lowFee: [], replay: [], forgedLive: [] }
const verifiesPerTx: Record<Kind, number[]> = { valid: [], unfunded: [], farNonce: [], lowFee: [], replay: [], forgedLive: [] }
const verdicts: Record<string, number> = {}

for (let r = 0; r < ROUNDS; r++) {
  const included = await includeOne()
  const nonces = await Promise.all(senders.map(nonceOf))
  const make: Record<Kind, () => SignedTx[]> = {
    valid: () => senders.map((s, i) => signed(s, nonces[i]!, ++amount)),
    unfunded: () => senders.map(() => signed(key(`broke-${++amount}`), 0, 1n)),
    farNonce: () => senders.map((s, i) => signed(s, nonces[i]! + 1_000, ++amount)),
    lowFee: () => senders.map((s, i) => signed(s, nonces[i]!, ++amount, 1n)),
    replay: () => included,
    forgedLive: () => senders.map((s, i) => forge(signed(s, nonces[i]!, ++amount))),
  }
  // The valid ones last: they take each sender's live nonce, which the others need free. Order rotates otherwise.
  const junk = kinds.filter((k) => k !== 'valid')
  const order = [...junk.slice(r % junk.length), ...junk.slice(0, r % junk.length), 'valid' as const]
  for (const kind of order) {
    const batches = batchesOf(make[kind]())
    const verifiesBefore = chain.mempool.signaturesChecked
    const t = cpuMs()
    for (const bytes of batches) {
      const v = await runGossipHandler(handlers, 'transactions', bytes, 'bench-peer')
      verdicts[`${kind}:${v}`] = (verdicts[`${kind}:${v}`] ?? 0) + 1
    }
    usPerTx[kind].push(((cpuMs() - t) * 1000) / N)
    verifiesPerTx[kind].push((chain.mempool.signaturesChecked - verifiesBefore) / N)
  }
}
await chain.close()
dirs.removeAll()
const round = (x: number): number => Number(x.toFixed(1))
const medians = Object.fromEntries(kinds.map((k) => [k, round(median(usPerTx[k]))]))
console.log(JSON.stringify({
  rounds: ROUNDS, txsPerKind: N, load1: round(loadavg()[0]!),
  cpuUsPerTx: medians,
  verifiesPerTx: Object.fromEntries(kinds.map((k) => [k, median(verifiesPerTx[k])])),
  junkVsValid: Object.fromEntries(kinds.filter((k) => k !== 'valid').map((k) => [k, Number((median(usPerTx[k]) / median(usPerTx.valid)).toFixed(3))])),
  verdicts,
}))
