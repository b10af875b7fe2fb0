import type { Address, GenesisConfig, Hash, SignedTx } from '../../../blocks/schema.ts'
import type { BlockContext } from '../../../consensus/sealBlock.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import type { SpacePlot } from '../../../consensus/space.ts'
import type { KeyPair } from '../../crypto/index.ts'
import type { HostIndex } from '../../router/index.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import { computeTouchedKeys } from '../../state/stateTree/computeTouchedKeys.ts'
import type { ChainStore } from '../chainStore.ts'
import type { PreparedProposal } from '../chainTypes.ts'
import type { EvidencePool } from '../evidencePool.ts'
import type { Mempool } from '../mempool.ts'
import type { ReceiptPool } from '../receiptPool.ts'
import type { HeartbeatPool } from './buildLivenessEntry.ts'
import { chooseEntries } from './chooseEntries.ts'
import { buildBlock, type BuiltBlock, computeBlockTimestamp, computeProposalContext } from './produceBlock.ts'
import { ProposerBeacon } from './ProposerBeacon.ts'

/** What building a block on the head reads and uses: the chain's store, pools and proposer state. */
export interface BuildOnHeadModules {
  store: ChainStore
  genesis: GenesisConfig
  mempool: Mempool
  receipts: ReceiptPool
  evidence: EvidencePool
  heartbeats: HeartbeatPool
  hostIndex: HostIndex
  /** This validator's beacon chain (undefined: a fresh one per block, tests). */
  beacon: ProposerBeacon | undefined
  plot: SpacePlot | undefined
  maxTxs: number
  blockContext(): BlockContext
  submitTx(tx: SignedTx): Promise<Hash>
  nextNonce(address: Address): Promise<number>
  nextBaseFee(): bigint
  onBuildError(err: unknown): void
}

export interface BuildOnHeadInput {
  slot: number
  nowMs: number
  key: KeyPair
  prepared: PreparedProposal | undefined
  round: number
  /** Undefined instead of a block that would carry nothing but heartbeats. */
  onlyWithEntries: boolean
}

/**
 * Chooses the entries and seals a block for `slot` on the head (timestamp within the proof
 * schemes' drift of the slot start); undefined when `onlyWithEntries` and nothing but heartbeats was chosen.
 */
export async function buildOnHead(m: BuildOnHeadModules, { slot, nowMs, key, prepared, round, onlyWithEntries }: BuildOnHeadInput): Promise<BuiltBlock | undefined> {
  const { store, genesis } = m
  const head = store.head
  const state = store.state
  const slotStart = Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
  const timestampMs = Math.min(Math.max(nowMs, slotStart), slotStart + genesis.consensus.driftMs)
  // Receipts come from the pool, which verified each on admission: not verified again while choosing and sealing.
  const ctx: ApplyContext = { ...computeProposalContext(genesis, head, state, slot, computeBlockTimestamp(genesis, slot, timestampMs), key.publicKey, m.hostIndex), receiptChecked: (receipt) => m.receipts.hasChecked(receipt) }
  await commitBeaconIfNeeded(m, key)
  // The accounts the pool's txs name are loaded, so choosing rarely misses; a run that misses
  // anyway (a completion's client, say) is repeated, and only its final run's drops count.
  await store.values.load(computeTouchedKeys(m.mempool.pending().map((tx) => ({ type: 'tx', tx })), key.publicKey))
  let drops: Parameters<Mempool['drop']>[] = []
  const mempool = { select: m.mempool.select.bind(m.mempool), isPendingDeploy: m.mempool.isPendingDeploy.bind(m.mempool), drop: (...args: Parameters<Mempool['drop']>) => void drops.push(args) }
  // The entries are tried on the block's own transition (reveal included): sealing only finishes it.
  const beaconReveal = (m.beacon ?? new ProposerBeacon(key)).nextReveal(state, genesis.params.beaconChainLength)
  const chosen = await store.withLoaded(() => {
    drops = []
    return chooseEntries({ state, ctx, mempool, receipts: m.receipts, evidence: m.evidence, maxTxs: m.maxTxs, auditAnswers: prepared?.auditAnswers, storageAcks: prepared?.storageAcks, heartbeats: m.heartbeats, beaconReveal })
  })
  for (const args of drops) m.mempool.drop(...args)
  if (onlyWithEntries && chosen.entries.every((e) => e.type === 'liveness')) return undefined
  const seal = { ...m.blockContext(), secretKey: key.secretKey, ...(m.plot ? { plot: m.plot } : {}) }
  await store.load(computeTouchedKeys(chosen.entries, key.publicKey))
  let buildErrors: unknown[] = []
  const built = await store.withLoaded(() => {
    buildErrors = []
    return buildBlock({ genesis, head, state, ctx, nowMs: timestampMs, chosen, seal, round, beaconReveal, onBuildError: (err) => void buildErrors.push(err) })
  })
  for (const err of buildErrors) m.onBuildError(err)
  return built
}

/** A validator without a live beacon chain commits to a new one in its own next block (ProposerBeacon.commitmentTx). */
async function commitBeaconIfNeeded(m: BuildOnHeadModules, key: KeyPair): Promise<void> {
  const beacon = m.beacon ?? new ProposerBeacon(key)
  const tx = beacon.commitmentTx(m.store.state, m.genesis, {
    nonce: await m.nextNonce(key.publicKey),
    feePerByte: 2n * m.nextBaseFee() + m.genesis.params.minFeePerByte,
    isPending: (id) => m.mempool.has(id),
  })
  if (tx === undefined) return
  try {
    await m.submitTx(tx)
  } catch (err) {
    // Already pending (a round that did not commit), or unaffordable: the block goes on without it.
    m.onBuildError(err)
  }
}
