// CPU per tx of admitting txs from a tx batch's bytes (what a validator does for each batch another
// validator sends over the links, or gossip brings), besides the ed25519 verify itself: decode,
// the tx's id and signing hash, the mempool's state checks. Two decoders alternate in one process
// (same txs' kind, fresh txs each time, so no copy finds a memoized twin): `decode(TxGossipBatch)`
// (each tx then encoded twice more, whole for its id and its body for the signing hash) and
// `decodeTxBatch` (ids and signing hashes from the batch's slices). Medians of the rounds.
// usage: npx tsx scripts/bench/txAdmission.ts [--rounds 5 --batches 100 --batch 20 --senders 200]
import '../../src/polyfill.ts'

import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { txSigningHash } from '../../blocks/ids.ts'
import type { SignedTx, TxBody } from '../../blocks/schema.ts'
import { Chain } from '../../src/chain/chain.ts'
import { sign } from '../../src/crypto/index.ts'
import { decodeTxBatch, TxGossipBatch } from '../../src/node/network/txGossipBatch.ts'
import { FREE_FEE_PARAMS } from '../../src/state/fees.ts'
import { TABLES } from '../../src/state/tables.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'
import { median } from './support/stats.ts'
import { benchTempDirs } from './support/tempDirs.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, batches: { type: 'string', default: '100' }, batch: { type: 'string', default: '20' }, senders: { type: 'string', default: '200' } } })
const ROUNDS = Number(values.rounds)
const BATCHES = Number(values.batches)
const BATCH = Number(values.batch)
const SENDERS = Number(values.senders)

const { genesis, senders } = buildBenchGenesis({ name: 'xsc-bench-admission', senders: SENDERS, amount: 10n ** 15n, params: FREE_FEE_PARAMS })
const dirs = benchTempDirs()
const chain = await Chain.open({ dataDir: dirs.make(), genesis, mempoolSize: 2 * ROUNDS * BATCHES * BATCH + 1 })
await chain.store.readLoaded(senders.map((s) => TABLES.account.key(s.publicKey)), () => undefined)

const nonces = new Array<number>(SENDERS).fill(0)
let next = 0
/** Fresh batches: txs only ever encoded here (never memoized), as a batch from another node. */
const makeBatches = (): Uint8Array[] => Array.from({ length: BATCHES }, () => {
  const txs: SignedTx[] = []
  for (let i = 0; i < BATCH; i++) {
    const s = next++ % SENDERS
    const body: TxBody = { chainId: genesis.chainId, from: senders[s]!.publicKey, nonce: nonces[s]!++, fee: 1n, payload: { type: 'transfer', to: senders[(s + 1) % SENDERS]!.publicKey, amount: 1n } }
    // The signing hash of a body built here is memoized on that object only, not on decoded copies.
    txs.push({ body, signature: sign(senders[s]!.secretKey, txSigningHash(body)) })
  }
  return encode(TxGossipBatch, txs)
})

const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const decoders = { decode: (bytes: Uint8Array) => decode(TxGossipBatch, bytes), decodeTxBatch }
const perTx: Record<keyof typeof decoders, number[]> = { decode: [], decodeTxBatch: [] }
for (let r = 0; r < ROUNDS; r++) {
  // Alternate which goes first: a round's order does not favour one.
  const order = (r % 2 === 0 ? ['decode', 'decodeTxBatch'] : ['decodeTxBatch', 'decode']) as (keyof typeof decoders)[]
  for (const name of order) {
    // Senders' nonces: both decoders' txs are admitted in order, one round after the other.
    const batches = makeBatches()
    const t = cpuMs()
    for (const bytes of batches) {
      for (const tx of decoders[name](bytes)) {
        // What admission needs besides the verify: the signing hash (the verify's message) and the pool's checks (the id).
        txSigningHash(tx.body)
        chain.mempool.add(tx, chain.store.state, { signatureChecked: true })
      }
    }
    perTx[name].push((cpuMs() - t) / (BATCHES * BATCH))
  }
}
await chain.close()
dirs.removeAll()
const us = (ms: number): number => Number((ms * 1000).toFixed(2))
const a = median(perTx.decode)
const b = median(perTx.decodeTxBatch)
console.log(JSON.stringify({ rounds: ROUNDS, txsPerRound: BATCHES * BATCH, batch: BATCH, decodeUsPerTx: perTx.decode.map(us), decodeTxBatchUsPerTx: perTx.decodeTxBatch.map(us), medianDecodeUs: us(a), medianDecodeTxBatchUs: us(b), ratio: Number((a / b).toFixed(3)) }))
