/**
 * The whole network under load: `scripts/devnet.ts` (4 validators + 6 hosts as separate
 * processes on 127.0.0.1, genesis.json, 500 ms slots), measured from the outside through JSON-RPC.
 *
 *   npm run bench:devnet [-- --slot-ms 250 --samples 20 --exec-samples 10 --exec-secs 20 --transfer-secs 15 --senders 8 --log-level info --keep]
 *
 * - deployToResult: a fresh asset (fib.wasm, a new deploy tx nonce → a new asset id) is deployed
 *   and executed (3 replicas, quorum 2; the execute tx is sent right after the deploy with the
 *   next nonce, as a client would); timed from sending the deploy (upload included) until
 *   validator 0 reports the completion. Serial samples, median and p90.
 * - execToResult: the same for one execute against an already deployed asset.
 * - executionsPerSec: `--senders` funded accounts keep up to 16 executions each in flight against
 *   one asset, sent round-robin to the validators, for `--exec-secs`; completions settled
 *   (agreed) in blocks stamped inside the window after a 2 s ramp, per second.
 * - transfersPerSec: `--senders` other accounts keep up to 200 transfers each in flight, each to
 *   its own validator, for `--transfer-secs` (each transfer one xsc_sendTransaction; the client
 *   reuses its fee estimate for FEE_REUSE_MS); transfers included in blocks stamped inside the
 *   window after a 1 s ramp, per second. `--transfer-batch N` sends each sender's next N in one
 *   JSON-RPC batch (a wallet's or an exchange's way; default 1: one HTTP request per transfer).
 *   `--transport ws`: every client call over one WebSocket per validator instead of HTTP POSTs.
 * - idle: 10 s with nothing sent first (after `--warm-secs` more, default 0); idleCpuMsPerBlockPerNode
 *   is a validator's CPU per block then.
 *   cpuMsPerTransferPerNode (validators, per included transfer, per validator) and cpuMsPerExecution
 *   (validators and hosts, per agreed execution, network-wide) are the loaded phases' CPU above
 *   what their blocks cost idle.
 * - finalityLagBlocks / finalityLagSlots: head − finalized (heights / slots) on validator 0, sampled
 *   every ~150 ms over the run (0 with BFT: a block is applied only with its commit).
 * Stage times per deploy-to-result sample come from block timestamps and, with --log-level info
 * (the default), the hosts' "receipt sent" log lines. Every process is stopped at the end, also
 * on error or Ctrl-C (the devnet runs in its own process group). Last line: one JSON object.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { COMPLETION_STATUS } from '../../blocks/schema.ts'
import { type Client, createClient, deploy, execute, getChainParams, getChainStatus, getExecution, getHosts, getNonce, getTransaction, http, transfer, webSocket } from '../../src/client/index.ts'
import { hash, type KeyPair, keyPairFromSecret, toHex, utf8 } from '../../src/crypto/index.ts'
import type { ExecutionView } from '../../src/rpc/formats.ts'
import { EXECUTION_STATUS } from '../../src/state/records.ts'
import { codingParamsOf, computeManifest } from '../../src/storage/encodeAsset.ts'
import { devnetKey } from '../devnetKeys.ts'
import { BenchError } from './support/benchError.ts'
import { ChainWatcher, type Settled } from './support/chainWatcher.ts'
import { closedLoad } from './support/closedLoad.ts'
import { findSplit } from './support/findSplit.ts'
import { devnetCpuByRole, type DevnetRole, launchDevnet, type LaunchedDevnet } from './support/launchDevnet.ts'
import { measurePerAssetExecutions } from './support/perAssetExecutions.ts'
import { stopOnSignals } from './support/processes.ts'
import { sendTransferBatch } from './support/sendTransferBatch.ts'
import { median, percentile, round } from './support/stats.ts'

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '6' },
    samples: { type: 'string', default: '20' },
    'exec-samples': { type: 'string', default: '10' },
    'exec-secs': { type: 'string', default: '20' },
    'transfer-secs': { type: 'string', default: '15' },
    senders: { type: 'string', default: '8' },
    /** Transfers per JSON-RPC batch in the transfer phase (sendTransactions); 1: one HTTP request each. */
    'transfer-batch': { type: 'string', default: '1' },
    /** How the bench's clients reach the validators: http (a POST per call) or ws (JSON-RPC over one WebSocket per validator). */
    transport: { type: 'string', default: 'http' },
    /** Run on a copy of genesis.json with this slot length (block interval), e.g. 250. */
    'slot-ms': { type: 'string' },
    /**
     * Seconds the devnet stays idle before the idle phase (default 0). A young node still compiles
     * the code its idle rate makes hot (V8 warm-up, ~25 % of an idle block in a devnet's first
     * minutes: docs/devnet.md, session 15); e.g. 480 prices the steady state of a validator.
     */
    'warm-secs': { type: 'string', default: '0' },
    'log-level': { type: 'string', default: 'info' },
    keep: { type: 'boolean', default: false },
  },
})
const HOSTS = Number(values.hosts)
const SAMPLES = Number(values.samples)
const EXEC_SAMPLES = Number(values['exec-samples'])
const EXEC_SECS = Number(values['exec-secs'])
const TRANSFER_SECS = Number(values['transfer-secs'])
const WARM_SECS = Number(values['warm-secs'])
if (!Number.isInteger(WARM_SECS) || WARM_SECS < 0 || WARM_SECS > 3600) throw new BenchError(`--warm-secs must be a whole number of seconds in 0–3600, got ${values['warm-secs']}`)
const SENDERS = Number(values.senders)
const TRANSFER_BATCH = Number(values['transfer-batch'])
if (values.transport !== 'http' && values.transport !== 'ws') {
  console.error(`bench:devnet: --transport takes http or ws, got "${values.transport}"`)
  process.exit(2)
}
for (const [name, v, min] of [['--hosts', HOSTS, 6], ['--samples', SAMPLES, 1], ['--exec-samples', EXEC_SAMPLES, 1], ['--exec-secs', EXEC_SECS, 3], ['--transfer-secs', TRANSFER_SECS, 2], ['--senders', SENDERS, 1], ['--transfer-batch', TRANSFER_BATCH, 1]] as const) {
  // 6 hosts at least: a deployment places 4+2 shards on distinct hosts.
  if (!Number.isSafeInteger(v) || v < min) {
    console.error(`bench:devnet: ${name} takes an integer ≥ ${min}, got "${String(v)}"`)
    process.exit(2)
  }
}
const EXEC_INFLIGHT = 16
const TRANSFER_INFLIGHT = 200
/** The whole run is cut here, whatever phase it is in (the processes are still stopped). */
const RUN_LIMIT_MS = 270_000 + WARM_SECS * 1000
/** The idle phase: no load, to price an empty block (and the baseline the loaded phases subtract). */
const IDLE_SECS = 10

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const progress = (o: object): void => console.log(JSON.stringify(o))

// ---------------------------------------------------------------- the devnet, in its own group

const workDir = mkdtempSync(join(tmpdir(), 'xsc-bench-devnet-'))
let devnet: LaunchedDevnet | undefined
const stopDevnet = async (): Promise<void> => { await devnet?.group.stop() }
process.on('exit', () => {
  devnet?.group.kill() // before the data dir goes
  if (!values.keep) rmSync(workDir, { recursive: true, force: true })
})
const signals = stopOnSignals(stopDevnet, (sig) => console.error(`bench:devnet: ${sig}, every devnet process stopped`))

function cpuSince(before: Record<DevnetRole, number>, ms: number): Record<string, number> {
  const now = devnetCpuByRole(devnet)
  const r = (x: number): number => round(x, 2)
  return { validatorsCores: r((now.validators - before.validators) / (ms / 1000)), hostsCores: r((now.hosts - before.hosts) / (ms / 1000)), driverCores: r((now.driver - before.driver) / (ms / 1000)) }
}

// ---------------------------------------------------------------- the run

const key = (name: string): KeyPair => keyPairFromSecret(hash(utf8(`xsc-bench-devnet/${name}`)))
const fibInput = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}
const origin = { x: 150, y: 100, z: 100 }
const execArgs = { fn: 'run', input: fibInput(20), fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 40, origin }
const FIB_20 = 6765n

/**
 * Polls validator 0 until the execution record is settled (status ≠ pending): that is when the
 * result is visible over RPC. The node's xsc_getExecution has no execution index (`completion`
 * stays undefined), so the completion entry itself comes from the watcher's block scan.
 */
async function waitSettled(c: Client, watcher: ChainWatcher, id: Uint8Array, timeoutMs: number): Promise<{ seenAt: number; scheduled: number; completion: Settled }> {
  const deadline = Date.now() + timeoutMs
  let ex: ExecutionView | null = null
  for (;;) {
    ex = await getExecution(c, { id })
    if (ex !== null && ex.record.status !== EXECUTION_STATUS.pending) break
    if (Date.now() > deadline) throw new BenchError(`execution ${toHex(id)} not settled within ${timeoutMs} ms (${ex ? `pending, scheduled at height ${ex.scheduled.height}` : 'unknown to validator 0'})`)
    await sleep(25)
  }
  const seenAt = Date.now()
  for (let i = 0; i < 100; i++) {
    const completion = watcher.settled.get(toHex(id))
    if (completion) return { seenAt, scheduled: ex.scheduled.height, completion }
    await sleep(50)
  }
  throw new BenchError(`execution ${toHex(id)} is settled (status ${ex.record.status}) but no completion block carrying it was found`)
}
function outputOf(s: Settled): bigint | null {
  return s.status === COMPLETION_STATUS.agreed && s.output.length === 8 ? new DataView(s.output.buffer, s.output.byteOffset, 8).getBigUint64(0, true) : null
}

interface Sample { ms: number; sendAt: number; exec: string; deployHeight?: number; execHeight: number; completionHeight: number; seenAt: number }

async function run(): Promise<Record<string, unknown>> {
  const t0 = Date.now()
  const genesis = JSON.parse(readFileSync(join(repoRoot, 'genesis.json'), 'utf8')) as { validators: unknown[]; slotMs: number }
  const V = genesis.validators.length
  let genesisFile: string | undefined
  if (values['slot-ms'] !== undefined) {
    const slot = Number(values['slot-ms'])
    if (!Number.isSafeInteger(slot) || slot < 50) throw new BenchError(`--slot-ms takes an integer ≥ 50, got "${values['slot-ms']}"`)
    genesisFile = join(workDir, 'genesis.json')
    writeFileSync(genesisFile, JSON.stringify({ ...genesis, slotMs: slot }, null, 2))
  }
  // A devnet that did not come up, or whose validators finalized different blocks, is useless to
  // measure: start it again (fresh data dir and ports), at most 3 times.
  const splits: string[] = []
  const startFailures: string[] = []
  let clients: Client[] = []
  for (let attempt = 1; ; attempt++) {
    let problem: string | undefined
    try {
      devnet = await launchDevnet({ repoRoot, workDir, validators: V, hosts: HOSTS, attempt, logLevel: values['log-level'], ...(genesisFile ? { genesisFile } : {}) })
      const urls = await devnet.ready
      if (urls.validators.length !== V || urls.validators.some((u) => !u)) throw new BenchError(`the devnet printed ${urls.validators.length} validator URLs, expected ${V}`)
      clients = urls.validators.map((u) => createClient({ transport: values.transport === 'ws' ? webSocket(u.replace(/^http/, 'ws'), { timeoutMs: 15_000 }) : http(u, { timeoutMs: 15_000 }) }))
      const joined = (await getHosts(clients[0]!, {})).length
      if (joined < HOSTS) throw new BenchError(`only ${joined} of ${HOSTS} hosts joined`)
      if (!urls.demoOk) throw new BenchError(`the devnet's demo round trip did not print fib(20) = 6765; ${devnet.log.lines('compute round trip failed').at(-1) ?? 'no error line'}`)
      const split = await findSplit(clients)
      if (split === undefined) break
      splits.push(`attempt ${attempt}: ${split}`)
      problem = `split: ${split}`
    } catch (err) {
      if (signals.received()) throw err
      startFailures.push(`attempt ${attempt}: ${(err as Error).message}`)
      problem = (err as Error).message
    }
    progress({ phase: 'restart', attempt, problem, log: devnet?.log.file })
    for (const c of clients) await c.close()
    clients = []
    await stopDevnet()
    if (attempt >= 3) throw new BenchError(`no usable devnet in ${attempt} starts:\n${[...startFailures, ...splits].join('\n')}`)
  }
  const c0 = clients[0]!
  try {
    const params = await getChainParams(c0)
    const { chainId, slotMs } = params
    const genesisTime = Number(params.genesisTime)
    const slotAt = (ms: number): number => Math.floor((ms - genesisTime) / slotMs)
    const hostCount = (await getHosts(c0, {})).length
    progress({ phase: 'up', ms: Date.now() - t0, validators: V, hosts: hostCount, slotMs, log: devnet?.log.file })

    const watcher = new ChainWatcher(c0)
    watcher.start((await getChainStatus(c0)).finalized.height)
    /**
     * What a phase cost: CPU cores used by validators, hosts and this bench; blocks per slot on
     * validator 0 (< 1 means missed slots) and how many heights got a competing block.
     */
    const meter = (): (() => Promise<Record<string, number>>) => {
      const start = Date.now()
      const cpu0 = devnetCpuByRole(devnet)
      const own0 = process.cpuUsage()
      return async () => {
        const end = Date.now()
        const own = process.cpuUsage(own0)
        const cpuNow = devnetCpuByRole(devnet)
        const cpu = cpuSince(cpu0, end - start)
        await watcher.until(end, 5_000)
        const inside = [...watcher.blocks.values()].filter((b) => b.timestamp >= start && b.timestamp <= end).length
        const raw = { validatorsCpuMs: Math.round((cpuNow.validators - cpu0.validators) * 1000), hostsCpuMs: Math.round((cpuNow.hosts - cpu0.hosts) * 1000), blocks: inside, wallMs: end - start }
        return { ...cpu, ...raw, benchCores: Math.round(((own.user + own.system) / 1000 / (end - start)) * 100) / 100, blocksPerSlot: Math.round((inside / Math.max(1, slotAt(end) - slotAt(start))) * 100) / 100, loadAvg1m: Math.round(loadavg()[0]! * 10) / 10 }
      }
    }
    const costs: Record<string, Record<string, number>> = {}

    // Fund 2·SENDERS bench accounts from devnet account 0 (nonces chained, one block).
    const funder = devnetKey('account', 0)
    let funderNonce = await getNonce(c0, { address: funder.publicKey })
    const execSenders = Array.from({ length: SENDERS }, (_, i) => key(`exec-${i}`))
    const transferSenders = Array.from({ length: SENDERS }, (_, i) => key(`transfer-${i}`))
    const sink = key('sink')
    let lastFunding: Uint8Array | undefined
    for (const s of [...execSenders, ...transferSenders]) lastFunding = await transfer(c0, { account: funder, to: s.publicKey, amount: 10_000_000_000_000n, nonce: funderNonce++, chainId })
    for (let i = 0; i < 200 && !(await getTransaction(c0, { id: lastFunding! })); i++) await sleep(100)
    if (!(await getTransaction(c0, { id: lastFunding! }))) throw new BenchError('the funding transfers were not included within 20 s')

    // Idle: nothing sent for IDLE_SECS (after --warm-secs of the same); what an empty block costs each node.
    if (WARM_SECS > 0) {
      progress({ phase: 'warm', secs: WARM_SECS })
      await sleep(WARM_SECS * 1000)
    }
    let cost = meter()
    await sleep(IDLE_SECS * 1000)
    costs.idle = await cost()
    const idleValidatorMsPerBlock = costs.idle.validatorsCpuMs! / Math.max(1, costs.idle.blocks!) / V
    const idleHostMsPerBlock = costs.idle.hostsCpuMs! / Math.max(1, costs.idle.blocks!) / hostCount
    progress({ phase: 'idle', cost: costs.idle, idleValidatorMsPerBlock: round(idleValidatorMsPerBlock, 2) })

    // Deploy-to-result: fresh asset each time (deploy nonce n, execute nonce n+1), serial.
    const code = new Uint8Array(readFileSync(join(repoRoot, 'fixtures/wasm/fib.wasm')))
    const manifest = computeManifest(code, codingParamsOf(params.params))
    const deployer = funder
    let nonce = funderNonce
    const deploySamples: Sample[] = []
    const failures: string[] = []
    let firstAsset: Uint8Array | undefined
    cost = meter()
    for (let i = 0; i < SAMPLES; i++) {
      try {
        const sendAt = Date.now()
        const asset = await deploy(c0, { account: deployer, bytes: code, manifest, kind: 'module', deposit: 10_000_000n, bidPerByteEpoch: 10n, origin, nonce, chainId })
        const exec = await execute(c0, { account: deployer, asset, ...execArgs, nonce: nonce + 1, chainId })
        nonce += 2
        const done = await waitSettled(c0, watcher, exec, 30_000)
        const ms = done.seenAt - sendAt
        if (outputOf(done.completion) !== FIB_20) throw new BenchError(`execution ${toHex(exec)} settled with status ${done.completion.status}, not fib(20) = ${FIB_20}`)
        const tx = await getTransaction(c0, { id: asset })
        firstAsset ??= asset
        deploySamples.push({ ms, sendAt, exec: toHex(exec), ...(tx ? { deployHeight: tx.blockHeight } : {}), execHeight: done.scheduled, completionHeight: done.completion.height, seenAt: done.seenAt })
      } catch (err) {
        failures.push(`deploy sample ${i}: ${(err as Error).message}`)
        progress({ phase: 'sampleFailed', failure: failures.at(-1) })
        // Resynchronise with what the node expects before the next sample.
        await sleep(1_000)
        nonce = await getNonce(c0, { address: deployer.publicKey })
        if (failures.length >= 3) throw new BenchError(`3 deploy-to-result samples failed:\n${failures.join('\n')}`)
      }
    }
    if (!firstAsset) throw new BenchError('no deployment succeeded')
    costs.deployToResult = await cost()
    progress({ phase: 'deployToResult', samples: deploySamples.length, medianMs: round(median(deploySamples.map((s) => s.ms))), p90Ms: round(percentile(deploySamples.map((s) => s.ms), 90)) })

    // Execute-to-result against the first asset, serial.
    const execSamples: Sample[] = []
    cost = meter()
    for (let i = 0; i < EXEC_SAMPLES; i++) {
      try {
        const sendAt = Date.now()
        const exec = await execute(c0, { account: deployer, asset: firstAsset, ...execArgs, nonce, chainId })
        nonce += 1
        const done = await waitSettled(c0, watcher, exec, 30_000)
        const ms = done.seenAt - sendAt
        if (outputOf(done.completion) !== FIB_20) throw new BenchError(`execution ${toHex(exec)} settled with status ${done.completion.status}, not fib(20) = ${FIB_20}`)
        execSamples.push({ ms, sendAt, exec: toHex(exec), execHeight: done.scheduled, completionHeight: done.completion.height, seenAt: done.seenAt })
      } catch (err) {
        failures.push(`exec sample ${i}: ${(err as Error).message}`)
        progress({ phase: 'sampleFailed', failure: failures.at(-1) })
        await sleep(1_000)
        nonce = await getNonce(c0, { address: deployer.publicKey })
        if (failures.length >= 5) throw new BenchError(`too many samples failed:\n${failures.join('\n')}`)
      }
    }
    costs.execToResult = await cost()
    progress({ phase: 'execToResult', samples: execSamples.length, medianMs: round(median(execSamples.map((s) => s.ms))), p90Ms: round(percentile(execSamples.map((s) => s.ms), 90)) })

    // Sustained executions: closed loop, EXEC_INFLIGHT unsettled per sender, round-robin validators.
    const asset = firstAsset
    cost = meter()
    const execLoad = await closedLoad({
      senders: execSenders,
      clients,
      seconds: EXEC_SECS,
      inflight: EXEC_INFLIGHT,
      isDone: (id) => watcher.settled.has(id),
      send: (c, s, n) => execute(c, { account: s, asset, ...execArgs, nonce: n, chainId }),
    })
    costs.executions = await cost()
    const rampMs = 2_000
    await watcher.until(execLoad.end + slotMs, 15_000)
    const inWindow = (t: number, start: number, end: number): boolean => t >= start && t <= end
    let agreed = 0
    let failed = 0
    for (const id of execLoad.ids) {
      const s = watcher.settled.get(id)
      if (!s || !inWindow(s.timestamp, execLoad.start + rampMs, execLoad.end)) continue
      if (s.status === COMPLETION_STATUS.agreed) agreed++
      else failed++
    }
    const executionsPerSec = agreed / ((execLoad.end - execLoad.start - rampMs) / 1000)
    progress({ phase: 'executions', sent: execLoad.ids.length, settledInWindow: agreed, failedInWindow: failed, sendErrors: execLoad.errors, perSec: Math.round(executionsPerSec * 10) / 10, cost: costs.executions })

    // Transfers: closed loop, TRANSFER_INFLIGHT uncommitted per sender, sender j → validator j mod V.
    cost = meter()
    const tLoad = await closedLoad({
      senders: transferSenders,
      clients,
      seconds: TRANSFER_SECS,
      inflight: TRANSFER_INFLIGHT,
      isDone: (id) => watcher.included.has(id),
      send: (c, s, n) => transfer(c, { account: s, to: sink.publicKey, amount: 1_000n, nonce: n, chainId }),
      ...(TRANSFER_BATCH > 1 ? { batch: TRANSFER_BATCH, sendBatch: (c: Client, s: KeyPair, nonces: number[]) => sendTransferBatch(c, s, nonces, { to: sink.publicKey, amount: 1_000n, chainId }) } : {}),
    })
    costs.transfers = await cost()
    const tRampMs = 1_000
    await watcher.until(tLoad.end + slotMs, 10_000)
    const transfersIncluded = tLoad.ids.filter((id) => {
      const at = watcher.included.get(id)
      return at !== undefined && inWindow(at.timestamp, tLoad.start + tRampMs, tLoad.end)
    }).length
    const transfersPerSec = transfersIncluded / ((tLoad.end - tLoad.start - tRampMs) / 1000)
    progress({ phase: 'transfers', sent: tLoad.ids.length, includedInWindow: transfersIncluded, sendErrors: tLoad.errors, perSec: Math.round(transfersPerSec), cost: costs.transfers })

    await watcher.stop()

    // Every validator still on one chain: no one finalized a block another one does not have.
    const splitAtEnd = (await findSplit(clients)) ?? null
    const heads = await Promise.all(clients.map(async (c) => (await getChainStatus(c)).head.height))

    // Where the deploy-to-result time goes: block timestamps, and the hosts' receipts from the log.
    const receipts = devnet?.log.receiptTimes() ?? new Map<string, number[]>()
    const stage = { sendToDeployBlock: [] as number[], deployToExecBlock: [] as number[], execBlockToQuorumReceipt: [] as number[], quorumReceiptToCompletionBlock: [] as number[], completionBlockToSeen: [] as number[] }
    const slots = { sendToDeployBlock: [] as number[], deployToExecBlock: [] as number[], execToCompletionBlock: [] as number[], total: [] as number[] }
    const totalSlotCounts: Record<number, number> = {}
    let withAudit = 0
    /** Per sample, the kinds of the blocks from the deployment to the completion (what sits between them). */
    const kindSequences: Record<string, number> = {}
    for (const s of deploySamples) {
      if (s.deployHeight === undefined) continue
      const [d, e, c] = await Promise.all([watcher.slotOf(s.deployHeight), watcher.slotOf(s.execHeight), watcher.slotOf(s.completionHeight)])
      stage.sendToDeployBlock.push(d.timestamp - s.sendAt)
      stage.deployToExecBlock.push(e.timestamp - d.timestamp)
      stage.completionBlockToSeen.push(s.seenAt - c.timestamp)
      const times = [...(receipts.get(s.exec) ?? [])].sort((a, b) => a - b)
      if (times.length >= 2) {
        stage.execBlockToQuorumReceipt.push(times[1]! - e.timestamp)
        stage.quorumReceiptToCompletionBlock.push(c.timestamp - times[1]!)
      }
      slots.sendToDeployBlock.push(d.slot - slotAt(s.sendAt))
      slots.deployToExecBlock.push(e.slot - d.slot)
      slots.execToCompletionBlock.push(c.slot - e.slot)
      const total = c.slot - slotAt(s.sendAt)
      slots.total.push(total)
      totalSlotCounts[total] = (totalSlotCounts[total] ?? 0) + 1
      const between = Array.from({ length: s.completionHeight - s.deployHeight + 1 }, (_, k) => watcher.blocks.get(s.deployHeight! + k))
      if (between.some((b) => b?.kind === 'audit')) withAudit++
      const sequence = between.map((b) => b?.kind ?? '?').join('>')
      kindSequences[sequence] = (kindSequences[sequence] ?? 0) + 1
    }
    const medians = (o: Record<string, number[]>): Record<string, number | null> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(median(v))]))
    const deployMs = deploySamples.map((s) => s.ms)
    const execMs = execSamples.map((s) => s.ms)
    // Marginal CPU: a loaded phase's CPU less what its blocks would have cost empty (the idle phase).
    const marginal = (c: Record<string, number>, role: 'validators' | 'hosts'): number => {
      const perBlock = role === 'validators' ? idleValidatorMsPerBlock * V : idleHostMsPerBlock * hostCount
      return Math.max(0, c[`${role}CpuMs`]! - perBlock * c.blocks!)
    }
    const transfersIncludedInPhase = tLoad.ids.filter((id) => watcher.included.has(id)).length
    const executionsSettledInPhase = execLoad.ids.filter((id) => watcher.settled.get(id)?.status === COMPLETION_STATUS.agreed).length
    return {
      validators: V,
      hosts: hostCount,
      slotMs,
      deployToResultMedianMs: round(median(deployMs)),
      deployToResultP90Ms: round(percentile(deployMs, 90)),
      deployToResultSamples: deploySamples.length,
      execToResultMedianMs: round(median(execMs)),
      execToResultP90Ms: round(percentile(execMs, 90)),
      execToResultSamples: execSamples.length,
      deployStagesMedianMs: medians(stage),
      deploySlotsMedian: medians(slots),
      /** How many samples took N slots from the send slot to the completion slot. */
      deploySlotsTotalCounts: totalSlotCounts,
      /** Samples whose deployment..completion blocks include an audit block (it takes a slot). */
      deploySamplesWithAudit: withAudit,
      /** How many samples had each sequence of block kinds from deployment to completion. */
      deployBlockKindSequences: kindSequences,
      executionsPerSec: Math.round(executionsPerSec * 10) / 10,
      executionsSent: execLoad.ids.length,
      executionsSettledInWindow: agreed,
      executionsFailedInWindow: failed,
      executionSendErrors: execLoad.errors,
      executionWindowSecs: (execLoad.end - execLoad.start - rampMs) / 1000,
      transfersPerSec: Math.round(transfersPerSec),
      transfersSent: tLoad.ids.length,
      transfersIncludedInWindow: transfersIncluded,
      transferSendErrors: tLoad.errors,
      transferWindowSecs: (tLoad.end - tLoad.start - tRampMs) / 1000,
      /** Validator CPU per included transfer per validator, above the idle cost of the phase's blocks (goal ≤ 0.2). */
      cpuMsPerTransferPerNode: round(marginal(costs.transfers!, 'validators') / Math.max(1, transfersIncludedInPhase) / V, 3),
      /** The same with nothing subtracted: the validators' whole CPU in the transfer phase per included transfer per validator. */
      cpuMsPerTransferPerNodeRaw: round(costs.transfers!.validatorsCpuMs! / Math.max(1, transfersIncludedInPhase) / V, 3),
      transfersIncludedInPhase,
      executionsSettledInPhase,
      /** Validators' and hosts' CPU per agreed execution, network-wide, above idle (includes fib(20)'s own fuel, a few µs; goal ≤ 10). */
      cpuMsPerExecution: round((marginal(costs.executions!, 'validators') + marginal(costs.executions!, 'hosts')) / Math.max(1, executionsSettledInPhase), 2),
      /** Validator CPU per block per validator with nothing sent (goal ≤ 5). */
      idleCpuMsPerBlockPerNode: round(idleValidatorMsPerBlock, 2),
      /** Seconds the devnet idled before that window (--warm-secs). */
      idleWarmSecs: WARM_SECS,
      idleHostCpuMsPerBlock: round(idleHostMsPerBlock, 2),
      finalityLagBlocks: median(watcher.lagBlocks),
      finalityLagP90Blocks: percentile(watcher.lagBlocks, 90),
      finalityLagSlots: median(watcher.lags),
      finalityLagP90Slots: percentile(watcher.lags, 90),
      finalityLagSamples: watcher.lags.length,
      reorgs: watcher.reorgs,
      splitAtEnd,
      heads,
      phaseCosts: costs,
      sampleFailures: failures,
      devnetStarts: splits.length + startFailures.length + 1,
      splitStarts: splits,
      failedStarts: startFailures,
      ...(await measurePerAssetExecutions({ client: c0, account: devnetKey('account', 2), repoRoot })),
      totalMs: Date.now() - t0,
    }
  } finally {
    for (const c of clients) await c.close()
  }
}

let result: Record<string, unknown> | undefined
let failure: unknown
const limit = setTimeout(() => {
  failure = new BenchError(`the bench ran longer than ${RUN_LIMIT_MS / 1000} s`)
  void stopDevnet().finally(() => {
    console.error(String(failure))
    process.exit(1)
  })
}, RUN_LIMIT_MS)
try {
  result = await run()
} catch (err) {
  failure = err
} finally {
  clearTimeout(limit)
  await stopDevnet()
}
if (signals.received()) {
  // The signal handler is stopping the devnet and exits.
  await new Promise(() => undefined)
}
if (failure !== undefined || result === undefined) {
  console.error(`bench:devnet failed: ${failure instanceof Error ? failure.message : String(failure)}`)
  if (values.keep) console.error(`logs kept in ${workDir}`)
  process.exit(1)
}
if (values.keep) progress({ phase: 'logs', dir: workDir })
console.log(JSON.stringify(result))
process.exit(0)
