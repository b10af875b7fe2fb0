import { rmSync } from 'node:fs'
import { join } from 'node:path'

import { encode } from '../../blocks/codec.ts'
import { txId } from '../../blocks/ids.ts'
import { type Block, Manifest, Offence, type Receipt, type ReceiptGossip, type StorageAck } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { ReceiptError } from '../chain/errors.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import { isNetError, type NetNode, putShard, requestAudit, requestStorageAck, type ValidationResult } from '../net/index.ts'
import { ASSET_STATUS } from '../state/records.ts'
import { readRow, TABLES } from '../state/tables.ts'
import { codingParamsOf } from '../storage/encodeAsset.ts'
import { encodeFileToShards, readFileReusing, type ShardFiles } from '../storage/encodeFileToShards.ts'
import type { BlobStore } from './blobStore.ts'
import type { HostDirectory } from './hostDirectory.ts'
import type { Logger } from './logger.ts'
import { admitReceiptBatch, decodeReceiptBatch } from './network/receiptGossipBatch.ts'

export interface StorageCoordinatorModules {
  chain: Chain
  net: NetNode
  blobs: BlobStore
  hosts: HostDirectory
  log: Logger
  /** Scratch directory for shard files during hand-off (about 1.5× the blob while it runs). */
  handoffDir: string
}

const AUDIT_TIMEOUT_MS = 2_000
/** Short: acks are asked at every proposal while a placement waits, and a host without the shard answers at once. */
const ACK_TIMEOUT_MS = 1_000
/** Shards from this size on are handed off a few at a time (see #transferSlot). */
const LARGE_SHARD_BYTES = 16 * 1024 * 1024
/**
 * Large transfers at once: a blob's k+m shards in the default 4+2. Each is bounded now (the
 * sender waits for drain, the host pauses past 4 MiB unread, windows stop at 4 MiB: a few MiB
 * per transfer on the validator), and each goes at its host's store pace (~40 MiB/s of CPU per
 * host, scripts/bench/shardStoreWrite.ts), so two at a time left four hosts idle: 3.4 MiB/s in
 * total at 1 GiB (session 8).
 */
const LARGE_TRANSFERS = 6

/** Waits for `work` at most `ms` (what it filled in by then is what the caller gets). */
async function withinMs(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([work, new Promise<void>((r) => { timer = setTimeout(r, ms) })])
  clearTimeout(timer)
}

/**
 * The validator's side of storage and compute: hands the shards of a blob it received to the
 * hosts a deployment placed them on, asks hosts for audit chunks when it proposes an audit
 * block, and takes the receipts hosts gossip into the chain's receipt pool.
 */
export class StorageCoordinator {
  readonly #m: StorageCoordinatorModules
  #largeInFlight = 0
  readonly #waiting: (() => void)[] = []

  constructor(modules: StorageCoordinatorModules) {
    this.#m = modules
    // Shard files of a hand-off cut off by a restart (the blob itself stays, the hand-off is not resumed).
    rmSync(modules.handoffDir, { recursive: true, force: true })
    const { chain, net, hosts, log } = modules
    chain.on('block', ({ block }) => void this.#onBlock(block))
    chain.setAuditResponder(async (challenges) => {
      const answers = new Map()
      // Not cut short as a whole: an unanswered challenge counts against its host, and under load
      // answers come late (a 2 s bound on the whole gathering disqualified two live hosts in a
      // loaded bench run). The audit height's longer propose timeout (consensusDriver.ts) leaves room.
      await Promise.all(challenges.map(async (c) => {
        try {
          const peer = await hosts.peerOf(c.host)
          answers.set(c, await requestAudit(net, peer, { asset: c.asset, shardIndex: c.shardIndex, chunkIndex: c.chunkIndex }, { timeoutMs: AUDIT_TIMEOUT_MS }))
        } catch (err) {
          log.debug({ host: toHex(c.host), err: (err as Error).message }, 'audit challenge unanswered')
        }
      }))
      return answers
    })
    chain.setStorageAckResponder(async (requests) => {
      const acks: StorageAck[] = []
      await withinMs(ACK_TIMEOUT_MS, Promise.all(requests.map(async (r) => {
        try {
          const peer = await hosts.peerOf(r.host)
          acks.push(await requestStorageAck(net, peer, { asset: r.asset, shardIndex: r.shardIndex }, { timeoutMs: ACK_TIMEOUT_MS }))
        } catch (err) {
          log.debug({ host: toHex(r.host), err: (err as Error).message }, 'storage ack not given (yet)')
        }
      })))
      return acks.slice()
    })
  }

  /**
   * Validates a gossiped (or pushed) batch of receipts by admitting each to the pool
   * (receiptGossipBatch.ts): duplicates and late ones are ignored, a forged one rejects the batch.
   * `onUnknown` is offered each receipt whose execution this node does not know yet (pushed ones are held for the next blocks: earlyReceipts.ts).
   */
  acceptReceipts(bytes: Uint8Array, onUnknown?: (msg: ReceiptGossip) => void): ValidationResult {
    let batch: ReceiptGossip[]
    try {
      batch = decodeReceiptBatch(bytes)
    } catch {
      return 'reject'
    }
    const submit = (msg: ReceiptGossip): void => {
      try {
        this.#m.chain.submitReceipt(msg.receipt, msg.writeSet)
      } catch (err) {
        if (err instanceof ReceiptError && err.code === 'UNKNOWN_EXECUTION') onUnknown?.(msg)
        throw err
      }
    }
    return admitReceiptBatch(batch, submit, (receipt) => this.#offerLateReceipt(receipt))
  }

  /**
   * A receipt that arrives after its execution settled is still signed: if it contradicts the
   * agreed result it is evidence against its host (held, gossiped, slashed by a later block).
   * One that agrees, or cannot be judged, is dropped quietly.
   */
  #offerLateReceipt(receipt: Receipt): void {
    const offence: Offence = { type: 'contradictingReceipt', receipt }
    try {
      if (this.#m.chain.submitEvidence(offence)) this.#m.net.publish('evidence', encode(Offence, offence)).catch(() => undefined)
    } catch {
      // Not an offence (it agrees, or the execution is unknown here): nothing to do.
    }
  }

  /**
   * Large shards go out at most LARGE_TRANSFERS at a time (session 7, before backpressure: six
   * unbounded GiB streams at once starved the validator's event loop and the hosts it fed banned
   * it for not answering range sync). Small shards go at once.
   */
  async #transferSlot<T>(size: number, run: () => Promise<T>): Promise<T> {
    if (size < LARGE_SHARD_BYTES) return run()
    while (this.#largeInFlight >= LARGE_TRANSFERS) await new Promise<void>((r) => this.#waiting.push(r))
    this.#largeInFlight++
    try {
      return await run()
    } finally {
      this.#largeInFlight--
      this.#waiting.shift()?.()
    }
  }

  /** Whether a placement still waits for its hosts' acks (hand-off is worth retrying). */
  #stillPlacing(asset: Uint8Array): boolean {
    return readRow(this.#m.chain.store.state, TABLES.asset.at(asset))?.status === ASSET_STATUS.placing
  }

  async #onBlock(block: Block): Promise<void> {
    for (const entry of block.entries) {
      if (entry.type !== 'deployment' || entry.tx.body.payload.type !== 'deploy') continue
      const { manifest } = entry.tx.body.payload
      // Named by a deployment: no longer counted against its uploader's quota, never swept.
      this.#m.blobs.markReferenced(manifest.dataHash)
      const source = this.#m.blobs.pathOf(manifest.dataHash)
      if (source === undefined) continue
      const asset = txId(entry.tx)
      // Coded from the blob file into one file per shard (bounded memory whatever the size), then
      // each shard file streams to its host; the files go once every hand-off ended.
      let shards: ShardFiles
      const codingStartMs = performance.now()
      try {
        // No chunk roots: most of the coding's CPU at 256-byte chunks, and every host checks its
        // shard's root before storing it; the shard hashes already pin the blob to the deployment.
        shards = await encodeFileToShards(source, join(this.#m.handoffDir, toHex(asset).slice(2)), codingParamsOf(this.#m.chain.genesis.params), { chunkRoots: false })
      } catch (err) {
        this.#m.log.warn({ asset: toHex(asset), err: (err as Error).message }, 'blob could not be coded for hand-off')
        continue
      }
      if (!equalBytes(encode(Manifest, shards.manifest), encode(Manifest, { ...manifest, chunkRoots: [] }))) {
        this.#m.log.warn({ asset: toHex(asset) }, 'stored blob codes to another manifest than the deployment names: not handed off')
        await shards.remove()
        continue
      }
      const codedMs = performance.now()
      this.#m.log.info({ asset: toHex(asset), bytes: Number(manifest.size), ms: Math.round(codedMs - codingStartMs) }, 'blob coded for hand-off')
      await Promise.all(entry.placement.map(async (host, i) => {
        // A host refuses a shard until it has imported the deployment block itself (a round or so
        // after us): retry soon, backing off to 1 s, while the placement still waits for acks.
        for (let attempt = 0, wait = 25; ; attempt++, wait = Math.min(2 * wait, 1_000)) {
          try {
            const peer = await this.#m.hosts.peerOf(host)
            const size = Number(manifest.shardSize)
            await this.#transferSlot(size, () => putShard(this.#m.net, peer, { asset, shardIndex: i, shardHash: manifest.shardHashes[i]!, size, body: readFileReusing(shards.paths[i]!, 1 << 20) }))
            return
          } catch (err) {
            // A stalled transfer (the no-progress watchdog) is logged with its stream's windows: the evidence for why it stopped.
            if (isNetError(err, 'STALLED')) this.#m.log.warn({ host: toHex(host), shard: i, attempt: attempt + 1, ...err.details }, 'shard hand-off stalled: retrying')
            // A refusal until the host has imported the deployment is expected; any other failure of a started transfer is worth seeing.
            else if (!(isNetError(err, 'REMOTE_ERROR') && err.details.remoteCode === 'NOT_FOUND')) this.#m.log.warn({ host: toHex(host), shard: i, attempt: attempt + 1, code: (err as { code?: string }).code, err: (err as Error).message }, 'shard hand-off attempt failed: retrying')
            if (!this.#stillPlacing(asset)) {
              this.#m.log.warn({ host: toHex(host), shard: i, attempts: attempt + 1, err: (err as Error).message }, 'shard hand-off failed before the ack deadline')
              return
            }
            await new Promise((r) => setTimeout(r, wait))
          }
        }
      }))
      await shards.remove()
      this.#m.log.info({ asset: toHex(asset), shards: shards.paths.length, shardBytes: Number(manifest.shardSize) * shards.paths.length, ms: Math.round(performance.now() - codedMs) }, 'shards handed to hosts')
    }
  }
}
