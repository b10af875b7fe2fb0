import { computeBodyRoot } from '../../../blocks/ids.ts'
import type { Block, BlockEntry, GenesisConfig, SealFields } from '../../../blocks/schema.ts'
import { sealBlock, type SealContext } from '../../../consensus/sealBlock.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import type { HostIndex } from '../../router/index.ts'
import { applyBlock, type ApplyResult, finishBlock } from '../../state/applyBlock.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import { readBeaconMix } from '../../state/beaconState.ts'
import { computeBlockTxBytes, computeNextBaseFee } from '../../state/fees.ts'
import { StateTreeError } from '../../state/stateTree/errors.ts'
import { StateOverlay, type StateReader } from '../../state/stateView.ts'
import type { ChainHead } from '../chainStore.ts'
import type { ChosenEntries } from './chooseEntries.ts'

/** The context a proposal for `slot` at `timestamp` on `head` is built and checked in (the base fee depends on both). */
export function computeProposalContext(genesis: GenesisConfig, head: ChainHead, state: StateReader, slot: number, timestamp: bigint, proposer: Uint8Array, hostIndex: HostIndex): ApplyContext {
  return { hostIndex, genesis, height: head.height + 1, slot, proposer, prevHash: head.hash, beaconMix: readBeaconMix(state), baseFee: computeNextBaseFee(head.header, timestamp, genesis.params, genesis.slotMs), signaturesChecked: true }
}

/** A block's timestamp for `slot` when built at `nowMs`: now inside the slot, else the slot's start. */
export function computeBlockTimestamp(genesis: GenesisConfig, slot: number, nowMs: number): bigint {
  const slotStart = computeSlotStart(genesis.genesisTime, genesis.slotMs, slot)
  const now = BigInt(nowMs)
  return now >= slotStart && now < slotStart + BigInt(genesis.slotMs) ? now : slotStart
}

export interface BuildBlockInput {
  genesis: GenesisConfig
  head: ChainHead
  state: StateReader
  ctx: ApplyContext
  nowMs: number
  chosen: ChosenEntries
  seal: SealContext
  /** The BFT round the block is built for (0 outside BFT). */
  round: number
  /** The proposer's next beacon preimage, or NO_REVEAL when it has no live chain. */
  beaconReveal: Uint8Array
  /** Told when the chosen entries do not apply (a proposer bug): the block becomes a heartbeat. */
  onBuildError(err: unknown): void
}

/**
 * The transition of a block whose entries were tried on it while choosing (chooseEntries'
 * `applied`: the block's beginning and every entry, in order): only its end runs here, on a copy,
 * so a run repeated once more state is loaded starts from the same point.
 */
function finishChosen(input: BuildBlockInput, kind: Block['header']['kind']): ApplyResult {
  const overlay = new StateOverlay(input.state)
  input.chosen.applied!.mergeInto(overlay)
  return finishBlock(input.state, overlay, input.head.header.stateRoot, input.ctx, kind)
}

/** A sealed block and the transition that gave its state root (its write set and tree nodes). */
export interface BuiltBlock { block: Block; applied: ApplyResult }

/**
 * Seals the block of the chosen entries on `head`: timestamp inside the slot, state root from the
 * transition, every required proof. If the entries do not apply, a heartbeat (empty ledger
 * block) is proposed instead, so a proposer bug cannot stall the chain. The transition's result
 * comes back with the block: the proposer commits it without running the transition again.
 */
export function buildBlock(input: BuildBlockInput): BuiltBlock {
  const { genesis, head, ctx, seal } = input
  const timestamp = computeBlockTimestamp(genesis, ctx.slot, input.nowMs)
  const draftOf = (kind: Block['header']['kind'], entries: BlockEntry[]): Block => ({
    header: { chainId: genesis.chainId, height: ctx.height, prevHash: head.hash, kind, slot: ctx.slot, timestamp, proposer: ctx.proposer, bodyRoot: computeBodyRoot(entries), stateRoot: new Uint8Array(32), baseFee: ctx.baseFee, txBytes: computeBlockTxBytes(entries), round: input.round, beaconReveal: input.beaconReveal, proofs: [], signature: new Uint8Array(64) },
    entries,
  })
  let draft = draftOf(input.chosen.kind, input.chosen.entries)
  let applied: ApplyResult
  try {
    applied = input.chosen.applied === undefined ? applyBlock(input.state, draft, head.header.stateRoot, ctx) : finishChosen(input, draft.header.kind)
  } catch (err) {
    if (err instanceof StateTreeError) throw err // tree nodes not loaded yet: the caller loads them and builds again
    input.onBuildError(err)
    draft = draftOf('ledger', [])
    applied = applyBlock(input.state, draft, head.header.stateRoot, ctx)
  }
  const fields: SealFields = { ...draft.header, stateRoot: applied.stateRoot }
  return { block: { header: sealBlock(seal, fields), entries: draft.entries }, applied }
}
