import type { Block, BlockEntry, GenesisConfig } from '../../blocks/schema.ts'
import { type KeyPair, ZERO_HASH } from '../../src/crypto/index.ts'
import { applyBlock } from '../../src/state/applyBlock.ts'
import { readBeaconMix } from '../../src/state/beaconState.ts'
import { computeGenesis } from '../../src/state/genesis.ts'
import { MemoryState } from '../../src/state/stateView.ts'

/** Ledger blocks applied straight through the transition, each by `proposer` with `reveal`. */
export class BeaconLedger {
  readonly state = new MemoryState()
  height = 0
  #root: Uint8Array
  constructor(readonly genesis: GenesisConfig) {
    const g = computeGenesis(genesis)
    this.state.apply(g.writes)
    this.#root = g.block.header.stateRoot
  }

  apply(proposer: KeyPair, beaconReveal: Uint8Array, entries: BlockEntry[] = []): void {
    const height = this.height + 1
    const block: Block = {
      header: { chainId: this.genesis.chainId, height, prevHash: ZERO_HASH, kind: 'ledger', slot: height, timestamp: 0n, proposer: proposer.publicKey, bodyRoot: ZERO_HASH, stateRoot: ZERO_HASH, baseFee: 0n, txBytes: 0, round: 0, beaconReveal, proofs: [], signature: new Uint8Array(64) },
      entries,
    }
    const result = applyBlock(this.state, block, this.#root, { genesis: this.genesis, height, slot: height, proposer: proposer.publicKey, prevHash: ZERO_HASH, beaconMix: readBeaconMix(this.state), baseFee: 0n })
    this.state.apply(result.writes)
    this.#root = result.stateRoot
    this.height = height
  }
}
