// `npm run bench:spam`: honest transfers' inclusion latency on the devnet without and with a
// spammer (issue 11). Phase 1 (unloaded): honest senders send transfers at the client's default
// fee, one at a time each, and time send → included. Phase 2 (spam): the same honest load while a
// spammer sends zero-value txs as fast as the node accepts them: from fresh keys (no fee, then a
// priced fee: refused, no funds), zero-value transfers to fresh addresses from funded spam keys
// (refused: existential deposit) and zero-value self-transfers from funded spam keys at exactly
// the least fee the node takes (accepted: they pay, fill blocks and raise the base fee).
// Last stdout line: one JSON object with honestInclusionP50Ms, unloadedP50Ms, inclusionRatio
// (goal ≤ 2) and stateBytesPerSpamTx (state bytes the spam added, per spam tx sent).
// usage: tsx scripts/bench/spam.ts [--seconds 20]
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'

import { encode } from '../../blocks/codec.ts'
import type { TxPayload } from '../../blocks/schema.ts'
import { buildTx, type Client, computeFeeAt, createClient, estimateFee, getBalance, getChainStatus, getNonce, getTransaction, http, RpcClientError, sendTransaction, signTx, transfer } from '../../src/client/index.ts'
import { hash, type KeyPair, keyPairFromSecret, utf8 } from '../../src/crypto/index.ts'
import { Account } from '../../src/state/records.ts'
import { TABLES } from '../../src/state/tables.ts'
import { devnetKey } from '../devnetKeys.ts'
import { BenchError } from './support/benchError.ts'
import { launchDevnet, type LaunchedDevnet } from './support/launchDevnet.ts'
import { stopOnSignals } from './support/processes.ts'
import { median, percentile } from './support/stats.ts'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } })
const SECONDS = Number(values.seconds)
const HONEST = 4
const SPAM_KEYS = 8
const FRESH_SENDERS = 2
const repoRoot = resolve(import.meta.dirname, '../..')
const workDir = mkdtempSync(join(tmpdir(), 'xsc-bench-spam-'))
const key = (name: string): KeyPair => keyPairFromSecret(hash(utf8(`xsc-bench-spam/${name}`)))
const progress = (o: object): void => console.log(JSON.stringify(o))

let devnet: LaunchedDevnet | undefined
const stopDevnet = async (): Promise<void> => {
  await devnet?.group.stop()
}
const signals = stopOnSignals(stopDevnet, (sig) => console.error(`bench:spam: ${sig}, every devnet process stopped`))

function reasonOf(err: unknown): string {
  if (err instanceof RpcClientError) return 'data' in err.details && typeof err.details.data.reason === 'string' ? err.details.data.reason : err.code
  return (err as Error).name
}

/** Honest senders, one transfer in flight each, each timed from send to inclusion. */
async function honestLoad(c: Client, chainId: string, senders: KeyPair[], sink: Uint8Array, until: number): Promise<{ latencies: number[]; errors: Record<string, number> }> {
  const latencies: number[] = []
  const errors: Record<string, number> = {}
  await Promise.all(senders.map(async (s) => {
    let nonce = await getNonce(c, { address: s.publicKey })
    while (Date.now() < until) {
      const t0 = Date.now()
      try {
        const id = await transfer(c, { account: s, to: sink, amount: 1_000n, nonce, chainId })
        nonce++
        while (!(await getTransaction(c, { id }))) await sleep(25)
        latencies.push(Date.now() - t0)
      } catch (err) {
        const r = reasonOf(err)
        errors[r] = (errors[r] ?? 0) + 1
        await sleep(100)
        nonce = await getNonce(c, { address: s.publicKey })
      }
    }
  }))
  return { latencies, errors }
}

interface SpamResult { sent: number; accepted: number; refused: Record<string, number>; freshAddresses: Uint8Array[]; peakBaseFee: bigint }

/** The spammer: zero-value txs as fast as the node answers, from fresh keys and from funded spam keys. */
async function spam(clients: Client[], chainId: string, spamKeys: KeyPair[], until: number): Promise<SpamResult> {
  const out: SpamResult = { sent: 0, accepted: 0, refused: {}, freshAddresses: [], peakBaseFee: 0n }
  const c = clients[0]!
  const firstEstimate = await estimateFee(c)
  let perByte = firstEstimate.baseFee
  const minPerByte = firstEstimate.minFeePerByte
  const sendVia = async (via: Client, from: KeyPair, nonce: number, payload: TxPayload, fee: bigint): Promise<string | undefined> => {
    out.sent++
    try {
      await sendTransaction(via, { tx: signTx(buildTx({ chainId, from: from.publicKey, nonce, fee, payload }), from.secretKey) })
      out.accepted++
      return undefined
    } catch (err) {
      const r = reasonOf(err)
      out.refused[r] = (out.refused[r] ?? 0) + 1
      return r
    }
  }
  /** Round-robin over the validators. */
  const send = (from: KeyPair, nonce: number, payload: TxPayload, fee: bigint): Promise<string | undefined> => sendVia(clients[out.sent % clients.length]!, from, nonce, payload, fee)

  let freshCount = 0
  const fresh = async (): Promise<void> => {
    while (Date.now() < until) {
      const k = key(`fresh-${freshCount++}`)
      const to = key(`fresh-sink-${freshCount}`).publicKey
      out.freshAddresses.push(k.publicKey, to)
      const payload: TxPayload = { type: 'transfer', to, amount: 0n }
      await send(k, 0, payload, 0n)
      await send(k, 0, payload, computeFeeAt({ chainId, from: k.publicKey, nonce: 0, payload }, 2n * perByte + minPerByte))
    }
  }
  const funded = async (s: KeyPair, j: number): Promise<void> => {
    // One spam key talks to one node, so its nonce chain arrives in order.
    const c = clients[j % clients.length]!
    let nonce = await getNonce(c, { address: s.publicKey })
    let n = 0
    while (Date.now() < until) {
      // One in eight tries to create an account with a zero-value transfer.
      const to = n++ % 8 === 0 ? key(`spam-sink-${j}-${n}`).publicKey : s.publicKey
      if (to !== s.publicKey) out.freshAddresses.push(to)
      const payload: TxPayload = { type: 'transfer', to, amount: 0n }
      const r = await sendVia(c, s, nonce, payload, computeFeeAt({ chainId, from: s.publicKey, nonce, payload }, perByte + minPerByte))
      if (r === undefined) nonce++
      else if (r === 'FEE_TOO_LOW') {
        const e = await estimateFee(c)
        perByte = e.baseFee
        if (e.baseFee > out.peakBaseFee) out.peakBaseFee = e.baseFee
      } else if (r === 'MEMPOOL_FULL' || r === 'SENDER_QUEUE_FULL') await sleep(50)
      else if (r !== 'BELOW_EXISTENTIAL_DEPOSIT') nonce = await getNonce(c, { address: s.publicKey })
    }
  }
  const watchBaseFee = async (): Promise<void> => {
    while (Date.now() < until) {
      const e = await estimateFee(c)
      if (e.baseFee > out.peakBaseFee) out.peakBaseFee = e.baseFee
      await sleep(250)
    }
  }
  await Promise.all([...Array.from({ length: FRESH_SENDERS }, fresh), ...spamKeys.map(funded), watchBaseFee()])
  return out
}

try {
  devnet = await launchDevnet({ repoRoot, workDir, validators: 4, hosts: 0, attempt: 0, logLevel: 'warn' })
  const urls = await devnet.ready
  const c = createClient({ transport: http(urls.validators[0]!) })
  const chainId = (await getChainStatus(c)).chainId
  progress({ phase: 'up', validators: urls.validators.length })

  // Fund honest senders, spam keys and the sink (at the existential deposit or more) from devnet account 0.
  const funder = devnetKey('account', 0)
  const honest = Array.from({ length: HONEST }, (_, i) => key(`honest-${i}`))
  const spamKeys = Array.from({ length: SPAM_KEYS }, (_, i) => key(`spammer-${i}`))
  const sink = key('sink').publicKey
  let nonce = await getNonce(c, { address: funder.publicKey })
  let last: Uint8Array | undefined
  for (const k of [...honest, ...spamKeys]) last = await transfer(c, { account: funder, to: k.publicKey, amount: 10n ** 13n, nonce: nonce++, chainId })
  last = await transfer(c, { account: funder, to: sink, amount: 10n ** 9n, nonce: nonce++, chainId })
  for (let i = 0; i < 600 && !(await getTransaction(c, { id: last })); i++) await sleep(100)
  if (!(await getTransaction(c, { id: last }))) throw new BenchError('the funding transfers were not included within 60 s')
  const baseFeeBefore = (await estimateFee(c)).baseFee

  const unloaded = await honestLoad(c, chainId, honest, sink, Date.now() + SECONDS * 1000)
  progress({ phase: 'unloaded', samples: unloaded.latencies.length, p50Ms: median(unloaded.latencies), errors: unloaded.errors })

  const until = Date.now() + SECONDS * 1000
  // The spammer talks to the other validators (its txs reach the proposers by gossip), so what the
  // honest senders feel is block space and the network, not a shared RPC connection.
  const spamClients = urls.validators.slice(1).map((url) => createClient({ transport: http(url) }))
  const [loaded, spammed] = await Promise.all([honestLoad(c, chainId, honest, sink, until), spam(spamClients.length > 0 ? spamClients : [c], chainId, spamKeys, until)])
  for (const sc of spamClients) await sc.close()
  progress({ phase: 'spam', samples: loaded.latencies.length, p50Ms: median(loaded.latencies), errors: loaded.errors, spam: { sent: spammed.sent, accepted: spammed.accepted, refused: spammed.refused } })

  // State the spam added: accounts that exist at the addresses it tried to create or send from
  // (its accepted txs only rewrite its own funded accounts in place). Checked on a sample.
  const sample = spammed.freshAddresses.filter((_, i) => i % Math.max(1, Math.floor(spammed.freshAddresses.length / 400)) === 0)
  let created = 0
  for (const a of sample) if ((await getBalance(c, { address: a })) > 0n || (await getNonce(c, { address: a })) > 0) created++
  const createdTotal = sample.length === 0 ? 0 : Math.round((created / sample.length) * spammed.freshAddresses.length)
  const accountBytes = TABLES.account.key(sink).length + encode(Account, { balance: 10n ** 9n, nonce: 0 }).length
  const honestP50 = median(loaded.latencies)
  const unloadedP50 = median(unloaded.latencies)
  const result = {
    bench: 'spam',
    seconds: SECONDS,
    honestInclusionP50Ms: honestP50,
    honestInclusionP90Ms: percentile(loaded.latencies, 90),
    unloadedP50Ms: unloadedP50,
    inclusionRatio: Math.round((honestP50 / Math.max(1, unloadedP50)) * 100) / 100,
    inclusionRatioGoal: 2,
    honestSamples: { unloaded: unloaded.latencies.length, spam: loaded.latencies.length },
    spamSent: spammed.sent,
    spamAccepted: spammed.accepted,
    spamRefused: spammed.refused,
    spamAccountsCreated: createdTotal,
    stateBytesPerSpamTx: Math.round(((createdTotal * accountBytes) / Math.max(1, spammed.sent)) * 1000) / 1000,
    baseFeeBefore: baseFeeBefore.toString(),
    baseFeePeak: (spammed.peakBaseFee > baseFeeBefore ? spammed.peakBaseFee : baseFeeBefore).toString(),
    loadAvg1m: Math.round(loadavg()[0]! * 10) / 10,
  }
  await c.close()
  await stopDevnet()
  if (signals.received()) process.exit(130)
  console.log(JSON.stringify(result))
} catch (err) {
  await stopDevnet()
  console.error(err instanceof BenchError ? `bench:spam: ${err.message}` : err)
  process.exitCode = 1
} finally {
  rmSync(workDir, { recursive: true, force: true })
}
