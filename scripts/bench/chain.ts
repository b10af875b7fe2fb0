// Block import throughput: N blocks full of signed transfers, imported into a fresh store,
// against the raw single-core ed25519 verify rate measured in the same run (the ceiling).
// usage: npm run bench:chain [-- --blocks 20 --txs 1000]
import '../../src/polyfill.ts'

import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { txSigningHash } from '../../blocks/ids.ts'
import { Block, type SignedTx, type TxBody } from '../../blocks/schema.ts'
import { Chain } from '../../src/chain/chain.ts'
import { sign, verify } from '../../src/crypto/index.ts'
import { FREE_FEE_PARAMS } from '../../src/state/fees.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'
import { median } from './support/stats.ts'
import { benchTempDirs } from './support/tempDirs.ts'

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '20' }, txs: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } } })
const BLOCKS = Number(values.blocks)
const TXS = Number(values.txs)
const RUNS = Number(values.runs)
const SENDERS = 250

// Fees off and no block byte cap: this bench measures import, not pricing (bench:spam does).
const { genesis, validator, senders } = buildBenchGenesis({ name: 'xsc-bench', senders: SENDERS, amount: 10n ** 15n, params: { ...FREE_FEE_PARAMS, targetBlockTxBytes: 1 << 24 } })

const dirs = benchTempDirs()
const tmp = dirs.make

// 1. Produce the blocks once (signing and proposing are not what is measured).
const producer = await Chain.open({ dataDir: tmp(), genesis, validatorKey: validator, maxTxsPerBlock: TXS, mempoolSize: BLOCKS * TXS + 1 })
const nonces = new Array<number>(SENDERS).fill(0)
const blocks: Block[] = []
const allTxs: SignedTx[] = []
for (let b = 0; b < BLOCKS; b++) {
  for (let i = 0; i < TXS; i++) {
    const s = (b * TXS + i) % SENDERS
    const body: TxBody = { chainId: genesis.chainId, from: senders[s]!.publicKey, nonce: nonces[s]!++, fee: 1n, payload: { type: 'transfer', to: senders[(s + 1) % SENDERS]!.publicKey, amount: 1n } }
    const tx = { body, signature: sign(senders[s]!.secretKey, txSigningHash(body)) }
    allTxs.push(tx)
    producer.mempool.add(tx, producer.store.state, { signatureChecked: true })
  }
  const made = await producer.produceBlock(b + 1, Number(genesis.genesisTime) + (b + 1) * genesis.slotMs)
  if (!made || made.block.entries.length !== TXS) throw new Error(`block ${b + 1} has ${made?.block.entries.length} txs, expected ${TXS}`)
  blocks.push(made.block)
}
await producer.close()
const encoded = blocks.map((b) => encode(Block, b))

// 2. The ceiling: raw single-core verifies of the same signatures, same process, same run.
function measureVerify(): number {
  const sample = allTxs.slice(0, Math.min(allTxs.length, 10_000)).map((tx) => ({ pub: tx.body.from, msg: txSigningHash(tx.body), sig: tx.signature }))
  const t0 = performance.now()
  for (const s of sample) if (!verify(s.pub, s.msg, s.sig)) throw new Error('bad signature')
  return sample.length / ((performance.now() - t0) / 1000)
}

async function measureImport(workers: number): Promise<{ txPerSec: number; blocksPerSec: number }> {
  const chain = await Chain.open({ dataDir: tmp(), genesis, signatureWorkers: workers })
  const t0 = performance.now()
  // From wire bytes, as a block arrives from a peer: decoding (with its canonical check) counts.
  for (const bytes of encoded) await chain.importBlock(decode(Block, bytes), bytes)
  const secs = (performance.now() - t0) / 1000
  await chain.close()
  return { txPerSec: (BLOCKS * TXS) / secs, blocksPerSec: BLOCKS / secs }
}

const verifyRuns: number[] = []
const parallel: { txPerSec: number; blocksPerSec: number }[] = []
const single: { txPerSec: number; blocksPerSec: number }[] = []
measureVerify() // warm up key caches and JIT
for (let r = 0; r < RUNS; r++) {
  verifyRuns.push(measureVerify())
  parallel.push(await measureImport(Math.max(1, (await import('node:os')).availableParallelism() - 1)))
  single.push(await measureImport(0))
}
dirs.removeAll()

const verifyPerSec = median(verifyRuns)
const txPerSec = median(parallel.map((p) => p.txPerSec))
const result = {
  blocks: BLOCKS,
  txsPerBlock: TXS,
  runs: RUNS,
  schemes: genesis.consensus.schemes,
  txPerSec: Math.round(txPerSec),
  blocksPerSec: Number(median(parallel.map((p) => p.blocksPerSec)).toFixed(2)),
  verifyPerSec: Math.round(verifyPerSec),
  ratio: Number((txPerSec / verifyPerSec).toFixed(3)),
  singleCoreTxPerSec: Math.round(median(single.map((p) => p.txPerSec))),
  singleCoreRatio: Number((median(single.map((p) => p.txPerSec)) / verifyPerSec).toFixed(3)),
}
console.log(JSON.stringify(result))
