import { sealHash } from '../blocks/ids.ts'
import type { BlockHeader, Proof, SealFields } from '../blocks/schema.ts'
import { ConsensusError } from './errors.ts'
import type { ProofRegistry, ProofScheme, ProveContext, VerifyContext } from './proofScheme.ts'
import { computeSealFields } from './sealFields.ts'
import type { SpacePlot } from './space.ts'
import { signHeader, verifyHeaderSignature } from './stake.ts'
import { computeTimeSegments, verifyTimeWindow } from './time.ts'
import { computeValidatorSet, type ValidatorStake } from './validatorSet.ts'

/** What the chain layer knows about the block's position: its registry, clock origin, validators, parent slot. */
export interface BlockContext {
  registry: ProofRegistry
  genesisTime: bigint
  slotMs: number
  /** Validators and stakes as of the parent block, any order. */
  validators: readonly ValidatorStake[]
  /** Slot of the parent block (genesis: 0). */
  parentSlot: number
}

/** The proposer's extra inputs. */
export interface SealContext extends BlockContext {
  secretKey: Uint8Array
  /** Required when the chain requires `space`. */
  plot?: SpacePlot
  workNonceStart?: bigint
}

export interface VerifyProofsOpts {
  /**
   * Set when the caller already checked the time proof's hash chain (e.g. in parallel with
   * `verifyTimeProofParallel`): the time scheme's cheap rules and proof length still run here.
   */
  timeChainVerified?: boolean
}

export { computeSealFields }

/** The per-header context every scheme sees. Computes the seal hash once. */
export function computeVerifyContext(ctx: BlockContext, header: SealFields): VerifyContext {
  const seal = computeSealFields(header)
  return {
    config: ctx.registry.config,
    genesisTime: ctx.genesisTime,
    slotMs: ctx.slotMs,
    validators: computeValidatorSet(ctx.validators).validators,
    seal,
    sealHash: sealHash(seal),
    prevHash: seal.prevHash,
    parentSlot: ctx.parentSlot,
  }
}

/**
 * Produces every required proof, in the registry's order, then signs the header as its proposer.
 * `fields` is the header without proofs and signature (extra fields are ignored).
 */
export function sealBlock(ctx: SealContext, fields: SealFields): BlockHeader {
  const base = computeVerifyContext(ctx, fields)
  const pctx: ProveContext = { ...base, secretKey: ctx.secretKey }
  if (ctx.plot !== undefined) pctx.plot = ctx.plot
  if (ctx.workNonceStart !== undefined) pctx.workNonceStart = ctx.workNonceStart
  const proofs: Proof[] = ctx.registry.schemes.map((s) => ({ scheme: s.name, data: s.prove(pctx) }))
  return signHeader({ ...base.seal, proofs }, ctx.secretKey)
}

/**
 * The proof list must be exactly the required schemes, each once, in the registry's order.
 * Unknown and duplicated proofs are reported before missing ones, then order.
 */
export function verifyProofList(registry: ProofRegistry, proofs: readonly Proof[]): void {
  const seen = new Set<string>()
  for (const p of proofs) {
    if (registry.get(p.scheme) === undefined) {
      throw new ConsensusError('UNKNOWN_PROOF', `proof for scheme "${p.scheme}" is not required by this chain`, { scheme: p.scheme, required: registry.config.schemes })
    }
    if (seen.has(p.scheme)) throw new ConsensusError('DUPLICATE_PROOF', `two proofs for scheme "${p.scheme}"`, { scheme: p.scheme })
    seen.add(p.scheme)
  }
  for (const s of registry.schemes) {
    if (!seen.has(s.name)) throw new ConsensusError('MISSING_PROOF', `missing proof for required scheme "${s.name}"`, { scheme: s.name })
  }
  registry.schemes.forEach((s, i) => {
    if (proofs[i]!.scheme !== s.name) {
      throw new ConsensusError('PROOF_ORDER', `proof ${i} should be "${s.name}", got "${proofs[i]!.scheme}"`, { scheme: proofs[i]!.scheme, got: i, expected: registry.schemes.findIndex((x) => x.name === proofs[i]!.scheme) })
    }
  })
}

function runScheme(scheme: ProofScheme, run: () => void): void {
  try {
    run()
  } catch (error) {
    if (error instanceof ConsensusError) throw error
    // Defensive: a scheme must never crash on input; anything else is a bad proof, named.
    throw new ConsensusError('BAD_PROOF', `${scheme.name}: proof could not be checked`, { scheme: scheme.name }, { cause: error })
  }
}

/**
 * Verifies a header's consensus evidence: the proof list shape, the proposer's signature, then
 * each scheme, cheapest first so a bad block costs little. Returns on success, throws a
 * ConsensusError naming the scheme otherwise. Pure: the local clock is not consulted (see
 * `isFromFuture`).
 */
export function verifyProofs(ctx: BlockContext, header: BlockHeader, opts: VerifyProofsOpts = {}): void {
  const { registry } = ctx
  verifyProofList(registry, header.proofs)
  verifyHeaderSignature(header)
  const vctx = computeVerifyContext(ctx, header)
  const byCost = [...registry.schemes].sort((a, b) => a.verifyCost - b.verifyCost)
  for (const scheme of byCost) {
    const data = header.proofs.find((p) => p.scheme === scheme.name)!.data
    runScheme(scheme, () => {
      if (scheme.name === 'time' && opts.timeChainVerified === true) {
        verifyTimeWindow(vctx)
        computeTimeSegments(vctx.config, vctx.prevHash, vctx.seal.slot, data)
      } else {
        scheme.verify(vctx, data)
      }
    })
  }
}
