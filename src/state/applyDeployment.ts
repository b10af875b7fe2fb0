import { txId } from '../../blocks/ids.ts'
import { type Address, ASSET_KIND, type DeploymentEntry, type DeployPayload } from '../../blocks/schema.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import { computeDeploymentRequest, findPlacementConstraintError, route } from '../router/index.ts'
import { debit } from './accounts.ts'
import type { ApplyContext } from './applyContext.ts'
import { beginTx } from './applyLedger.ts'
import { StateError } from './errors.ts'
import { readHost } from './hosts.ts'
import { ASSET_STATUS } from './records.ts'
import { computeRouteSeed } from './routeSeed.ts'
import type { StateOverlay } from './stateView.ts'
import { verifyManifestShape } from './storage/computeChunkLeaves.ts'
import { computeShardRates } from './storage/computeStorageRent.ts'
import { enqueuePlacement } from './storage/placementQueue.ts'
import { writeAssetRecord } from './storage/repairQueue.ts'
import { TABLES } from './tables.ts'


/** The placement a deploy tx gets: k+m distinct storage hosts by the router, seeded by the parent state's beacon mix and the tx id. */
export function computePlacement(payload: DeployPayload, id: Uint8Array, ctx: ApplyContext): Address[] {
  if (!ctx.hostIndex) throw new StateError('UNSUPPORTED', 'deployment needs the host index')
  return route(computeDeploymentRequest(payload), ctx.hostIndex, computeRouteSeed(ctx.beaconMix, id))
}

/** Checks a deploy payload against the chain's parameters; throws INVALID_TX naming the field. */
export function checkDeployPayload(p: DeployPayload, ctx: ApplyContext): void {
  const params = ctx.genesis.params
  const bad = (field: string, why: string): never => {
    throw new StateError('INVALID_TX', `deploy: ${field} ${why}`, { field })
  }
  if (!Object.values(ASSET_KIND).includes(p.assetKind as 0)) bad('assetKind', `must be one of ${Object.values(ASSET_KIND).join(', ')}`)
  const m = p.manifest
  if (m.k !== params.dataShards || m.m !== params.parityShards) bad('manifest.k/m', `must be ${params.dataShards}+${params.parityShards}`)
  if (m.chunkSize !== params.chunkSize) bad('manifest.chunkSize', `must be ${params.chunkSize}`)
  if (m.segmentSize !== params.segmentSize) bad('manifest.segmentSize', `must be ${params.segmentSize}`)
  if (p.assetKind !== ASSET_KIND.blob && m.size > BigInt(params.maxModuleBytes)) bad('manifest.size', `exceeds maxModuleBytes ${params.maxModuleBytes}`)
  const why = findPlacementConstraintError(p)
  if (why !== undefined) bad(why.field, why.reason)
  try {
    verifyManifestShape(m)
  } catch (cause) {
    throw new StateError('INVALID_TX', `deploy: manifest is inconsistent: ${(cause as Error).message}`, { field: 'manifest' }, { cause })
  }
}

/**
 * The deposit must pay minStorageEpochs epochs of storage at the placement's rates (each shard at
 * min(its host's ask, the bid), as rent charges): a deploy cannot occupy hosts for free.
 */
function checkMinimumDeposit(state: StateOverlay, payload: DeployPayload, placement: readonly Address[], ctx: ApplyContext): void {
  const asks = (host: Address): bigint | undefined => readHost(state, host)?.params.askPerByteEpoch
  const rates = computeShardRates({ placement, bidPerByteEpoch: payload.bidPerByteEpoch }, asks)
  const perEpoch = rates.reduce((sum, r) => sum + r * payload.manifest.shardSize, 0n)
  const needed = perEpoch * BigInt(ctx.genesis.params.minStorageEpochs)
  if (payload.deposit < needed) {
    throw new StateError('INVALID_TX', `deploy: deposit ${payload.deposit} is below ${ctx.genesis.params.minStorageEpochs} epochs of storage (${needed})`, { field: 'deposit' })
  }
}

/**
 * A deployment: the deployer pays the fee and locks the storage deposit; the placement must be
 * exactly the router's answer (validators recompute it); each placed host accounts a shard.
 */
export function applyDeployment(state: StateOverlay, entry: DeploymentEntry, ctx: ApplyContext): void {
  const { tx } = entry
  if (tx.body.payload.type !== 'deploy') throw new StateError('WRONG_ENTRY_KIND', `a deployment entry carries a ${tx.body.payload.type} tx`)
  const payload = tx.body.payload
  checkDeployPayload(payload, ctx)
  const s = beginTx(state, tx, ctx)
  const id = txId(tx)
  const expected = computePlacement(payload, id, ctx)
  const shards = payload.manifest.k + payload.manifest.m
  if (expected.length < shards) throw new StateError('INVALID_TX', `only ${expected.length} eligible storage hosts for ${shards} shards at this bid`, { needed: shards, found: expected.length })
  if (entry.placement.length !== expected.length || entry.placement.some((h, i) => !equalBytes(h, expected[i]!))) {
    throw new StateError('ENTRY_MISMATCH', 'placement differs from the router', { field: 'placement', got: entry.placement.map(toHex), expected: expected.map(toHex) })
  }
  if (s.read(TABLES.asset.at(id)) !== undefined) throw new StateError('INVALID_TX', 'asset already exists')
  checkMinimumDeposit(s, payload, expected, ctx)
  debit(s, tx.body.from, payload.deposit)
  for (const host of expected) {
    const h = readHost(s, host)!
    s.write(TABLES.host.at(host), { ...h, usedBytes: h.usedBytes + payload.manifest.shardSize })
  }
  writeAssetRecord(s, id, {
    owner: tx.body.from,
    kind: payload.assetKind,
    manifest: payload.manifest,
    placement: expected,
    shardFailures: expected.map(() => 0),
    deposit: payload.deposit,
    bidPerByteEpoch: payload.bidPerByteEpoch,
    createdHeight: ctx.height,
    // Active (audited, paid) only once its hosts acknowledged their shards (applyStorageAck.ts).
    status: ASSET_STATUS.placing,
    exhaustedEpoch: undefined,
    zones: payload.zones,
    rentEpoch: undefined,
    acked: expected.map(() => 0),
    ackDeadline: ctx.height + ctx.genesis.params.storageAckBlocks,
  })
  enqueuePlacement(s, id)
  s.mergeInto(state)
}
