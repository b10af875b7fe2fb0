// Cost of the explorer's activity index per block (src/chain/accountActivity.ts): computing and
// encoding the rows of a block of 1000 signed transfers, against encoding the block itself (what
// every commit already pays), in the same run. Medians of 15 rounds.
// usage: npx tsx scripts/bench/activityIndex.ts [-- --txs 1000]
import { parseArgs } from 'node:util'

import { encode } from '../../blocks/codec.ts'
import { txId, txSigningHash } from '../../blocks/ids.ts'
import { Block, type BlockHeader } from '../../blocks/schema.ts'
import { ActivityValue, computeActivityKey, computeActivityRows } from '../../src/chain/accountActivity.ts'
import { hash, keyPairFromSecret, sign, utf8 } from '../../src/crypto/index.ts'

const { values } = parseArgs({ options: { txs: { type: 'string', default: '1000' } } })
const TXS = Number(values.txs)
const key = keyPairFromSecret(hash(utf8('xsc-bench/activity')))
const entries = Array.from({ length: TXS }, (_, i) => {
  const body = { chainId: 'xsc-bench', from: key.publicKey, nonce: i, fee: 1n, payload: { type: 'transfer' as const, to: hash(utf8(`to-${i}`)), amount: 5n } }
  return { type: 'tx' as const, tx: { body, signature: sign(key.secretKey, txSigningHash(body)) } }
})
const header: BlockHeader = { chainId: 'xsc-bench', height: 5, prevHash: new Uint8Array(32), kind: 'ledger', slot: 9, timestamp: 0n, proposer: key.publicKey, bodyRoot: new Uint8Array(32), stateRoot: new Uint8Array(32), baseFee: 0n, txBytes: 0, round: 0, beaconReveal: new Uint8Array(32), proofs: [], signature: new Uint8Array(64) }
const block: Block = { header, entries }
for (const e of entries) txId(e.tx) // the commit has computed them already for the tx index

const median = (f: () => void): number => {
  const times: number[] = []
  for (let r = 0; r < 15; r++) {
    const t = performance.now()
    f()
    times.push(performance.now() - t)
  }
  return times.sort((a, b) => a - b)[7]!
}
const baselineMs = median(() => encode(Block, block))
let rows = 0
const indexMs = median(() => {
  const out = computeActivityRows(block)
  rows = out.length
  out.forEach((r, seq) => {
    computeActivityKey(r.subject, r.height, seq)
    encode(ActivityValue, r)
  })
})
console.log(JSON.stringify({ txs: TXS, rows, indexMs: Number(indexMs.toFixed(2)), encodeBlockMs: Number(baselineMs.toFixed(2)), ratio: Number((indexMs / baselineMs).toFixed(2)) }))
