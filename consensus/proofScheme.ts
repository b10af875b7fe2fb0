import type { ConsensusConfig, Hash, SealFields } from '../blocks/schema.ts'
import { ConsensusError } from './errors.ts'
import type { SpacePlot } from './space.ts'
import { spaceScheme } from './space.ts'
import { stakeScheme } from './stake.ts'
import { timeScheme } from './time.ts'
import type { ValidatorStake } from './validatorSet.ts'
import { workScheme } from './work.ts'

/**
 * The pluggable proof contract (ARCHITECTURE.md §5). A scheme is three pure functions: check
 * its genesis parameters, produce a proof for a header, verify one. Schemes never see the
 * database, the network or a clock: everything they decide on is in the context.
 */
export const SCHEME_NAMES = ['stake', 'time', 'work', 'space'] as const
export type SchemeName = (typeof SCHEME_NAMES)[number]

/** Facts about the chain a block extends: the same for every block until the validator set changes. */
export interface ChainContext {
  config: ConsensusConfig
  /** ms since the Unix epoch, from genesis.json. */
  genesisTime: bigint
  slotMs: number
  /** Sorted by address ascending (use `computeValidatorSet`), stakes as of the parent block. */
  validators: readonly ValidatorStake[]
}

/** Everything a scheme may look at to verify one header's proof. */
export interface VerifyContext extends ChainContext {
  /** The header minus proofs and signature: what every proof commits to. */
  seal: SealFields
  /** `sealHash(seal)`, computed once per header. */
  sealHash: Hash
  /** `seal.prevHash`, named for readability: every challenge is derived from it. */
  prevHash: Hash
  /** Slot of the parent block (the genesis block has slot 0). */
  parentSlot: number
}

/** What the proposer has in hand to produce its proofs. */
export interface ProveContext extends VerifyContext {
  /** The proposer's ed25519 secret key (its public key is `seal.proposer`). */
  secretKey: Uint8Array
  /** space: the proposer's plot (`buildPlot(proposer, config.spacePlotEntries)`). */
  plot?: SpacePlot
  /** work: first nonce to try (lets a node split the search or resume). Default 0. */
  workNonceStart?: bigint
}

export interface ProofScheme {
  readonly name: SchemeName
  /** Relative verification cost; `verifyProofs` runs cheap schemes first to drop bad blocks early. */
  readonly verifyCost: number
  /** Throws ConsensusError BAD_CONFIG when the genesis parameters can't work for this scheme. */
  checkConfig(config: ConsensusConfig): void
  prove(ctx: ProveContext): Uint8Array
  /** Returns on success; throws a ConsensusError whose details name this scheme. */
  verify(ctx: VerifyContext, data: Uint8Array): void
}

export interface ProofRegistry {
  readonly config: ConsensusConfig
  /** The required schemes in the order their proofs appear in a header. */
  readonly schemes: readonly ProofScheme[]
  get(name: string): ProofScheme | undefined
}

const ALL: Record<SchemeName, ProofScheme> = { stake: stakeScheme, time: timeScheme, work: workScheme, space: spaceScheme }

export function isSchemeName(name: string): name is SchemeName {
  return (SCHEME_NAMES as readonly string[]).includes(name)
}

/**
 * Builds the registry a chain runs with from its genesis consensus section: every listed scheme
 * must be known, listed once, and have workable parameters. The list order is the proof order.
 */
export function createRegistry(config: ConsensusConfig): ProofRegistry {
  if (!Array.isArray(config.schemes) || config.schemes.length === 0) {
    throw new ConsensusError('BAD_CONFIG', 'a chain must require at least one proof scheme', { field: 'schemes' })
  }
  if (!Number.isSafeInteger(config.driftMs) || config.driftMs < 0) {
    throw new ConsensusError('BAD_CONFIG', 'driftMs must be a non-negative integer', { field: 'driftMs', got: config.driftMs })
  }
  const schemes: ProofScheme[] = []
  for (const name of config.schemes) {
    if (!isSchemeName(name)) throw new ConsensusError('UNKNOWN_SCHEME', `unknown proof scheme "${name}"`, { scheme: name, known: [...SCHEME_NAMES] })
    if (schemes.some((s) => s.name === name)) throw new ConsensusError('BAD_CONFIG', `proof scheme "${name}" listed twice`, { scheme: name, field: 'schemes' })
    const scheme = ALL[name]
    scheme.checkConfig(config)
    schemes.push(scheme)
  }
  const frozen = Object.freeze({ ...config, schemes: [...config.schemes] })
  return {
    config: frozen,
    schemes,
    get: (name) => schemes.find((s) => s.name === name),
  }
}
