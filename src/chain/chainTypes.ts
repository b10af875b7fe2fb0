import type { Block, GenesisConfig, Hash, StorageAck } from '../../blocks/schema.ts'
import type { Commit } from '../../consensus/bft/messages.ts'
import type { KeyPair } from '../crypto/index.ts'
import type { TreeNodeWrite } from '../state/stateTree/index.ts'
import type { StateWrite } from '../state/stateView.ts'
import type { AuditAnswers } from './produceBlock/buildAuditEntry.ts'

/** What a proposal gathered before taking the lock, bound to the head it was gathered on. */
export interface PreparedProposal { headHash: Hash; auditAnswers: AuditAnswers | undefined; storageAcks?: StorageAck[] }

export interface ChainOpts {
  dataDir: string
  genesis: GenesisConfig
  /** The validator key this node proposes with, if it is a validator. */
  validatorKey?: KeyPair
  signatureWorkers?: number
  maxTxsPerBlock?: number
  mempoolSize?: number
  /** State tree nodes kept in memory (src/chain/stateStore.ts DEFAULT_TREE_CACHE_NODES). */
  treeCacheNodes?: number
  /** Account values kept in memory (src/chain/stateStore.ts DEFAULT_VALUE_CACHE_ENTRIES). */
  valueCacheEntries?: number
  /**
   * Check a block that arrives with a commit as fully as a proposal (an auditing node): every tx
   * and receipt signature, and its transition even when a peer sent its write set. Default: a
   * verified commit vouches for them (docs/consensus.md "What a commit vouches for").
   */
  checkCommittedSignatures?: boolean
  /** Keep the explorer's activity index (default true; src/chain/activityIndex.ts). */
  activityIndex?: boolean
}

/** What checking a block against the head yields: its write set and the state tree nodes its root adds; `byWrites`: from an offered write set, not a run. */
export interface VerifiedWrites { writes: StateWrite[]; treeNodes: readonly TreeNodeWrite[]; byWrites?: boolean }

/**
 * A committed block's state write set as a peer sent it (the commit feed, docs/consensus.md "A
 * committed block applied by its write set"), applied instead of the block's transition when it
 * gives the header's state root. `refused` is called when it did not (or held writes that change
 * nothing) and the block's own transition then did: the sender's fault.
 */
export interface OfferedWrites { writes: StateWrite[]; refused(): void }

/** A block built or checked against the head and not committed yet (a BFT proposal). */
export interface CheckedBlock {
  block: Block
  hash: Hash
  bytes: Uint8Array
}

export interface ImportedBlock {
  block: Block
  hash: Hash
  /** The precommits that made the block final (BFT), when it was committed through them. */
  commit?: Commit
  /** The block's encoding, when the importer was given it (a block from the network): never encoded again to pass it on. */
  bytes?: Uint8Array
  /** The state writes the block made (sorted by key): what the commit feed offers followers. */
  writes: readonly StateWrite[]
  /** Wall time the import took (verification to commit), for metrics. */
  seconds?: number
}

/** The block jobs of the chain's queue. */
export type QueueJob = 'import' | 'check' | 'commit' | 'build' | 'produce'

/** A queue job that took long: time waiting behind others, time running, the head height when it ended. */
export interface SlowQueueJob { job: QueueJob; waitedMs: number; ranMs: number; height: number }
