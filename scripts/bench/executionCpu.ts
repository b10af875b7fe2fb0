// CPU per agreed execution on each node class, without the network: what the chain does for
// executions (execute tx admission, execution block, receipts, completion block) on
//   - the proposer: admits each execute tx from its wire bytes (as RPC or gossip), builds and
//     commits the execution block, admits each host's receipt from its wire bytes, builds and
//     commits the completion block;
//   - a validator: admits the same txs and receipts from their wire bytes, checks each block as
//     a proposal and commits it with the proposer's commit (as the consensus driver does);
//   - a host: commits each block with its commit from the commit feed's message (hosts take no tx or
//     receipt gossip; the commit vouches for the blocks' tx and receipt signatures, and the block is
//     applied by the write set the message carries: --host-runs runs it instead, --check-committed
//     runs it and checks every signature), and, as one of the three assigned hosts of
//     each execution it runs, signs its own receipt and puts it in its pool first (HostRole).
// The guest is not run: the hosts' receipts agree on a made-up result (the chain never runs
// guests, and a result's cost to the chain does not depend on it). Prints CPU ms per execution
// for each class and the same in ed25519 verifies (one verify's CPU measured alongside), which
// compare across runs at different loads, and the state rows the blocks write per execution. 3 replicas, quorum 2, 8 hosts, one asset.
// usage: npx tsx scripts/bench/executionCpu.ts [--rounds 6 --executions 32 --host-runs --check-committed --profile FILE --profile-role producer|validator|host]
import '../../src/polyfill.ts'

import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { computeResultHash, computeWriteSetHash } from '../../blocks/executionHashes.ts'
import { receiptSigningHash, txId, txSigningHash } from '../../blocks/ids.ts'
import { Block, CAPABILITY, type Hash, OUTCOME, type ReceiptBody, ReceiptGossip, SignedTx, type TxPayload } from '../../blocks/schema.ts'
import { Chain, type ImportedBlock } from '../../src/chain/chain.ts'
import { equalBytes, type KeyPair, sign, toHex, verify } from '../../src/crypto/index.ts'
import { decodeFeedMessage, encodeFeedMessage } from '../../src/node/network/commitFeedMessages.ts'
import { computeNextStateHash, readExecutionQueue } from '../../src/state/executionQueue.ts'
import { FREE_FEE_PARAMS } from '../../src/state/fees.ts'
import { codingParamsOf, computeManifest } from '../../src/storage/encodeAsset.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'
import { benchTempDirs } from './support/tempDirs.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, executions: { type: 'string', default: '32' }, profile: { type: 'string' }, 'profile-role': { type: 'string', default: 'host' }, 'check-committed': { type: 'boolean', default: false }, 'host-runs': { type: 'boolean', default: false } } })
// --profile FILE: a CPU profile of one role's part (the producer's includes signing the hosts' receipts, which it does not measure).
const session = values.profile === undefined ? undefined : new Session()
const profileStart = async (role: string): Promise<void> => {
  if (session === undefined || values['profile-role'] !== role) return
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}
const profileStop = async (role: string): Promise<void> => {
  if (session === undefined || values['profile-role'] !== role) return
  writeFileSync(values.profile!, JSON.stringify((await session.post('Profiler.stop')).profile))
}
const ROUNDS = Number(values.rounds)
const PER_ROUND = Number(values.executions)
const HOSTS = 8

const { genesis, key, validator, senders: clients } = buildBenchGenesis({ name: 'xsc-bench-exec', senders: PER_ROUND, amount: 10n ** 15n, params: { ...FREE_FEE_PARAMS, targetBlockTxBytes: 1 << 24 } })
const hosts = Array.from({ length: HOSTS }, (_, i) => key(`host-${i}`))
genesis.allocations.push(...hosts.map((h) => ({ to: h.publicKey, amount: 10n ** 15n })))
const dirs = benchTempDirs()
const nonces = new Map<string, number>()
const signedTx = (k: KeyPair, payload: TxPayload): SignedTx => {
  const nonce = nonces.get(toHex(k.publicKey)) ?? 0
  nonces.set(toHex(k.publicKey), nonce + 1)
  const body = { chainId: genesis.chainId, from: k.publicKey, nonce, fee: 1n, payload }
  return { body, signature: sign(k.secretKey, txSigningHash(body)) }
}
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const producer = await Chain.open({ dataDir: dirs.make(), genesis, validatorKey: validator, signatureWorkers: 0, maxTxsPerBlock: Math.max(4 * PER_ROUND, 2 * HOSTS) })
// --check-committed: followers verify the signatures of committed blocks too (ChainOpts.checkCommittedSignatures; the A/B of that rule).
const followerOpts = { signatureWorkers: 0, checkCommittedSignatures: values['check-committed'] }
const validatorFollower = await Chain.open({ dataDir: dirs.make(), genesis, ...followerOpts })
const hostKey = hosts[0]!
// A host keeps no activity index (xsc node's default for a host without a validator key).
const hostFollower = await Chain.open({ dataDir: dirs.make(), genesis, ...followerOpts, activityIndex: false })
let slot = 0
const produce = async (): Promise<ImportedBlock> => {
  slot++
  const made = await producer.produceBlock(slot, Number(genesis.genesisTime) + slot * genesis.slotMs)
  if (made === undefined) throw new Error(`no block at slot ${slot}`)
  return made
}
/** Followers take a set-up block as they would any: checked and committed (not measured). */
const follow = async (made: ImportedBlock): Promise<Uint8Array> => {
  const bytes = encode(Block, made.block)
  for (const f of [validatorFollower, hostFollower]) await f.commitBlock(decode(Block, bytes), made.commit!, bytes)
  return bytes
}

// Set-up: the hosts join, one asset is deployed (its shards are never needed: no guest runs).
for (const [i, h] of hosts.entries()) {
  await producer.submitTx(signedTx(h, {
    type: 'host.join',
    host: { coord: { x: 10 + i * 3, y: 10, z: 10 + i }, zone: `zone-${i % 4}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined },
  }))
}
await follow(await produce())
const code = new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/wasm/fib.wasm')))
const deployTx = signedTx(clients[0]!, { type: 'deploy', assetKind: 1, manifest: computeManifest(code, codingParamsOf(genesis.params)), deposit: 10_000_000n, bidPerByteEpoch: 5n, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0 })
await producer.submitTx(deployTx)
const deployed = await produce()
if (deployed.block.header.kind !== 'deployment') throw new Error(`expected a deployment block, got ${deployed.block.header.kind}`)
await follow(deployed)
const asset = txId(deployTx)

// The rounds: every client sends one execute; the block schedules them; each assigned host signs a receipt; a completion settles them.
interface Round { txs: Uint8Array[]; execution: ImportedBlock; executionBytes: Uint8Array; executionFeed: Uint8Array; receipts: Uint8Array[]; own: { body: ReceiptBody }[]; completion: ImportedBlock; completionBytes: Uint8Array; completionFeed: Uint8Array }
const output = new Uint8Array(8)
let producerMs = 0
const rounds: Round[] = []
await profileStart('producer')
for (let r = 0; r < ROUNDS; r++) {
  const txs = clients.map((c) => encode(SignedTx, signedTx(c, { type: 'execute', asset, fn: 'run', input: new Uint8Array(4), fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, private: false, deadlineSlots: 40, origin: { x: 150, y: 100, z: 100 }, zones: [], strategy: 0, minMemoryBytes: 0n })))
  let t = cpuMs()
  for (const bytes of txs) await producer.submitTx(decode(SignedTx, bytes))
  const execution = await produce()
  producerMs += cpuMs() - t
  if (execution.block.header.kind !== 'execution' || execution.block.entries.length !== PER_ROUND) throw new Error(`round ${r}: expected an execution block of ${PER_ROUND}, got ${execution.block.header.kind} of ${execution.block.entries.length}`)
  // Receipts on the state each execution runs on (the queue's, threaded through the earlier ones: they write nothing).
  let preStateHash: Hash = readExecutionQueue(producer.store.state, asset).stateHash
  const receipts: Uint8Array[] = []
  const own: { body: ReceiptBody }[] = []
  for (const e of execution.block.entries) {
    if (e.type !== 'execution') continue
    for (const h of e.assignment) {
      const body: ReceiptBody = { chainId: genesis.chainId, executionId: txId(e.tx), host: h, outcome: OUTCOME.ok, resultHash: computeResultHash(OUTCOME.ok, output), fuelUsed: 1000n, writeSetHash: computeWriteSetHash([]), output, preStateHash }
      const hostKeyOf = hosts.find((k) => equalBytes(k.publicKey, h))!
      // The host follower signs its own receipts itself, at the time (measured below).
      if (equalBytes(h, hostKey.publicKey)) own.push({ body })
      receipts.push(encode(ReceiptGossip, { receipt: { body, signature: sign(hostKeyOf.secretKey, receiptSigningHash(body)) }, writeSet: [] }))
    }
    preStateHash = computeNextStateHash(preStateHash, [])
  }
  t = cpuMs()
  for (const bytes of receipts) {
    const { receipt, writeSet } = decode(ReceiptGossip, bytes)
    producer.submitReceipt(receipt, writeSet)
  }
  const completion = await produce()
  producerMs += cpuMs() - t
  const settled = completion.block.entries.filter((e) => e.type === 'completion').length
  if (completion.block.header.kind !== 'completion' || settled !== PER_ROUND) throw new Error(`round ${r}: expected a completion block settling ${PER_ROUND}, got ${completion.block.header.kind} settling ${settled}`)
  const executionBytes = encode(Block, execution.block)
  const completionBytes = encode(Block, completion.block)
  // What the validator sends its followers: each block once in the commit feed's version 2 (with its write set).
  t = cpuMs()
  const feedOf = (made: ImportedBlock, bytes: Uint8Array): Uint8Array => encodeFeedMessage(2, { block: bytes, commit: made.commit!, writes: made.writes })!
  const executionFeed = feedOf(execution, executionBytes)
  const completionFeed = feedOf(completion, completionBytes)
  producerMs += cpuMs() - t
  rounds.push({ txs, execution, executionBytes, executionFeed, receipts, own, completion, completionBytes, completionFeed })
}
await profileStop('producer')
await producer.close()

const verifyCpuMs = (): number => {
  const msgs = rounds[0]!.txs.map((bytes) => decode(SignedTx, bytes))
  const hashes = msgs.map((tx) => txSigningHash(tx.body))
  const t = cpuMs()
  for (let k = 0; k < 8; k++) msgs.forEach((tx, i) => {
    if (!verify(tx.body.from, hashes[i]!, tx.signature)) throw new Error('bench tx signature does not verify')
  })
  return (cpuMs() - t) / msgs.length / 8
}
const verifyBefore = verifyCpuMs()

let validatorMs = 0
await profileStart('validator')
for (const round of rounds) {
  const t = cpuMs()
  for (const bytes of round.txs) await validatorFollower.submitTx(decode(SignedTx, bytes))
  let block = decode(Block, round.executionBytes)
  await validatorFollower.checkBlock(block)
  await validatorFollower.commitBlock(block, round.execution.commit!, round.executionBytes)
  for (const bytes of round.receipts) {
    const { receipt, writeSet } = decode(ReceiptGossip, bytes)
    validatorFollower.submitReceipt(receipt, writeSet)
  }
  block = decode(Block, round.completionBytes)
  await validatorFollower.checkBlock(block)
  await validatorFollower.commitBlock(block, round.completion.commit!, round.completionBytes)
  validatorMs += cpuMs() - t
}
await profileStop('validator')
await validatorFollower.close()

await profileStart('host')
let hostMs = 0
// State rows each block's transition writes (a host applies each block once): a count, not a timing, so it compares across loads.
const stateWrites = rounds.reduce((sum, r) => sum + r.execution.writes.length + r.completion.writes.length, 0)
// The host takes each block from its feed: by the write set (the node's default), or by running it (--host-runs, --check-committed).
const hostByWrites = !values['host-runs'] && !values['check-committed']
const hostCommit = async (feed: Uint8Array, commit: Round['execution']['commit']): Promise<void> => {
  const message = decodeFeedMessage(feed)
  const offered = hostByWrites && message.writes !== undefined ? { writes: message.writes, refused: () => { throw new Error('the producer\'s write set was refused') } } : undefined
  await hostFollower.commitBlock(decode(Block, message.block), commit!, message.block, offered)
}
for (const round of rounds) {
  const t = cpuMs()
  await hostCommit(round.executionFeed, round.execution.commit)
  for (const { body } of round.own) {
    const receipt = { body, signature: sign(hostKey.secretKey, receiptSigningHash(body)) }
    hostFollower.submitReceipt(receipt, [], { signedHere: true })
  }
  await hostCommit(round.completionFeed, round.completion.commit)
  hostMs += cpuMs() - t
}
if (hostFollower.verificationCounts.appliedByWrites !== (hostByWrites ? 2 * rounds.length : 0)) throw new Error(`the host applied ${hostFollower.verificationCounts.appliedByWrites} blocks by write sets`)
await profileStop('host')
await hostFollower.close()
const verifyMs = (verifyBefore + verifyCpuMs()) / 2
dirs.removeAll()

const n = ROUNDS * PER_ROUND
const per = (ms: number): number => Number((ms / n).toFixed(4))
const inVerifies = (ms: number): number => Number((ms / n / verifyMs).toFixed(2))
const ownReceipts = rounds.reduce((s, r) => s + r.own.length, 0)
console.log(JSON.stringify({
  rounds: ROUNDS,
  executionsPerRound: PER_ROUND,
  hostOwnReceiptsPerExecution: Number((ownReceipts / n).toFixed(3)),
  producerCpuMsPerExecution: per(producerMs),
  validatorCpuMsPerExecution: per(validatorMs),
  hostCpuMsPerExecution: per(hostMs),
  verifyCpuMs: Number(verifyMs.toFixed(4)),
  producerVerifiesPerExecution: inVerifies(producerMs),
  validatorVerifiesPerExecution: inVerifies(validatorMs),
  hostVerifiesPerExecution: inVerifies(hostMs),
  stateWritesPerExecution: Number((stateWrites / n).toFixed(2)),
  // What a follower's feed carries per execution: the blocks alone (version 1) and with their write sets (version 2).
  feedBytesPerExecution: { v1: Math.round(rounds.reduce((sum, r) => sum + r.executionBytes.length + r.completionBytes.length, 0) / n), v2: Math.round(rounds.reduce((sum, r) => sum + r.executionFeed.length + r.completionFeed.length, 0) / n) },
  /** 4 validators (one proposes) and 6 hosts, as the devnet: the chain's part of cpuMsPerExecution, without network, guest or per-block idle cost. */
  devnetChainCpuMsPerExecution: Number(((producerMs + 3 * validatorMs + 6 * hostMs) / n).toFixed(3)),
}))
