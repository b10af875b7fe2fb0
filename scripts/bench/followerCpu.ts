// CPU per transfer on a follower validator, without the network: each tx is admitted from its
// wire bytes (decode, state load, signature, mempool: what tx gossip does), then the block is
// checked as a proposal (checkBlock) and committed (commitBlock with the producer's commit), as
// the consensus driver does. Prints CPU ms per tx of each stage, and the same in ed25519 verifies
// (one verify's CPU measured alongside), which compare across runs at different loads.
// usage: npx tsx scripts/bench/followerCpu.ts [--blocks 10 --txs 1000 --gossip before|after-check|after-commit --profile FILE]
import '../../src/polyfill.ts'

import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { txSigningHash } from '../../blocks/ids.ts'
import { Block, SignedTx, type TxBody } from '../../blocks/schema.ts'
import { Chain } from '../../src/chain/chain.ts'
import { sign, verify } from '../../src/crypto/index.ts'
import { encodeFeedMessage } from '../../src/node/network/commitFeedMessages.ts'
import { FREE_FEE_PARAMS } from '../../src/state/fees.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'
import { benchTempDirs } from './support/tempDirs.ts'

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '10' }, txs: { type: 'string', default: '1000' }, senders: { type: 'string', default: '250' }, profile: { type: 'string' }, gossip: { type: 'string', default: 'before' } } })
// When each tx's gossip copy reaches the follower: before the proposal (the usual case), after the
// proposal was checked, or after the block was committed (a slow gossip path; the copy is refused).
const GOSSIP = values.gossip as 'before' | 'after-check' | 'after-commit'
if (!['before', 'after-check', 'after-commit'].includes(GOSSIP)) throw new Error('--gossip before|after-check|after-commit')
const BLOCKS = Number(values.blocks)
const TXS = Number(values.txs)
const SENDERS = Number(values.senders)

const { genesis, validator, senders } = buildBenchGenesis({ name: 'xsc-bench', senders: SENDERS, amount: 10n ** 15n, params: { ...FREE_FEE_PARAMS, targetBlockTxBytes: 1 << 24 } })
const dirs = benchTempDirs()
const tmp = dirs.make

const producer = await Chain.open({ dataDir: tmp(), genesis, validatorKey: validator, maxTxsPerBlock: TXS, mempoolSize: BLOCKS * TXS + 1 })
const nonces = new Array<number>(SENDERS).fill(0)
const made: { bytes: Uint8Array; txs: Uint8Array[]; commit: NonNullable<Awaited<ReturnType<Chain['produceBlock']>>>['commit'] }[] = []
// What a follower's commit feed carries for these blocks: version 1 (block and commit) and version 2 (with the write set).
const feedBytes = { v1: 0, v2: 0 }
for (let b = 0; b < BLOCKS; b++) {
  const txs: Uint8Array[] = []
  for (let i = 0; i < TXS; i++) {
    const s = (b * TXS + i) % SENDERS
    const body: TxBody = { chainId: genesis.chainId, from: senders[s]!.publicKey, nonce: nonces[s]!++, fee: 1n, payload: { type: 'transfer', to: senders[(s + 1) % SENDERS]!.publicKey, amount: 1n } }
    const tx = { body, signature: sign(senders[s]!.secretKey, txSigningHash(body)) }
    txs.push(encode(SignedTx, tx))
    producer.mempool.add(tx, producer.store.state, { signatureChecked: true })
  }
  const block = await producer.produceBlock(b + 1, Number(genesis.genesisTime) + (b + 1) * genesis.slotMs)
  if (!block || block.block.entries.length !== TXS) throw new Error(`block ${b + 1} has ${block?.block.entries.length} txs`)
  made.push({ bytes: encode(Block, block.block), txs, commit: block.commit })
  const feedBlock = { block: made.at(-1)!.bytes, commit: block.commit!, writes: block.writes }
  feedBytes.v1 += encodeFeedMessage(1, feedBlock)!.length
  feedBytes.v2 += encodeFeedMessage(2, feedBlock)!.length
}
await producer.close()

const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
// The machine's load scales every CPU figure here; one ed25519 verify (fixed work, native) measured
// alongside is the yardstick: figures in verifies per tx compare across runs at different loads.
const verifyCpuMs = (): number => {
  const msgs = made[0]!.txs.slice(0, 500).map((bytes) => decode(SignedTx, bytes))
  const hashes = msgs.map((tx) => txSigningHash(tx.body))
  const t = cpuMs()
  msgs.forEach((tx, i) => {
    if (!verify(tx.body.from, hashes[i]!, tx.signature)) throw new Error('bench tx signature does not verify')
  })
  return (cpuMs() - t) / msgs.length
}
const verifyBefore = verifyCpuMs()
const follower = await Chain.open({ dataDir: tmp(), genesis, signatureWorkers: 0 })
// --profile FILE: a CPU profile of the follower's part only (the producer's is not measured).
const session = values.profile === undefined ? undefined : new Session()
if (session !== undefined) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}
let admitMs = 0
let checkMs = 0
let commitMs = 0
const admit = async (m: (typeof made)[number]): Promise<void> => {
  const t = cpuMs()
  for (const bytes of m.txs) await follower.submitTx(decode(SignedTx, bytes)).catch((e: unknown) => {
    if (GOSSIP !== 'after-commit') throw e
  })
  admitMs += cpuMs() - t
}
for (const m of made) {
  if (GOSSIP === 'before') await admit(m)
  let t = cpuMs()
  const block = decode(Block, m.bytes)
  await follower.checkBlock(block)
  checkMs += cpuMs() - t
  if (GOSSIP === 'after-check') await admit(m)
  t = cpuMs()
  await follower.commitBlock(block, m.commit!, m.bytes)
  commitMs += cpuMs() - t
  if (GOSSIP === 'after-commit') await admit(m)
}
if (session !== undefined) writeFileSync(values.profile!, JSON.stringify((await session.post('Profiler.stop')).profile))
await follower.close()
const verifyMs = (verifyBefore + verifyCpuMs()) / 2
dirs.removeAll()
const n = BLOCKS * TXS
const per = (ms: number) => Number((ms / n).toFixed(4))
console.log(JSON.stringify({ gossip: GOSSIP, blocks: BLOCKS, txsPerBlock: TXS, feedBytesPerTx: { v1: Math.round(feedBytes.v1 / n), v2: Math.round(feedBytes.v2 / n) }, signaturesCheckedAtImport: follower.verificationCounts.signaturesCheckedAtImport, admitCpuMsPerTx: per(admitMs), checkCpuMsPerTx: per(checkMs), commitCpuMsPerTx: per(commitMs), followerCpuMsPerTx: per(admitMs + checkMs + commitMs), verifyCpuMs: Number(verifyMs.toFixed(4)), followerVerifiesPerTx: Number(((admitMs + checkMs + commitMs) / n / verifyMs).toFixed(3)), admitVerifiesPerTx: Number((admitMs / n / verifyMs).toFixed(3)), checkVerifiesPerTx: Number((checkMs / n / verifyMs).toFixed(3)), commitVerifiesPerTx: Number((commitMs / n / verifyMs).toFixed(3)) }))
