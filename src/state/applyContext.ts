import type { Address, GenesisConfig, Hash } from '../../blocks/schema.ts'

/**
 * What a block's transition needs besides the state: the chain's config, who proposed it, and
 * facts the shell gathered (Lodestar's "external data"): signatures already checked in parallel,
 * execution results, shard availability.
 */
export interface ApplyContext {
  genesis: GenesisConfig
  height: number
  slot: number
  proposer: Address
  prevHash: Hash
  /** Set by the import pipeline after it verified every signature of the block (in workers). */
  signaturesChecked?: boolean
}
