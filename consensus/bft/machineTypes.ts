import type { Hash } from '../../blocks/schema.ts'
import type { ProposerPriorityState } from '../proposerPriority.ts'
import type { ValidatorSet } from '../validatorSet.ts'
import type { Commit, ConsensusMessage, Evidence, SignedProposal, SignedVote } from './messages.ts'
import type { TimeoutParams, TimeoutStep } from './timeouts.ts'

/** The inputs, outputs and settings of the BFT state machine (stateMachine.ts). */

export interface BftConfig {
  chainId: string
  /** The validator's key; undefined for an observer that never signs. */
  secretKey: Uint8Array | undefined
  timeouts: TimeoutParams
  /**
   * TEST ONLY: prevote any valid proposal whatever the lock, and propose fresh values instead of
   * the valid value with its proof of lock. This breaks safety; it exists so the simulator can
   * show that it finds the violation.
   */
  unsafeIgnoreLocks?: boolean
}

/** What consensus needs about a height: its validator set and proposer priorities. */
export interface HeightContext {
  height: number
  validators: ValidatorSet
  priorities: ProposerPriorityState
  /**
   * This validator's last signed position at this height from before a restart (its sign guard
   * on disk; step 0 = proposal, then VOTE_STEP): the machine signs nothing at or below it, since
   * what it signed there is forgotten and anything it signed now could conflict. Its own votes of
   * that life count when peers hand them back. Absent on a normal height start.
   */
  signedUpTo?: { round: number; step: number }
}

export type BftInput =
  | { type: 'proposal'; proposal: SignedProposal }
  | { type: 'vote'; vote: SignedVote }
  | { type: 'commit'; commit: Commit }
  | { type: 'timeout'; step: TimeoutStep; height: number; round: number }
  | { type: 'verdict'; height: number; blockId: Hash; valid: boolean }
  | { type: 'proposalValue'; height: number; round: number; blockId: Hash }

export type BftAction =
  | { type: 'broadcast'; message: ConsensusMessage }
  | { type: 'scheduleTimeout'; step: TimeoutStep; height: number; round: number; delayMs: number }
  | { type: 'validate'; height: number; blockId: Hash }
  | { type: 'buildProposal'; height: number; round: number }
  | { type: 'decide'; height: number; round: number; blockId: Hash; commit: Commit }
  | { type: 'evidence'; evidence: Evidence }

export type BftStep = 'propose' | 'prevote' | 'precommit' | 'decided'
