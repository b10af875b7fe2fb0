import { expect } from 'vitest'

import type { ErrorWithCode } from '../../../blocks/errors.ts'
import type { BlockHeader, ConsensusConfig, SealFields } from '../../../blocks/schema.ts'
import {
  type BlockContext,
  buildPlot,
  computeProposer,
  ConsensusError,
  type ConsensusErrorCode,
  createRegistry,
  sealBlock,
  signHeader,
  type SpacePlot,
  type ValidatorStake,
} from '../../../consensus/index.ts'
import { type KeyPair, keyPairFromSecret, toHex, ZERO_HASH } from '../../../src/crypto/index.ts'

/** Small, deterministic fixtures: fixed keys, fixed genesis time, fast parameters. */
export const GENESIS_TIME = 1_700_000_000_000n
export const SLOT_MS = 1000

export const KEYS: KeyPair[] = [1, 2, 3, 4].map((i) => keyPairFromSecret(new Uint8Array(32).fill(i)))
export const VALIDATORS: ValidatorStake[] = KEYS.map((k, i) => ({ address: k.publicKey, stake: BigInt((i + 1) * 100) }))

export function makeConfig(schemes: string[], over: Partial<ConsensusConfig> = {}): ConsensusConfig {
  return { schemes, driftMs: 500, timeIterations: 2000, timeCheckpoints: 4, workBits: 8, spacePlotEntries: 1 << 12, spaceLookups: 4, ...over }
}

export function makeContext(schemes: string[], over: Partial<ConsensusConfig> = {}, parentSlot = 0): BlockContext {
  return { registry: createRegistry(makeConfig(schemes, over)), genesisTime: GENESIS_TIME, slotMs: SLOT_MS, validators: VALIDATORS, parentSlot }
}

export function keyOf(address: Uint8Array): KeyPair {
  const k = KEYS.find((x) => toHex(x.publicKey) === toHex(address))
  if (k === undefined) throw new Error('no fixture key for address')
  return k
}

const plots = new Map<string, SpacePlot>()
export function plotOf(key: KeyPair, entries = 1 << 12): SpacePlot {
  const id = `${toHex(key.publicKey)}/${entries}`
  let plot = plots.get(id)
  if (plot === undefined) {
    plot = buildPlot(key.publicKey, entries)
    plots.set(id, plot)
  }
  return plot
}

export function makeFields(slot: number, proposer: Uint8Array, prevHash: Uint8Array = ZERO_HASH, offsetMs = 100n): SealFields {
  return {
    chainId: 'xsc-test',
    height: 1,
    prevHash,
    kind: 'ledger',
    slot,
    timestamp: GENESIS_TIME + BigInt(slot) * BigInt(SLOT_MS) + offsetMs,
    proposer,
    bodyRoot: new Uint8Array(32).fill(7),
    baseFee: 0n,
    txBytes: 0, round: 0, beaconReveal: new Uint8Array(32),
    stateRoot: new Uint8Array(32).fill(9),
  }
}

/** Seals a valid header for `slot`: the drawn proposer when stake is required, else KEYS[0]. */
export function sealValid(ctx: BlockContext, slot = 5, prevHash: Uint8Array = ZERO_HASH): BlockHeader {
  const key = ctx.registry.get('stake') !== undefined ? keyOf(computeProposer(ctx.validators, prevHash, slot)) : KEYS[0]!
  const fields = makeFields(slot, key.publicKey, prevHash)
  return sealBlock({ ...ctx, secretKey: key.secretKey, plot: plotOf(key, ctx.registry.config.spacePlotEntries) }, fields)
}

/** Re-signs a tampered header with its proposer's key so the tampering, not the signature, is what fails. */
export function resign(header: BlockHeader): BlockHeader {
  return signHeader(header, keyOf(header.proposer).secretKey)
}

export function replaceProof(header: BlockHeader, scheme: string, data: Uint8Array): BlockHeader {
  return resign({ ...header, proofs: header.proofs.map((p) => (p.scheme === scheme ? { scheme, data } : p)) })
}

export function flipByte(data: Uint8Array, at = 0): Uint8Array {
  const out = new Uint8Array(data)
  out[at] = out[at]! ^ 0x01
  return out
}

/** Asserts fn throws a ConsensusError with this code and details.scheme. */
export function expectConsensusError<C extends ConsensusErrorCode>(fn: () => unknown, code: C, scheme?: string): ErrorWithCode<ConsensusError, C> {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(caught, `expected ConsensusError ${code}`).toBeInstanceOf(ConsensusError)
  const error = caught as ErrorWithCode<ConsensusError, C>
  expect({ code: error.code, scheme: error.details.scheme }).toEqual({ code, scheme: scheme ?? error.details.scheme })
  return error
}
