import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs'

import { ASSET_KIND, type AssetKind, CAPABILITY, type Manifest, type SignedTx } from '../../../blocks/schema.ts'
import { type Client, deploy, estimateFee, getAsset, getBalance, getChainParams, prepareBlobStream, type StreamedBytes, waitForTransaction } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { readKeyFile } from '../../node/keyFile.ts'
import type { AssetInfo } from '../../rpc/backend.ts'
import { codingParamsOf, computeManifest } from '../../storage/encodeAsset.ts'
import { type Command, parseCommandArgs, print, required } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { checkDeployable } from './exec.ts'
import { filterEligibleHosts, listHosts } from './listHosts.ts'
import { parseAmount, parseCoord, parseFee, parseTimeoutMs, senderOptions, withClient } from './parseOptions.ts'
import { filterAllowedZones, parsePlacementFlags, PLACEMENT_FLAG_OPTIONS } from './parsePlacementFlags.ts'
import { createProgressBar, isInteractive } from './progressBar.ts'

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d]

/** A file's asset kind from its header: core module (version 1), component (layer 1), else a blob. */
export function detectAssetKind(bytes: Uint8Array): AssetKind {
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) return 'blob'
  const version = bytes[4]! | (bytes[5]! << 8)
  const layer = bytes[6]! | (bytes[7]! << 8)
  if (version === 1 && layer === 0) return 'module'
  if (layer === 1) return 'component'
  return 'blob'
}

/** Rent epochs the default deposit covers at the bid. */
const DEFAULT_DEPOSIT_EPOCHS = 10n

/** Deposit covering `epochs` of rent at `bid` per byte-epoch for every shard of the manifest. */
export function computeDefaultDeposit(manifest: Manifest, bid: bigint, epochs = DEFAULT_DEPOSIT_EPOCHS): bigint {
  return bid * manifest.shardSize * BigInt(manifest.k + manifest.m) * epochs
}

export interface DeployResult {
  assetId: string
  kind: AssetKind
  /** The file's size; `storedSize` is what hosts hold (larger by the encryption header and tags). */
  size: number
  /** Encrypted at rest with a key derived from the owner's key (blobs unless --public). */
  encrypted: boolean
  storedSize: number
  manifest: Manifest
  deposit: bigint
  bidPerByteEpoch: bigint
  /** With --wait: where the deployment landed and its shards. */
  block: { height: number; hash: string } | null
  placement: { index: number; host: string; healthy: boolean }[] | null
  /** With --dry-run: nothing was sent; the deploy-time check of the code and what the deploy would cost. */
  dryRun?: { check: string; fee: bigint; total: bigint }
}

/** A deploy tx's encoded size, roughly: the manifest's six shard hashes and chunk roots dominate. */
const DEPLOY_TX_SIZE_ESTIMATE = 1024

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'upload a WASM module, component or blob and deploy it as an asset',
  usage: '<file.wasm|blob> --key FILE [--kind module|component|blob] [--public] [--deposit N] [--bid N] [--origin x,y,z] [--zones a,b] [--strategy balanced|nearest|cheapest|reputation] [--fee N] [--dry-run] [--wait] [--timeout SECONDS] [--skip-host-check] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      ...senderOptions('120'),
      kind: { type: 'string' },
      deposit: { type: 'string' },
      bid: { type: 'string', default: '1' },
      origin: { type: 'string', default: '0,0,0' },
      ...PLACEMENT_FLAG_OPTIONS,
      wait: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'skip-host-check': { type: 'boolean', default: false },
      public: { type: 'boolean', default: false },
    })
    const file = positionals[0]
    if (file === undefined || positionals.length > 1) throw new CliError('USAGE', `give exactly one file to deploy\nusage: xsc deploy ${this.usage}`)
    const keyPath = required(values.key, '--key', this)
    const bid = parseAmount(values.bid, '--bid')
    const fee = parseFee(values.fee)
    const origin = parseCoord(values.origin, '--origin')
    const placement = parsePlacementFlags(values)
    const timeoutMs = parseTimeoutMs(values.timeout)
    const depositFlag = values.deposit !== undefined ? parseAmount(values.deposit, '--deposit') : undefined
    if (values.kind !== undefined && !(values.kind in ASSET_KIND)) throw new CliError('USAGE', `--kind must be module, component or blob, got "${values.kind}"`)
    const fileSize = statFile(file)
    const detected = detectAssetKind(readHead(file))
    const kind = (values.kind as AssetKind | undefined) ?? detected
    if (kind !== 'blob' && detected !== kind) throw new CliError('USAGE', `${file} is not a WASM ${kind} (its header says ${detected}); pass --kind blob to store it as data`)
    const account = readKeyFile(keyPath)
    const interactive = isInteractive(ctx.json)

    const result = await withClient(values.rpc, async (client) => {
      const chain = await getChainParams(client)
      const { params } = chain
      if (kind !== 'blob' && fileSize > params.maxModuleBytes) {
        throw new CommandError('TOO_LARGE', `${file} is ${fileSize} bytes; this chain runs modules up to ${params.maxModuleBytes} bytes`, 'deploy a smaller module, or --kind blob to store it as data', { size: fileSize, max: params.maxModuleBytes })
      }
      // Blobs are encrypted on this machine unless --public; modules and components stay plaintext (hosts run them).
      // Blobs stream from the file (memory stays bounded whatever their size); modules are small and read whole.
      const stored = kind === 'blob'
        ? await prepareBlobStream({ plain: { size: fileSize, open: () => createReadStream(file, { highWaterMark: 1 << 20 }) }, owner: account, public: values.public, coding: codingParamsOf(params) })
        : ((bytes) => ({ bytes, manifest: computeManifest(bytes, codingParamsOf(params)), encrypted: false }))(readAssetFile(file))
      const { manifest } = stored
      const deposit = depositFlag ?? computeDefaultDeposit(manifest, bid)
      const shards = manifest.k + manifest.m
      if (!values['skip-host-check']) {
        const eligible = filterAllowedZones(filterEligibleHosts(await listHosts(client), { capabilities: CAPABILITY.storage, bid, ask: 'byteEpoch', minFreeBytes: manifest.shardSize, storageUtilizationSlopeBp: params.storageUtilizationSlopeBp }), placement.zones)
        if (eligible.length < shards) {
          throw new CommandError('NO_HOSTS', `only ${eligible.length} active storage host(s) with ${manifest.shardSize} bytes free are priced at most ${bid} per byte-epoch (ask raised by network utilization); a deployment needs ${shards} (k=${manifest.k} + m=${manifest.m} shards)`,
            'start more storage hosts (xsc host join, or npm run devnet), or raise --bid above their asks (xsc status lists the hosts)', { eligible: eligible.length, needed: shards, bid })
        }
      }
      const balance = await getBalance(client, { address: account.publicKey })
      if (balance < deposit + (fee ?? 0n)) {
        throw new CommandError('INSUFFICIENT_FUNDS', `the account ${toHex(account.publicKey)} holds ${balance}; the deploy needs deposit ${deposit} + fee ${fee ?? 'estimated'}`, 'fund the account or lower --deposit', { balance, needed: deposit + (fee ?? 0n) })
      }
      if (values['dry-run']) {
        // No tx is signed on a dry run: the fee is the node's suggestion for a deploy-sized tx (about 1 KiB).
        const dryFee = fee ?? (await estimateFee(client, { size: DEPLOY_TX_SIZE_ESTIMATE })).fee
        const check = stored.bytes instanceof Uint8Array ? checkDeployable(stored.bytes, kind) : 'none (data)'
        return { assetId: '(not sent)', kind, size: fileSize, encrypted: stored.encrypted, storedSize: storedSizeOf(stored.bytes), manifest, deposit, bidPerByteEpoch: bid, block: null, placement: null, dryRun: { check, fee: dryFee, total: deposit + dryFee } }
      }
      const bar = createProgressBar({ label: 'upload', enabled: interactive })
      let signed: SignedTx | undefined
      const id = await deploy(client, {
        account, bytes: stored.bytes, manifest, kind, deposit, bidPerByteEpoch: bid, origin, ...placement, fee, chainId: chain.chainId,
        onUploadProgress: (sent, total) => bar.update(sent, total),
        onSigned: (tx) => (signed = tx),
      }).catch((err: unknown) => {
        if (err instanceof RangeError) throw new CommandError('UPLOAD_MISMATCH', 'the node hashed the upload differently from the manifest', 'the file changed during upload or the connection corrupted it; retry')
        throw err
      }).finally(() => bar.done())
      const out: DeployResult = { assetId: toHex(id), kind, size: fileSize, encrypted: stored.encrypted, storedSize: storedSizeOf(stored.bytes), manifest, deposit, bidPerByteEpoch: bid, block: null, placement: null }
      if (!values.wait) return out
      const waitBar = createProgressBar({ label: 'placement', enabled: interactive })
      let included, asset
      try {
        included = await waitForTransaction(client, { id, tx: signed!, timeoutMs, pollMs: 200, onPoll: (h) => waitBar.update(0, shards, `waiting for a deployment block (head ${h})`) })
        asset = await waitForAsset(client, id, timeoutMs)
        waitBar.update(asset.shards.length, shards, `shards placed in block ${included.blockHeight}`)
      } finally {
        waitBar.done()
      }
      out.block = { height: included.blockHeight, hash: toHex(included.blockHash) }
      out.placement = asset.shards.map((s) => ({ index: s.index, host: toHex(s.host), healthy: s.healthy }))
      return out
    })
    const privacy = result.kind !== 'blob' ? '' : result.encrypted ? ', encrypted at rest (read it back with xsc get --key)' : ', public'
    const lines = [`asset ${result.assetId}`, `kind ${result.kind}, ${result.size} bytes, ${result.manifest.k}+${result.manifest.m} shards of ${result.manifest.shardSize} bytes, deposit ${result.deposit}, bid ${result.bidPerByteEpoch}/byte-epoch${privacy}`]
    if (result.dryRun) lines.splice(0, 1, `dry run: nothing sent; code check ${result.dryRun.check}`, `cost ${result.dryRun.total} (deposit ${result.deposit} + fee ${result.dryRun.fee}); fuel: none (a deploy runs no code)`)
    else if (result.block) lines.push(`included in block ${result.block.height} ${result.block.hash}`, ...(result.placement ?? []).map((p) => `  shard ${p.index} → ${p.host}${p.healthy ? '' : ' (unhealthy)'}`))
    else lines.push('sent; follow it with xsc asset ' + result.assetId + ' (or pass --wait)')
    print(ctx, result, lines.join('\n'))
  },
}

const storedSizeOf = (bytes: Uint8Array | StreamedBytes): number => (bytes instanceof Uint8Array ? bytes.length : bytes.size)

/** The file's size, with the same typed errors as reading it. */
function statFile(file: string): number {
  try {
    const st = statSync(file)
    if (!st.isFile()) throw new CommandError('FILE_NOT_FOUND', `${file} is not a file`, 'pass the path of a .wasm module, component or data file')
    return st.size
  } catch (err) {
    if (err instanceof CommandError) throw err
    throw new CommandError('FILE_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`, 'check the path (relative paths are from the current directory)', { file })
  }
}

/** The first 8 bytes (enough for detectAssetKind). */
function readHead(file: string): Uint8Array {
  const fd = openSync(file, 'r')
  try {
    const head = new Uint8Array(8)
    return head.subarray(0, readSync(fd, head, 0, 8, 0))
  } finally {
    closeSync(fd)
  }
}

function readAssetFile(file: string): Uint8Array {
  try {
    if (!statSync(file).isFile()) throw new CommandError('FILE_NOT_FOUND', `${file} is not a file`, 'pass the path of a .wasm module, component or data file')
    return new Uint8Array(readFileSync(file))
  } catch (err) {
    if (err instanceof CommandError) throw err
    throw new CommandError('FILE_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`, 'check the path (relative paths are from the current directory)', { file })
  }
}

/** The asset record appears with the deployment block; the node may serve the tx a moment before its state. */
async function waitForAsset(client: Client, id: Uint8Array, timeoutMs: number): Promise<AssetInfo> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const a = await getAsset(client, { id })
    if (a !== null) return a
    if (Date.now() > end) throw new CommandError('NOT_FOUND', 'the deploy tx is in a block but the node shows no asset for it', 'check xsc asset ' + toHex(id) + ' in a moment')
    await new Promise((r) => setTimeout(r, 200))
  }
}
