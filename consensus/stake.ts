import { headerSigningHash } from '../blocks/ids.ts'
import type { Address, BlockHeader, Hash, UnsignedHeader } from '../blocks/schema.ts'
import { equalBytes, hash, hashParts, keyPairFromSecret, sign, toHex, u32be, utf8, verify } from '../src/crypto/index.ts'
import { ConsensusError } from './errors.ts'
import type { ProofScheme, ProveContext, VerifyContext } from './proofScheme.ts'
import { computeSealFields } from './sealFields.ts'
import { verifySlotTiming } from './slot.ts'
import { computeValidatorSet, type ValidatorStake } from './validatorSet.ts'

/**
 * stake (who may propose): the header is signed by its proposer, a staked validator. The proof
 * bytes are empty: the evidence is the header's proposer field and its signature. The order of
 * proposers is BFT's (consensus/proposerPriority.ts). `computeProposer` (a draw seeded by the
 * parent hash and slot) is no longer the chain's rule: the parent's proposer could grind it.
 */
const PROPOSER_DOMAIN = utf8('XSC/proposer/v1')
const TWO_256 = 1n << 256n

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(toHex(bytes))
}

/** The seed of a slot's draw: hash(domain || prevHash || slot as u32 big-endian). */
export function computeProposerSeed(prevHash: Hash, slot: number): Hash {
  return hashParts(PROPOSER_DOMAIN, prevHash, u32be(slot))
}

/**
 * Draws the proposer of `slot` on top of `prevHash`: r uniform in [0, totalStake) (the 256-bit
 * seed, rehashed while it falls in the biased tail so there is no modulo bias), then the
 * validator whose cumulative-stake interval holds r, walking in address order. Zero-stake
 * validators have an empty interval and are never drawn.
 */
export function computeProposer(validators: readonly ValidatorStake[], prevHash: Hash, slot: number): Address {
  const set = computeValidatorSet(validators)
  const total = set.totalStake
  if (total === 0n) throw new ConsensusError('NO_STAKE', 'no validator has stake: nobody can propose', { scheme: 'stake' })
  const limit = TWO_256 - (TWO_256 % total)
  let seed = computeProposerSeed(prevHash, slot)
  let r = toBigInt(seed)
  while (r >= limit) {
    seed = hash(seed)
    r = toBigInt(seed)
  }
  r %= total
  for (const v of set.validators) {
    if (r < v.stake) return v.address
    r -= v.stake
  }
  // Unreachable: r < total = sum of stakes.
  throw new ConsensusError('NO_STAKE', 'proposer draw fell outside the stake intervals', { scheme: 'stake' })
}

/** Signs a header (proofs included) as its proposer. The key must be the proposer's. */
export function signHeader(header: UnsignedHeader, secretKey: Uint8Array): BlockHeader {
  const { publicKey } = keyPairFromSecret(secretKey)
  if (!equalBytes(publicKey, header.proposer)) {
    throw new ConsensusError('PROVE_FAILED', 'the signing key is not the header proposer\'s', {
      scheme: 'stake',
      got: toHex(publicKey),
      expected: toHex(header.proposer),
    })
  }
  const unsigned: UnsignedHeader = { ...computeSealFields(header), proofs: header.proofs }
  return { ...unsigned, signature: sign(secretKey, headerSigningHash(unsigned)) }
}

/**
 * The header signature: by `header.proposer`, over `headerSigningHash` (everything but the
 * signature, proofs included). Checked for every block by `verifyProofs`, even on chains that do
 * not require `stake`, because the proposer field must be authenticated.
 */
export function verifyHeaderSignature(header: BlockHeader): void {
  if (!verify(header.proposer, headerSigningHash(header), header.signature)) {
    throw new ConsensusError('BAD_SIGNATURE', 'header signature is not the proposer\'s', { scheme: 'stake', proposer: toHex(header.proposer) })
  }
}

/**
 * The proposer must be a staked validator of the parent's set. Which validator proposes at a
 * height and round is BFT's rule (consensus/proposerPriority.ts, checked against the signed
 * proposal), not the header's: a block re-proposed in a later round keeps its original proposer.
 */
function checkProposer(ctx: VerifyContext): void {
  const stake = ctx.validators.find((v) => equalBytes(v.address, ctx.seal.proposer))?.stake ?? 0n
  if (stake === 0n) {
    throw new ConsensusError('WRONG_PROPOSER', `stake: ${toHex(ctx.seal.proposer)} is not a staked validator`, {
      scheme: 'stake',
      slot: ctx.seal.slot,
      got: toHex(ctx.seal.proposer),
      expected: 'a staked validator',
    })
  }
}

export const stakeScheme: ProofScheme = {
  name: 'stake',
  verifyCost: 0,
  checkConfig() {
    // stake has no genesis parameters of its own: the validator set comes from state.
  },
  prove(ctx: ProveContext): Uint8Array {
    verifySlotTiming(ctx, 'stake')
    checkProposer(ctx)
    return new Uint8Array(0)
  },
  verify(ctx: VerifyContext, data: Uint8Array): void {
    if (data.length !== 0) throw new ConsensusError('MALFORMED_PROOF', 'stake: proof data must be empty', { scheme: 'stake', got: data.length, expected: 0 })
    verifySlotTiming(ctx, 'stake')
    checkProposer(ctx)
  },
}
