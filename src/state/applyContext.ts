import type { Address, GenesisConfig, Hash, Receipt } from '../../blocks/schema.ts'
import type { HostIndex } from '../router/index.ts'

/**
 * What a block's transition needs besides the state: the chain's config, who proposed it, and
 * facts the shell gathered (Lodestar's "external data"): signatures already checked in parallel,
 * the router's index of hosts as of the parent block.
 */
export interface ApplyContext {
  genesis: GenesisConfig
  height: number
  slot: number
  proposer: Address
  prevHash: Hash
  /**
   * The beacon mix of the parent state (src/state/beaconState.ts readBeaconMix): the one source of
   * every seed the transition draws (placement, assignment, audit sample, repairs). Not the parent
   * hash, which its proposer can grind.
   */
  beaconMix: Hash
  /** The block's base fee per tx byte (its header's, checked against the parent by verifyBlockFees). */
  baseFee: bigint
  /** Set by the import pipeline after it verified every tx signature of the block (in workers). */
  signaturesChecked?: boolean
  /** True for a receipt whose signature this node checked when it arrived (same bytes: its receipt pool holds it). */
  receiptChecked?: (receipt: Receipt) => boolean
  /** Hosts as of the parent block; routing inside a block always sees the block's start state. */
  hostIndex?: HostIndex
}
