import { decode, encode } from '../../blocks/codec.ts'
import { txId } from '../../blocks/ids.ts'
import { type Block, Offence, type Receipt, ReceiptGossip } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { ReceiptError } from '../chain/errors.ts'
import { toHex } from '../crypto/index.ts'
import { type NetNode, putShard, requestAudit } from '../net/index.ts'
import { AUDIT_GRACE_BLOCKS } from '../state/storage/computeAuditEntry.ts'
import { codingParamsOf, encodeAsset } from '../storage/encodeAsset.ts'
import type { BlobStore } from './blobStore.ts'
import type { HostDirectory } from './hostDirectory.ts'
import type { Logger } from './logger.ts'

export interface StorageCoordinatorModules { chain: Chain; net: NetNode; blobs: BlobStore; hosts: HostDirectory; log: Logger }

const AUDIT_TIMEOUT_MS = 2_000
/** Retries (100 ms doubling to 1 s) go on while the audit grace lasts: AUDIT_GRACE_BLOCKS slots, at least 9.5 s (a loaded host imports late). */
const HANDOFF_MIN_MS = 9_500

/**
 * The validator's side of storage and compute: hands the shards of a blob it received to the
 * hosts a deployment placed them on, asks hosts for audit chunks when it proposes an audit
 * block, and takes the receipts hosts gossip into the chain's receipt pool.
 */
export class StorageCoordinator {
  readonly #m: StorageCoordinatorModules

  constructor(modules: StorageCoordinatorModules) {
    this.#m = modules
    const { chain, net, hosts, log } = modules
    chain.on('block', ({ block }) => void this.#onBlock(block))
    chain.setAuditResponder(async (challenges) => {
      const answers = new Map()
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
  }

  /** Validates a gossiped receipt by admitting it to the pool: duplicates and late ones are ignored, forged ones rejected. */
  acceptReceipt(bytes: Uint8Array): 'accept' | 'reject' | 'ignore' {
    let msg: ReceiptGossip
    try {
      msg = decode(ReceiptGossip, bytes)
    } catch {
      return 'reject'
    }
    try {
      this.#m.chain.submitReceipt(msg.receipt, msg.writeSet)
      return 'accept'
    } catch (err) {
      if (err instanceof ReceiptError && err.code === 'SETTLED') this.#offerLateReceipt(msg.receipt)
      if (err instanceof ReceiptError && (err.code === 'DUPLICATE' || err.code === 'SETTLED' || err.code === 'UNKNOWN_EXECUTION')) return 'ignore'
      return 'reject'
    }
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

  async #onBlock(block: Block): Promise<void> {
    for (const entry of block.entries) {
      if (entry.type !== 'deployment' || entry.tx.body.payload.type !== 'deploy') continue
      const { manifest } = entry.tx.body.payload
      const data = this.#m.blobs.get(manifest.dataHash)
      if (data === undefined) continue
      const { shards } = encodeAsset(data, codingParamsOf(this.#m.chain.genesis.params))
      const asset = txId(entry.tx)
      const handoffEnd = Date.now() + Math.max(HANDOFF_MIN_MS, AUDIT_GRACE_BLOCKS * this.#m.chain.genesis.slotMs)
      await Promise.all(entry.placement.map(async (host, i) => {
        // A host refuses a shard until it has imported the deployment block itself: retry
        // briefly (a few slots), then leave the shard to the audit and repair path.
        for (let wait = 100; ; wait = Math.min(2 * wait, 1_000)) {
          try {
            const peer = await this.#m.hosts.peerOf(host)
            await putShard(this.#m.net, peer, { asset, shardIndex: i, data: shards[i]! })
            return
          } catch (err) {
            if (Date.now() + wait > handoffEnd) {
              this.#m.log.warn({ host: toHex(host), shard: i, err: (err as Error).message }, 'shard hand-off failed (audits will repair it)')
              return
            }
            await new Promise((r) => setTimeout(r, wait))
          }
        }
      }))
      this.#m.log.info({ asset: toHex(asset), shards: shards.length }, 'shards handed to hosts')
    }
  }
}
