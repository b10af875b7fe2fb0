import {
  type BftAction,
  BftMachine,
  computeInitialPriorities,
  computeRoundProposer,
  type HeightContext,
  type TimeoutParams,
} from '../../../../consensus/bft/index.ts'
import { computeValidatorSet } from '../../../../consensus/validatorSet.ts'
import { hash, type KeyPair, keyPairFromSecret, toHex, u32be } from '../../../../src/crypto/index.ts'

/** Four validators with fixed keys, equal stake unless given, and a context for height 1. */
export const CHAIN = 'xsc-bft-test'
export const KEYS: KeyPair[] = [1, 2, 3, 4].map((i) => keyPairFromSecret(hash(u32be(9000 + i))))
export const TIMEOUTS: TimeoutParams = { proposeMs: 100, proposeDeltaMs: 10, prevoteMs: 50, prevoteDeltaMs: 5, precommitMs: 50, precommitDeltaMs: 5 }

export function heightContext(stakes: bigint[] = [10n, 10n, 10n, 10n], height = 1): HeightContext {
  const validators = KEYS.map((k, i) => ({ address: k.publicKey, stake: stakes[i]! }))
  return { height, validators: computeValidatorSet(validators), priorities: computeInitialPriorities(validators) }
}

/** Index in KEYS of the proposer of `round`. */
export function proposerIndex(ctx: HeightContext, round: number): number {
  const p = toHex(computeRoundProposer(ctx.priorities, round))
  return KEYS.findIndex((k) => toHex(k.publicKey) === p)
}

export function makeMachine(i: number, unsafeIgnoreLocks = false): BftMachine {
  return new BftMachine({ chainId: CHAIN, secretKey: KEYS[i]!.secretKey, timeouts: TIMEOUTS, unsafeIgnoreLocks })
}

export function blockId(label: string): Uint8Array {
  return hash(new TextEncoder().encode(label))
}

export function ofType<T extends BftAction['type']>(actions: BftAction[], type: T): Extract<BftAction, { type: T }>[] {
  return actions.filter((a): a is Extract<BftAction, { type: T }> => a.type === type)
}
