import { readFileSync } from 'node:fs'

import { ASSET_KIND, type AssetKind, CAPABILITY, COMPLETION_STATUS, OUTCOME, type SignedTx } from '../../../blocks/schema.ts'
import { computeEscrow, encryptPrivateInput, estimateFee, estimateFuel, execute, EXECUTION_STATUS, generateExecutionKey, getAsset, getBalance, getChainParams, waitForExecution, waitForPrivateExecution, waitForTransaction } from '../../client/index.ts'
import { ComputeError, prepareModule } from '../../compute/index.ts'
import { fromHex, toHex, utf8 } from '../../crypto/index.ts'
import { readKeyFile } from '../../node/keyFile.ts'
import type { ExecutionView } from '../../rpc/formats.ts'
import { type Command, parseCommandArgs, print, required } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { describeOutput, type OutputView } from './describeOutput.ts'
import { execListCommand, execStatusCommand } from './execHistory.ts'
import { filterEligibleHosts, listHosts, nameOf } from './listHosts.ts'
import { parseAmount, parseCoord, parseCount, parseFee, parseHash, parseTimeoutMs, senderOptions, withClient } from './parseOptions.ts'
import { filterAllowedZones, parsePlacementFlags, PLACEMENT_FLAG_OPTIONS } from './parsePlacementFlags.ts'
import { createProgressBar, isInteractive } from './progressBar.ts'

/**
 * The input bytes of a call. Components take a UTF-8 JSON array of arguments: each positional
 * argument is read as JSON when it parses (2, true, "x", [1,2]) and as a string otherwise.
 * Core modules read raw bytes (input_read), so they take --input-hex, --input-file or --input.
 */
export function computeCallInput(kind: number, args: string[], flags: { inputHex?: string | undefined; inputFile?: string | undefined; input?: string | undefined }): Uint8Array {
  const sources = [args.length > 0, flags.inputHex !== undefined, flags.inputFile !== undefined, flags.input !== undefined].filter(Boolean).length
  if (sources > 1) throw new CliError('USAGE', 'give the input one way: positional args, --input-hex, --input-file or --input')
  if (flags.inputHex !== undefined) {
    try {
      return fromHex(flags.inputHex)
    } catch {
      throw new CliError('USAGE', `--input-hex takes 0x-prefixed hex with an even number of digits, got "${flags.inputHex.slice(0, 40)}"`)
    }
  }
  if (flags.inputFile !== undefined) {
    try {
      return new Uint8Array(readFileSync(flags.inputFile))
    } catch (err) {
      throw new CommandError('FILE_NOT_FOUND', `cannot read ${flags.inputFile}: ${(err as Error).message}`, 'check the --input-file path')
    }
  }
  if (flags.input !== undefined) return utf8(flags.input)
  if (args.length === 0) return new Uint8Array(0)
  if (kind !== ASSET_KIND.component) throw new CliError('USAGE', 'positional args are for components (a JSON array of arguments); a core module reads raw input: use --input-hex, --input-file or --input TEXT')
  const values = args.map((a): unknown => {
    try {
      return JSON.parse(a)
    } catch {
      return a
    }
  })
  return utf8(JSON.stringify(values))
}

export interface ExecResult {
  executionId: string
  asset: string
  fn: string
  status: 'agreed' | 'failed'
  outcome: string
  output: OutputView
  fuelUsed: bigint
  fuelLimit: bigint
  escrow: bigint
  refund: bigint
  /** escrow − refund: what the execution cost, besides the tx fee. */
  cost: bigint
  fee: bigint
  payouts: { to: string; amount: bigint }[]
  hosts: string[]
  block: { height: number; hash: string }
}

/** What `xsc exec --dry-run` prints: the node ran the call on its state; nothing was sent or paid. */
export interface ExecDryRun {
  dryRun: true
  asset: string
  fn: string
  outcome: string
  output: OutputView
  fuelUsed: bigint
  fuelLimit: bigint
  /** The escrow the execution would lock (at --fuel) and the most it would cost at the fuel measured (every replica paid at the bid). */
  escrow: bigint
  cost: bigint
  fee: bigint
}

/** The deploy-time check of code, run locally: what a host would refuse (UNSUPPORTED_FEATURE, ...). */
export function checkDeployable(bytes: Uint8Array, kind: AssetKind): string {
  if (kind === 'blob') return 'none (data)'
  if (kind === 'component') return 'left to the hosts (components are transpiled there)'
  try {
    prepareModule(bytes)
    return 'ok'
  } catch (err) {
    if (err instanceof ComputeError) throw new CommandError('CODE_REFUSED', `hosts would refuse this module: ${err.message}`, 'rebuild it without the refused feature or import (docs/compute.md lists the policy)', { code: err.code })
    throw err
  }
}

/** An execute tx's encoded size besides its input, roughly (keys, signature, fn name, limits). */
const EXECUTE_TX_OVERHEAD_BYTES = 256

export const execCommand: Command = {
  name: 'exec',
  summary: 'run a function of a deployed asset on hosts and print its result, fuel and cost',
  usage: 'ls [--asset ID | ADDRESS | --key FILE] | status <execution-id> | <asset> <fn> [args...] --key FILE [--input-hex 0x.. | --input-file F | --input TEXT] [--fuel N] [--bid N] [--replicas 3] [--quorum 2] [--private] [--deadline-slots 20] [--origin x,y,z] [--zones a,b] [--strategy balanced|nearest|cheapest|reputation] [--memory BYTES] [--fee N] [--dry-run] [--timeout SECONDS] [--skip-host-check] [--rpc URL]',
  async run(ctx) {
    // Subcommands first: an execution id or asset id is 0x-hex, so `ls`/`status` cannot be one.
    if (ctx.argv[0] === 'ls') return execListCommand.run({ ...ctx, argv: ctx.argv.slice(1) })
    if (ctx.argv[0] === 'status') return execStatusCommand.run({ ...ctx, argv: ctx.argv.slice(1) })
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      ...senderOptions('120'),
      'input-hex': { type: 'string' },
      'input-file': { type: 'string' },
      input: { type: 'string' },
      fuel: { type: 'string', default: '1000000' },
      bid: { type: 'string', default: '1' },
      replicas: { type: 'string', default: '3' },
      quorum: { type: 'string', default: '2' },
      private: { type: 'boolean', default: false },
      'deadline-slots': { type: 'string', default: '20' },
      origin: { type: 'string', default: '0,0,0' },
      ...PLACEMENT_FLAG_OPTIONS,
      memory: { type: 'string', default: '0' },
      'skip-host-check': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    })
    const [assetArg, fn, ...args] = positionals
    if (assetArg === undefined || fn === undefined) throw new CliError('USAGE', `give the asset id and the function name\nusage: xsc exec ${this.usage}`)
    const asset = parseHash(assetArg, 'the asset id')
    const keyPath = required(values.key, '--key', this)
    const fuelLimit = parseAmount(values.fuel, '--fuel')
    const bid = parseAmount(values.bid, '--bid')
    const fee = parseFee(values.fee)
    const replicas = parseCount(values.replicas, '--replicas', 255, 1)
    const quorum = parseCount(values.quorum, '--quorum', 255, 1)
    if (quorum > replicas) throw new CliError('USAGE', `--quorum (${quorum}) cannot exceed --replicas (${replicas})`)
    const deadlineSlots = parseCount(values['deadline-slots'], '--deadline-slots', 0xffff_ffff, 1)
    const origin = parseCoord(values.origin, '--origin')
    const placement = parsePlacementFlags(values)
    const minMemoryBytes = parseAmount(values.memory, '--memory')
    const timeoutMs = parseTimeoutMs(values.timeout)
    const account = readKeyFile(keyPath)
    const interactive = isInteractive(ctx.json)

    const result = await withClient(values.rpc, async (client): Promise<ExecResult | ExecDryRun> => {
      const chain = await getChainParams(client)
      const { params } = chain
      if (fuelLimit > params.maxFuelLimit) throw new CliError('USAGE', `--fuel ${fuelLimit} exceeds this chain's maxFuelLimit ${params.maxFuelLimit}`)
      if (replicas > params.maxReplicas) throw new CliError('USAGE', `--replicas ${replicas} exceeds this chain's maxReplicas ${params.maxReplicas}`)
      const info = await getAsset(client, { id: asset })
      if (info === null) throw new CommandError('NOT_FOUND', `no asset ${assetArg} on this chain`, 'check the id printed by xsc deploy; a deploy becomes an asset once it is in a block (xsc deploy --wait)', { asset: assetArg })
      if (info.record.kind === ASSET_KIND.blob) throw new CliError('USAGE', `asset ${assetArg} is a blob (data); only modules and components run`)
      const input = computeCallInput(info.record.kind, args, { inputHex: values['input-hex'], inputFile: values['input-file'], input: values.input })
      // A dry run executes on the RPC node: it would see the plaintext a private execution hides.
      if (values['dry-run'] && values.private) throw new CliError('USAGE', '--dry-run sends the input in the clear to the node; it cannot be combined with --private')
      if (values['dry-run']) {
        const est = await estimateFuel(client, { asset, fn, input, fuelLimit, from: account.publicKey })
        return {
          dryRun: true, asset: toHex(asset), fn, outcome: nameOf(OUTCOME, est.outcome), output: describeOutput(est.output), fuelUsed: est.fuelUsed, fuelLimit,
          escrow: computeEscrow({ fuelLimit, bidPerFuel: bid, replicas, private: values.private }, params),
          cost: computeEscrow({ fuelLimit: est.fuelUsed, bidPerFuel: bid, replicas, private: values.private }, params),
          // Nothing is signed on a dry run: the node's suggested fee for an execute of this input size.
          fee: fee ?? (await estimateFee(client, { size: EXECUTE_TX_OVERHEAD_BYTES + input.length })).fee,
        }
      }
      if (!values['skip-host-check']) {
        const caps = CAPABILITY.compute | (values.private ? CAPABILITY.private : 0)
        const eligible = filterEligibleHosts(filterAllowedZones(await listHosts(client), placement.zones), { capabilities: caps, bid, ask: 'fuel' }).filter((h) => h.record.params.memoryBytes >= minMemoryBytes)
        if (eligible.length < replicas) {
          throw new CommandError('NO_HOSTS', `only ${eligible.length} active compute host(s)${values.private ? ' with the private capability' : ''} ask at most ${bid} per fuel; this execution needs ${replicas} replica(s)`,
            'lower --replicas (and --quorum), raise --bid above the hosts\' asks, or start more hosts (xsc node --host / npm run devnet)', { eligible: eligible.length, needed: replicas, bid })
        }
      }
      const escrow = computeEscrow({ fuelLimit, bidPerFuel: bid, replicas, private: values.private }, params)
      const balance = await getBalance(client, { address: account.publicKey })
      if (balance < escrow + (fee ?? 0n)) {
        throw new CommandError('INSUFFICIENT_FUNDS', `the account ${toHex(account.publicKey)} holds ${balance}; this execution escrows ${escrow} + fee ${fee ?? 'estimated'}`, 'fund the account, or lower --fuel, --bid or --replicas (escrow = replicas × fuel × bid plus bonus and fee headroom)', { balance, needed: escrow + (fee ?? 0n) })
      }
      let signed: SignedTx | undefined
      // Private: the tx carries the input encrypted under a fresh key K, delivered to the assigned hosts once they are known.
      const executionKey = values.private ? generateExecutionKey() : undefined
      const id = await execute(client, {
        account, asset, fn, input: executionKey ? encryptPrivateInput(executionKey, input) : input, fuelLimit, bidPerFuel: bid, replicas, quorum, private: values.private, deadlineSlots, origin, ...placement, minMemoryBytes, fee, chainId: chain.chainId,
        onSigned: (tx) => (signed = tx),
      })
      // The id first, on stderr (stdout stays the result): a timeout or ^C never loses it.
      if (!ctx.json) process.stderr.write(`execution ${toHex(id)} sent; waiting for its result (later: xsc exec status ${toHex(id)})\n`)
      const bar = createProgressBar({ label: 'exec', enabled: interactive })
      let done
      let plaintextOutput: Uint8Array | undefined
      try {
        await waitForTransaction(client, { id, tx: signed!, timeoutMs, pollMs: 200, onPoll: (h) => bar.update(0, 3, `waiting to be scheduled (head ${h})`) })
        const onProgress = (ex: ExecutionView | null) => ex && bar.update(ex.completion ? 3 : 1, 3, ex.completion ? 'settled' : `assigned to ${ex.record.assignment.length} host(s), waiting for receipts`)
        if (executionKey) {
          const privateDone = await waitForPrivateExecution(client, { id, key: executionKey, account, timeoutMs, onProgress })
          done = privateDone
          plaintextOutput = privateDone.plaintextOutput
        } else {
          done = await waitForExecution(client, { id, timeoutMs, pollMs: 200, onProgress })
        }
      } finally {
        bar.done()
      }
      const c = done.completion.entry
      const out: ExecResult = {
        executionId: toHex(id),
        asset: toHex(asset),
        fn,
        status: c.status === COMPLETION_STATUS.agreed ? 'agreed' : 'failed',
        outcome: nameOf(OUTCOME, c.outcome),
        output: describeOutput(plaintextOutput ?? c.output),
        fuelUsed: c.fuelUsed,
        fuelLimit,
        escrow: done.record.escrow,
        refund: c.refund,
        cost: done.record.escrow - c.refund,
        fee: signed!.body.fee,
        payouts: c.payouts.map((p) => ({ to: toHex(p.to), amount: p.amount })),
        hosts: done.record.assignment.map(toHex),
        block: { height: done.completion.block.height, hash: toHex(done.completion.block.hash) },
      }
      return out
    })
    if ('dryRun' in result) {
      const o = result.output
      print(ctx, result, [
        `dry run of ${result.fn} on the node's state: ${result.outcome}; nothing sent, nothing paid`,
        `output    ${o.hex}${o.utf8 !== null ? `  "${o.utf8}"` : ''}${o.u32 !== null ? `  u32 ${o.u32}` : ''}`,
        `fuel      ${result.fuelUsed} of ${result.fuelLimit}`,
        `cost      at most ${result.cost} at this fuel (escrow locked: ${result.escrow}) + fee ${result.fee}`,
      ].join('\n'))
      return
    }
    if (result.status === 'failed') {
      throw new CommandError('EXECUTION_FAILED', `execution ${result.executionId} failed: fewer than ${quorum} of ${replicas} hosts agreed before the deadline; escrow refunded (${result.refund})`,
        'retry with fewer --replicas or a lower --quorum, a longer --deadline-slots, or a higher --bid', { ...result, status: nameOf(EXECUTION_STATUS, EXECUTION_STATUS.failed) })
    }
    const o = result.output
    print(ctx, result, [
      `execution ${result.executionId}: ${result.outcome} (block ${result.block.height})`,
      `output    ${o.hex}${o.utf8 !== null ? `  "${o.utf8}"` : ''}${o.u32 !== null ? `  u32 ${o.u32}` : ''}`,
      `fuel      ${result.fuelUsed} of ${result.fuelLimit}`,
      `cost      ${result.cost} (escrow ${result.escrow} − refund ${result.refund}) + fee ${result.fee}`,
      `hosts     ${result.hosts.join(', ')}`,
      ...result.payouts.map((p) => `paid      ${p.amount} → ${p.to}`),
    ].join('\n'))
  },
}
