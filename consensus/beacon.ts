import type { Address, Hash } from '../blocks/schema.ts'
import { equalBytes, hash, hashParts, toHex, u32be, utf8 } from '../src/crypto/index.ts'
import { BftError } from './bft/errors.ts'

/**
 * A RANDAO-style randomness beacon. When it registers, each validator commits to the tip of a
 * sha256 hash chain: it draws a secret seed s and publishes c = H^N(s). Each block it proposes
 * reveals the next preimage down its chain (first H^(N−1)(s), then H^(N−2)(s), …), checked in
 * one hash against the last value it revealed (`hash(reveal) = last`). The beacon output folds
 * every reveal in: `mix' = sha256(mix ‖ reveal)`.
 *
 * What a proposer controls: its reveal is fixed by its commitment (any other value fails the
 * hash check; sha256 preimage resistance), so when it proposes it cannot choose the mix. It can
 * only withhold: not propose (or propose a block another validator's round replaces), leaving the
 * mix to be updated by the next proposer's reveal instead. That is one bit of influence per slot
 * it controls, paid for with its block reward: a proposer that sees both outcomes chooses the
 * better of two mixes; a coalition controlling the last k proposers before a mix is used chooses
 * among up to 2^k. Consumers (router seeds, audit challenges) should take the mix a few heights
 * before use and treat it as biasable by withholding, not as unpredictable to the last proposer.
 */

const CHAIN_DOMAIN = utf8('XSC/beacon-chain/v1')
const MIX_DOMAIN = utf8('XSC/beacon-mix/v1')
const SEED_DOMAIN = utf8('XSC/beacon-seed/v1')
const GENESIS_MIX_DOMAIN = utf8('XSC/beacon-genesis-mix/v1')
/** A reveal of all zeros: the proposer has no live chain (none committed, or exhausted) and leaves the mix as it is. */
export const NO_REVEAL: Hash = new Uint8Array(32)

/**
 * The seed of a validator's `generation`-th hash chain, derived from its secret key with a domain
 * tag: a restarted node recomputes its chain from the key and the generation state records, so
 * nothing secret beyond the key is stored. (A validator may use any secret seed; this is ours.)
 */
export function computeBeaconSeed(secretKey: Uint8Array, generation: number): Uint8Array {
  if (!Number.isSafeInteger(generation) || generation < 0 || generation > 0xffffffff) throw new BftError('BAD_PARAMS', 'beacon generation must be a u32', { got: generation })
  return hashParts(SEED_DOMAIN, secretKey, u32be(generation))
}

/** The mix before any reveal: fixed by the chain id, so two chains never share beacon outputs. */
export function computeGenesisMix(chainId: string): Hash {
  return hashParts(GENESIS_MIX_DOMAIN, utf8(chainId))
}

/** The commitment a validator registers for its `generation`-th chain of `length` links (key-derived seed). */
export function computeValidatorBeaconCommitment(secretKey: Uint8Array, generation: number, length: number): Hash {
  return computeBeaconCommitment(computeBeaconSeed(secretKey, generation), length)
}

/**
 * The reveals of one hash chain, served in O(√length) hashes each: one pass at construction keeps
 * every `stride`-th link, and a reveal is rehashed from the checkpoint below it. What a proposer
 * holds for its own chain (recomputing H^(length−1−i) from the start would cost up to `length`
 * hashes per block).
 */
export class BeaconChain {
  readonly length: number
  readonly commitment: Hash
  readonly #stride: number
  readonly #checkpoints: Hash[] = []

  constructor(seed: Uint8Array, length: number) {
    if (!Number.isSafeInteger(length) || length < 1) throw new BftError('BAD_PARAMS', 'hash chain length must be a positive integer', { got: length })
    this.length = length
    this.#stride = Math.max(1, Math.ceil(Math.sqrt(length)))
    let x = chainStart(seed)
    for (let k = 0; k < length; k++) {
      if (k % this.#stride === 0) this.#checkpoints.push(x)
      x = hash(x)
    }
    this.commitment = x
  }

  /** The `index`-th reveal (0-based): H^(length−1−index)(start). Throws BAD_PARAMS once exhausted. */
  reveal(index: number): Hash {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.length) {
      throw new BftError('BAD_PARAMS', 'the hash chain is exhausted: register a new commitment', { index, length: this.length })
    }
    const k = this.length - 1 - index
    const base = Math.floor(k / this.#stride)
    let x = this.#checkpoints[base]!
    for (let i = base * this.#stride; i < k; i++) x = hash(x)
    return x
  }
}

export interface BeaconState {
  mix: Hash
  /** hex address → the last value revealed (initially its registered commitment). */
  lastRevealed: ReadonlyMap<string, Hash>
}

/** The first link of a validator's chain, from its secret seed (domain-separated). */
function chainStart(seed: Uint8Array): Hash {
  return hashParts(CHAIN_DOMAIN, seed)
}

/** H^length(start): the commitment a validator registers. */
export function computeBeaconCommitment(seed: Uint8Array, length: number): Hash {
  return computeChainValue(seed, length)
}

/** H^k(start). The reveal at position i (0-based) is H^(length−1−i)(start). */
export function computeChainValue(seed: Uint8Array, k: number): Hash {
  if (!Number.isSafeInteger(k) || k < 0) throw new BftError('BAD_PARAMS', 'hash chain position must be a non-negative integer', { got: k })
  let x = chainStart(seed)
  for (let i = 0; i < k; i++) x = hash(x)
  return x
}

/** The `index`-th reveal (0-based) of a chain of `length` links. */
export function computeReveal(seed: Uint8Array, length: number, index: number): Hash {
  if (!Number.isSafeInteger(index) || index < 0 || index >= length) {
    throw new BftError('BAD_PARAMS', 'the hash chain is exhausted: register a new commitment', { index, length })
  }
  return computeChainValue(seed, length - 1 - index)
}

export function createBeacon(genesisMix: Hash, commitments: readonly { address: Address; commitment: Hash }[]): BeaconState {
  const lastRevealed = new Map<string, Hash>()
  for (const c of commitments) lastRevealed.set(toHex(c.address), c.commitment)
  return { mix: genesisMix, lastRevealed }
}

/** True when `reveal` is the next preimage after `lastRevealed`. */
export function isValidReveal(lastRevealed: Hash, reveal: Hash): boolean {
  return reveal.length === 32 && equalBytes(hash(reveal), lastRevealed)
}

export function computeNextMix(mix: Hash, reveal: Hash): Hash {
  return hashParts(MIX_DOMAIN, mix, reveal)
}

/** Throws BAD_REVEAL / UNKNOWN_VALIDATOR for a reveal that does not extend the proposer's chain. */
export function verifyReveal(state: BeaconState, proposer: Address, reveal: Hash): void {
  const last = state.lastRevealed.get(toHex(proposer))
  if (last === undefined) throw new BftError('UNKNOWN_VALIDATOR', 'proposer has no beacon commitment', { proposer: toHex(proposer) })
  if (!isValidReveal(last, reveal)) throw new BftError('BAD_REVEAL', 'reveal is not the preimage of the last revealed value', { proposer: toHex(proposer) })
}

/** The state after a block by `proposer` revealing `reveal` (verified). */
export function applyReveal(state: BeaconState, proposer: Address, reveal: Hash): BeaconState {
  verifyReveal(state, proposer, reveal)
  const lastRevealed = new Map(state.lastRevealed)
  lastRevealed.set(toHex(proposer), reveal)
  return { mix: computeNextMix(state.mix, reveal), lastRevealed }
}
