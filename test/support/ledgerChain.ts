import type { Block, BlockEntry, GenesisConfig, Offence, SignedTx } from '../../blocks/schema.ts'
import { type Evidence, signVote, VOTE_STEP, type VoteBody } from '../../consensus/bft/messages.ts'
import { detectEquivocation } from '../../consensus/evidence.ts'
import { hash, type KeyPair, u32be, ZERO_HASH } from '../../src/crypto/index.ts'
import { applyBlock } from '../../src/state/applyBlock.ts'
import type { ApplyContext } from '../../src/state/applyContext.ts'
import { readBeaconMix } from '../../src/state/beaconState.ts'
import { computeGenesis } from '../../src/state/genesis.ts'
import { MemoryState } from '../../src/state/stateView.ts'

/**
 * A chain of ledger blocks applied straight through the state transition (no store, no
 * consensus): for state rules that span heights (unbonding, slashing, releases).
 */
export class LedgerChain {
  readonly state = new MemoryState()
  readonly genesis: GenesisConfig
  readonly proposer: Uint8Array
  height = 0
  #stateRoot: Uint8Array

  constructor(genesis: GenesisConfig, proposer: Uint8Array = new Uint8Array(32).fill(0xdd)) {
    this.genesis = genesis
    this.proposer = proposer
    const g = computeGenesis(genesis)
    this.state.apply(g.writes)
    this.#stateRoot = g.block.header.stateRoot
  }

  context(height = this.height + 1): ApplyContext {
    return { genesis: this.genesis, height, slot: height, proposer: this.proposer, prevHash: hash(u32be(height - 1)), beaconMix: readBeaconMix(this.state), baseFee: 0n }
  }

  /** Applies one ledger block of these entries at the next height; throws (and changes nothing) if it does not apply. */
  apply(entries: BlockEntry[]): void {
    const height = this.height + 1
    const block: Block = {
      header: { chainId: this.genesis.chainId, height, prevHash: ZERO_HASH, kind: 'ledger', slot: height, timestamp: 0n, proposer: this.proposer, bodyRoot: ZERO_HASH, stateRoot: ZERO_HASH, proofs: [], signature: new Uint8Array(64), baseFee: 0n, txBytes: 0, round: 0, beaconReveal: new Uint8Array(32) },
      entries,
    }
    const result = applyBlock(this.state, block, this.#stateRoot, this.context(height))
    this.state.apply(result.writes)
    this.#stateRoot = result.stateRoot
    this.height = height
  }

  txs(...txs: SignedTx[]): void {
    this.apply(txs.map((tx) => ({ type: 'tx', tx })))
  }

  evidence(...offences: Offence[]): void {
    this.apply(offences.map((offence) => ({ type: 'evidence', offence })))
  }

  /** Empty blocks up to `height`. */
  advanceTo(height: number): void {
    while (this.height < height) this.apply([])
  }
}

/** Two conflicting signed prevotes of `key` at `height` (round 0): an equivocation. */
export function doubleVote(key: KeyPair, chainId: string, height: number, round = 0): Extract<Evidence, { type: 'duplicateVote' }> {
  const body = (blockByte: number): VoteBody => ({ chainId, step: VOTE_STEP.prevote, height, round, blockId: new Uint8Array(32).fill(blockByte), validator: key.publicKey })
  const evidence = detectEquivocation(signVote(body(1), key.secretKey), signVote(body(2), key.secretKey))
  if (evidence?.type !== 'duplicateVote') throw new Error('the two votes do not conflict')
  return evidence
}

export function equivocation(evidence: Evidence): Offence {
  return { type: 'equivocation', evidence }
}
