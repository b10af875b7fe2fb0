import { decode } from '../../../blocks/codec.ts'
import { XscError } from '../../../blocks/errors.ts'
import { blockHash } from '../../../blocks/ids.ts'
import { Block, type Hash } from '../../../blocks/schema.ts'
import type { Commit } from '../../../consensus/bft/messages.ts'
import { verifyCommit } from '../../../consensus/bft/verifyCommit.ts'
import { computeInitialPriorities, computeNextHeightPriorities, type ProposerPriorityState } from '../../../consensus/proposerPriority.ts'
import { computeValidatorSet, type ValidatorStake } from '../../../consensus/validatorSet.ts'
import type { Chain } from '../../chain/chain.ts'
import type { ChainStore } from '../../chain/chainStore.ts'
import { equalBytes, toHex } from '../../crypto/index.ts'
import {
  type NetNode, PeerRateLimit, requestStateChunk, requestStateSnapshot, SCORE_THRESHOLDS, serveStateSync, type StateSnapshot, SYNC_PENALTY,
} from '../../net/index.ts'
import {
  bigIntToPath, type BoundaryNode, computeStateChunk, decodeTreeNode, MAX_PATH, pathToBigInt, resolveBoundaryNodes, type StateChunk,
  unresolvedChildren, verifyStateChunk,
} from '../../state/stateTree/index.ts'
import { idOfKey, isKeyOf, scanRows, TABLES } from '../../state/tables.ts'
import type { Logger } from '../logger.ts'

/**
 * State sync (CometBFT's, on our state tree): a new node takes a finalized block it can trust
 * (by the hash the operator gives, or by a commit of the genesis validators), downloads that
 * block's state as chunks with range proofs from several peers at once (each chunk checked
 * against the block's state root before it is written; a peer whose chunk fails is scored down
 * and dropped, the chunk asked elsewhere), then makes the block its head and earliest block and
 * follows the chain by range sync. Serving: every networked node answers for the finalized
 * heights it holds (tree nodes are never deleted, so any committed root).
 */

export type StateSyncErrorPayloads = {
  /** The block peers hold at the trust height is not the one the operator trusts. */
  TRUST_HASH_MISMATCH: { height: number; trusted: string; offered: string[] }
  /** No peer offered a snapshot that could be trusted (none answered, or none verified). */
  NO_SNAPSHOT: { height: number }
  /** Without a trust hash, the synced state's validators must be the genesis ones. */
  NEEDS_TRUST_HASH: { height: number }
  /** Every peer failed or was dropped before the state was complete. */
  NO_PEERS: { remainingRanges: number }
  /** The synced state is whole but does not agree with the snapshot (its commit or priorities). */
  BAD_SNAPSHOT: { reason: string }
  RATE_LIMITED: {}
  BAD_REQUEST: {}
}
export class StateSyncError extends XscError<StateSyncErrorPayloads> {}

/**
 * A chunk that fails its range proof against a root from a trusted header is a lie, never a
 * slow link or a different view: the peer goes below the graylist threshold (hung up on, banned).
 */
const BAD_CHUNK_PENALTY = 2 * SCORE_THRESHOLDS.graylistThreshold

/** Requests per second a peer may make of the state-sync protocols (bursts of twice that). */
const SERVE_PER_SECOND = 20
/** Proposer priorities kept for recent heights (the state does not hold them). */
const RECENT_PRIORITIES = 1_024
/** The longest validator-set history replayed to compute an older height's priorities. */
const MAX_PRIORITY_REPLAY = 100_000
/**
 * Replays are the one request whose cost a stranger chooses (one read per height replayed), so
 * the node runs at most one at a time and starts at most one per interval, whoever asks; a peer
 * asking for an old height meanwhile gets "not available" and can ask another node.
 */
const REPLAY_INTERVAL_MS = 10_000

/** Serves state snapshots and chunks of the finalized heights this node holds. */
export class StateSyncServer {
  readonly #chain: Chain
  readonly #cap: PeerRateLimit
  /** height → the proposer priorities of that height. */
  readonly #priorities = new Map<number, ProposerPriorityState>()
  readonly #now: () => number
  #replaying = false
  #lastReplayAt = -Infinity

  constructor(chain: Chain, opts: { now?: () => number } = {}) {
    this.#chain = chain
    this.#now = opts.now ?? Date.now
    this.#cap = new PeerRateLimit({ perSecond: () => SERVE_PER_SECOND, burst: () => 2 * SERVE_PER_SECOND, ...(opts.now ? { now: opts.now } : {}) })
    this.#remember()
    chain.on('block', () => this.#remember())
  }

  #remember(): void {
    this.#priorities.set(this.#chain.head.height + 1, this.#chain.priorities())
    if (this.#priorities.size > RECENT_PRIORITIES) this.#priorities.delete(this.#priorities.keys().next().value as number)
  }

  async start(net: NetNode): Promise<void> {
    await serveStateSync(net, {
      snapshot: async (req, peer) => {
        this.#take(peer)
        return this.snapshot(req.height === 0 ? this.#chain.store.finalized.height : req.height)
      },
      chunk: async (req, peer) => {
        this.#take(peer)
        const start = pathToBigInt(req.start)
        const limit = pathToBigInt(req.limit)
        if (start > limit) throw new StateSyncError('BAD_REQUEST', 'chunk start is after its limit')
        const root = await this.#stateRootAt(req.height)
        return root === undefined ? undefined : computeStateChunk((h) => this.#chain.store.tree.readNode(h), root, start, limit)
      },
    })
  }

  #take(peer: string): void {
    if (!this.#cap.take(peer)) throw new StateSyncError('RATE_LIMITED', 'too many state-sync requests')
  }

  async #stateRootAt(height: number): Promise<Uint8Array | undefined> {
    const store = this.#chain.store
    if (height < 1 || height > store.finalized.height) return undefined
    const hash = await store.getHashAtHeight(height)
    return hash === undefined ? undefined : (await store.getHeader(hash))?.stateRoot
  }

  /** The snapshot of a finalized height: its block, commit and the next height's priorities. */
  async snapshot(height: number): Promise<StateSnapshot | undefined> {
    const store = this.#chain.store
    if (height < 1 || height > store.finalized.height) return undefined
    const hash = await store.getHashAtHeight(height)
    const block = hash && (await store.getBlockBytes(hash))
    const commit = await store.getCommit(height)
    const priorities = await this.#prioritiesOf(height + 1)
    if (!block || !commit || !priorities) return undefined
    return {
      block,
      commit,
      priorities: priorities.entries.map((e) => ({ address: e.address, stake: e.stake, priority: e.priority.toString() })),
      totalStake: priorities.totalStake,
      proposer: priorities.proposer,
    }
  }

  /** Priorities of `height`: remembered, or replayed from height 1 through the stored validator sets. */
  async #prioritiesOf(height: number): Promise<ProposerPriorityState | undefined> {
    const known = this.#priorities.get(height)
    if (known !== undefined) return known
    const store = this.#chain.store
    if (height - 1 > MAX_PRIORITY_REPLAY || this.#replaying || this.#now() - this.#lastReplayAt < REPLAY_INTERVAL_MS) return undefined
    this.#replaying = true
    this.#lastReplayAt = this.#now()
    try {
      const first = await store.getValidatorSetAt(1)
      if (first === undefined) return undefined
      let state = computeInitialPriorities(first)
      for (let h = 1; h < height; h++) {
        const next = await store.getValidatorSetAt(h + 1)
        if (next === undefined) return undefined
        state = computeNextHeightPriorities(state, next)
      }
      this.#priorities.set(height, state)
      return state
    } finally {
      this.#replaying = false
    }
  }
}

export interface StateSyncOpts {
  /** The height to sync (default: the latest finalized height peers offer). */
  trustHeight?: number
  /** The block hash at `trustHeight` the operator trusts (CometBFT's trust hash). */
  trustHash?: Hash
  /** Key ranges fetched in parallel (default 16). */
  ranges?: number
  /** One chunk request's deadline (default the protocol's). */
  requestTimeoutMs?: number
  /** How long to wait for the first peers (default 30 s). */
  peerWaitMs?: number
}

export interface StateSyncModules {
  store: ChainStore
  net: NetNode
  log: Logger
}

/** A trusted snapshot: the block, its hash and commit, the next height's priorities. */
interface Trusted { block: Block; bytes: Uint8Array; hash: Hash; commit: Commit; priorities: ProposerPriorityState }

const PEER_SETTLE_MS = 2_000
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Syncs `store` (at genesis) to a trusted finalized state and closes it; reopen it to run the
 * node. Throws StateSyncError when no trusted snapshot can be had or no peer is left; a crash
 * at any point leaves a store that reopens at genesis (ChainStore.beginStateSync).
 */
export async function runStateSync(m: StateSyncModules, opts: StateSyncOpts = {}): Promise<{ height: number; hash: Hash }> {
  const { store, net, log } = m
  const genesisValidators = readValidators(store)
  const deadline = Date.now() + (opts.peerWaitMs ?? 30_000)
  while (net.peers().length === 0 && Date.now() < deadline) await sleep(100)
  // A moment for the other bootstrap peers: one lone peer should not decide what is offered.
  if (net.peers().length === 1) await sleep(PEER_SETTLE_MS)
  const trusted = await findSnapshot(m, opts, genesisValidators)
  const height = trusted.block.header.height
  log.info({ height, hash: toHex(trusted.hash), stateRoot: toHex(trusted.block.header.stateRoot) }, 'state sync: snapshot trusted; downloading state')
  await store.beginStateSync()
  const validators = new Map<string, ValidatorStake>()
  const boundary = await downloadState(m, opts, height, trusted.block.header.stateRoot, (leaves) => {
    for (const { key, value } of leaves) {
      if (isKeyOf(TABLES.validator, key)) validators.set(toHex(key), { address: idOfKey(TABLES.validator, key), stake: TABLES.validator.codec.decode(value).stake })
    }
  })
  const kinds = new Map<string, 'leaf' | 'internal'>()
  for (const h of unresolvedChildren(boundary)) {
    const bytes = await store.tree.readNode(h)
    if (bytes !== undefined) kinds.set(toHex(h), decodeTreeNode(h, bytes).kind)
  }
  const treeNodes = resolveBoundaryNodes(boundary, (h) => kinds.get(toHex(h)))
  const nextValidators = [...validators.values()]
  checkAgainstState(trusted, nextValidators, genesisValidators, opts, store.genesis.chainId)
  await store.finishStateSync({ block: trusted.block, hash: trusted.hash, bytes: trusted.bytes, commit: trusted.commit, priorities: trusted.priorities, nextValidators, treeNodes })
  log.info({ height, hash: toHex(trusted.hash) }, 'state sync: done')
  return { height, hash: trusted.hash }
}

function readValidators(store: ChainStore): ValidatorStake[] {
  return scanRows(store.state, TABLES.validator).map((r) => ({ address: idOfKey(TABLES.validator, r.key), stake: r.row.stake }))
}

function sameValidators(a: readonly ValidatorStake[], b: readonly ValidatorStake[]): boolean {
  const x = computeValidatorSet(a).validators
  const y = computeValidatorSet(b).validators
  return x.length === y.length && x.every((v, i) => equalBytes(v.address, y[i]!.address) && v.stake === y[i]!.stake)
}

/** The commit must be signed by the synced state's own validators; without a trust hash they must be the genesis ones. */
function checkAgainstState(trusted: Trusted, validators: ValidatorStake[], genesisValidators: ValidatorStake[], opts: StateSyncOpts, chainId: string): void {
  const height = trusted.block.header.height
  if (opts.trustHash === undefined && !sameValidators(validators, genesisValidators)) {
    throw new StateSyncError('NEEDS_TRUST_HASH', `the validator set changed since genesis: state sync needs --trust-height and --trust-hash`, { height })
  }
  try {
    verifyCommit(trusted.commit, { chainId, validators: computeValidatorSet(validators), height, blockId: trusted.hash })
  } catch (cause) {
    throw new StateSyncError('BAD_SNAPSHOT', `the commit of height ${height} is not signed by the synced state's validators (did block ${height} change the set? pick another trust height)`, { reason: 'commit' }, { cause })
  }
  // The priorities are the only unproven part: they must at least name the synced validators.
  if (!sameValidators(trusted.priorities.entries, validators.filter((v) => v.stake > 0n))) {
    throw new StateSyncError('BAD_SNAPSHOT', 'the offered proposer priorities do not list the synced validators', { reason: 'priorities' })
  }
}

/** Asks every peer for a snapshot and keeps one it can trust (the highest, when no height is given). */
async function findSnapshot(m: StateSyncModules, opts: StateSyncOpts, genesisValidators: ValidatorStake[]): Promise<Trusted> {
  const { net, log, store } = m
  const height = opts.trustHeight ?? 0
  const mismatched: string[] = []
  let best: Trusted | undefined
  for (const peer of net.peers()) {
    let offer: StateSnapshot
    let block: Block
    try {
      offer = await requestStateSnapshot(net, peer, { height })
      block = decode(Block, offer.block)
    } catch (err) {
      log.debug({ peer, err: String(err) }, 'state sync: no snapshot from peer')
      continue
    }
    const hash = blockHash(block.header)
    if (opts.trustHeight !== undefined && block.header.height !== opts.trustHeight) continue
    if (!equalBytes(offer.commit.blockId, hash) || offer.commit.height !== block.header.height) {
      net.penalize(peer, SYNC_PENALTY.invalidBlock, 'state snapshot with a commit of another block')
      continue
    }
    if (opts.trustHash !== undefined) {
      if (!equalBytes(hash, opts.trustHash)) {
        mismatched.push(toHex(hash))
        continue
      }
    } else {
      try {
        verifyCommit(offer.commit, { chainId: store.genesis.chainId, validators: computeValidatorSet(genesisValidators), height: block.header.height, blockId: hash })
      } catch {
        log.info({ peer, height: block.header.height }, 'state sync: snapshot commit not signed by the genesis validators; skipped (give a trust hash)')
        continue
      }
    }
    const priorities: ProposerPriorityState = { entries: offer.priorities.map((e) => ({ address: e.address, stake: e.stake, priority: BigInt(e.priority) })), totalStake: offer.totalStake, proposer: offer.proposer }
    if (best === undefined || block.header.height > best.block.header.height) best = { block, bytes: offer.block, hash, commit: offer.commit, priorities }
  }
  if (best !== undefined) return best
  if (opts.trustHash !== undefined && mismatched.length > 0) {
    throw new StateSyncError('TRUST_HASH_MISMATCH', `peers hold another block at height ${height} than the trusted ${toHex(opts.trustHash)}`, { height, trusted: toHex(opts.trustHash), offered: mismatched })
  }
  throw new StateSyncError('NO_SNAPSHOT', `no peer offered a snapshot${height > 0 ? ` of height ${height}` : ''} that could be trusted`, { height })
}

interface RangeTask { start: bigint; limit: bigint; tries: Set<string> }

/**
 * Downloads the state at `root` in `ranges` key ranges, one request per peer at a time; every
 * chunk is verified before it is written. Returns the boundary nodes of all chunks.
 */
async function downloadState(m: StateSyncModules, opts: StateSyncOpts, height: number, root: Uint8Array, onLeaves: (leaves: StateChunk['leaves']) => void): Promise<BoundaryNode[]> {
  const { store, net, log } = m
  const count = opts.ranges ?? 16
  const step = (MAX_PATH + 1n) / BigInt(count)
  const pending: RangeTask[] = Array.from({ length: count }, (_, i) => ({ start: step * BigInt(i), limit: i === count - 1 ? MAX_PATH : step * BigInt(i + 1) - 1n, tries: new Set() }))
  let inFlight = 0
  const boundary = new Map<string, BoundaryNode>()
  const dropped = new Set<string>()
  const busy = new Set<string>()
  const failures = new Map<string, number>()
  let chunks = 0
  let failure: unknown
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      if (failure !== undefined || (pending.length === 0 && inFlight === 0)) return resolve()
      const peers = net.peers().filter((p) => !dropped.has(p) && !busy.has(p))
      for (const peer of peers) {
        // A range goes to a peer that has not failed it yet.
        const index = pending.findIndex((t) => !t.tries.has(peer))
        if (index < 0) continue
        const task = pending.splice(index, 1)[0]!
        busy.add(peer)
        inFlight++
        void fetchOne(peer, task).finally(() => {
          busy.delete(peer)
          inFlight--
          pump()
        })
      }
      if (inFlight === 0 && pending.length > 0) {
        // Every live peer has failed every pending range once: forget those failures (a stall may pass) unless none is left.
        const live = net.peers().filter((p) => !dropped.has(p))
        if (live.length === 0) failure = new StateSyncError('NO_PEERS', 'every state-sync peer failed or was dropped', { remainingRanges: pending.length })
        else for (const t of pending) t.tries.clear()
        setTimeout(pump, live.length === 0 ? 0 : 500)
      }
    }
    const fetchOne = async (peer: string, task: RangeTask): Promise<void> => {
      let chunk: StateChunk
      try {
        chunk = await requestStateChunk(net, peer, { height, start: bigIntToPath(task.start), limit: bigIntToPath(task.limit) }, opts.requestTimeoutMs === undefined ? {} : { timeoutMs: opts.requestTimeoutMs })
      } catch (err) {
        log.debug({ peer, err: String(err) }, 'state sync: chunk request failed; asking another peer')
        // A peer that stalls or fails twice is left out of this sync (not scored: it may only be slow).
        const failed = (failures.get(peer) ?? 0) + 1
        failures.set(peer, failed)
        if (failed >= 2) dropped.add(peer)
        task.tries.add(peer)
        pending.push(task)
        return
      }
      try {
        const verified = verifyStateChunk(root, chunk, task.start, task.limit)
        await store.writeStateChunk(verified.leaves, verified.nodes)
        onLeaves(verified.leaves)
        for (const b of verified.boundary) boundary.set(toHex(b.hash), b)
        chunks++
        if (!chunk.last) pending.push({ start: pathToBigInt(chunk.end) + 1n, limit: task.limit, tries: new Set() })
      } catch (err) {
        if (!(err instanceof XscError) || err.code !== 'BAD_PROOF') {
          failure = err
          return
        }
        log.warn({ peer, err: err.message }, 'state sync: peer sent a chunk that does not verify; dropping it')
        net.penalize(peer, BAD_CHUNK_PENALTY, 'state chunk that does not verify')
        dropped.add(peer)
        pending.push(task)
      }
    }
    pump()
  })
  if (failure !== undefined) throw failure
  log.info({ chunks, droppedPeers: dropped.size }, 'state sync: state downloaded')
  return [...boundary.values()]
}
