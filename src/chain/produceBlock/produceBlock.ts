import { computeBodyRoot } from '../../../blocks/ids.ts'
import type { Block, BlockEntry, GenesisConfig, SealFields } from '../../../blocks/schema.ts'
import { sealBlock, type SealContext } from '../../../consensus/sealBlock.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import type { HostIndex } from '../../router/index.ts'
import { applyBlock } from '../../state/applyBlock.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import { readBeaconMix } from '../../state/beaconState.ts'
import { computeBlockTxBytes, computeNextBaseFee } from '../../state/fees.ts'
import { StateTreeError } from '../../state/stateTree/errors.ts'
import type { StateReader } from '../../state/stateView.ts'
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
 * Seals the block of the chosen entries on `head`: timestamp inside the slot, state root from the
 * transition, every required proof. If the entries do not apply, a heartbeat (empty ledger
 * block) is proposed instead, so a proposer bug cannot stall the chain.
 */
export function buildBlock(input: BuildBlockInput): Block {
  const { genesis, head, ctx, seal } = input
  const timestamp = computeBlockTimestamp(genesis, ctx.slot, input.nowMs)
  const draftOf = (kind: Block['header']['kind'], entries: BlockEntry[]): Block => ({
    header: { chainId: genesis.chainId, height: ctx.height, prevHash: head.hash, kind, slot: ctx.slot, timestamp, proposer: ctx.proposer, bodyRoot: computeBodyRoot(entries), stateRoot: new Uint8Array(32), baseFee: ctx.baseFee, txBytes: computeBlockTxBytes(entries), round: input.round, beaconReveal: input.beaconReveal, proofs: [], signature: new Uint8Array(64) },
    entries,
  })
  let draft = draftOf(input.chosen.kind, input.chosen.entries)
  let stateRoot: Uint8Array
  try {
    stateRoot = applyBlock(input.state, draft, head.header.stateRoot, ctx).stateRoot
  } catch (err) {
    if (err instanceof StateTreeError) throw err // tree nodes not loaded yet: the caller loads them and builds again
    input.onBuildError(err)
    draft = draftOf('ledger', [])
    stateRoot = applyBlock(input.state, draft, head.header.stateRoot, ctx).stateRoot
  }
  const fields: SealFields = { ...draft.header, stateRoot }
  return { header: sealBlock(seal, fields), entries: draft.entries }
}
