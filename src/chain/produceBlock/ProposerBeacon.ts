import { XscError } from '../../../blocks/errors.ts'
import type { Hash } from '../../../blocks/schema.ts'
import { BeaconChain, computeBeaconSeed, NO_REVEAL } from '../../../consensus/beacon.ts'
import { equalBytes, hash, type KeyPair, toHex } from '../../crypto/index.ts'
import { hasLiveChain, readBeaconRecord } from '../../state/beaconState.ts'
import type { StateReader } from '../../state/stateView.ts'

/**
 * A proposer's side of the beacon: its hash chain, derived from its secret key and the chain
 * generation state records (consensus/beacon.ts computeBeaconSeed), so a restarted node
 * recomputes it and nothing else secret is stored. The chain is built once per generation and
 * serves each reveal in O(√length) hashes.
 */
export class ProposerBeacon {
  readonly #key: KeyPair
  #chain: { generation: number; length: number; chain: BeaconChain } | undefined

  constructor(key: KeyPair) {
    this.#key = key
  }

  /** The reveal this key's next block carries on `state` (the parent's): NO_REVEAL without a live chain. */
  nextReveal(state: StateReader, chainLength: number): Hash {
    const record = readBeaconRecord(state, this.#key.publicKey)
    if (!hasLiveChain(record, chainLength)) return NO_REVEAL
    const cached = this.#chain
    const chain = cached !== undefined && cached.generation === record.generation && cached.length === chainLength
      ? cached.chain
      : new BeaconChain(computeBeaconSeed(this.#key.secretKey, record.generation), chainLength)
    this.#chain = { generation: record.generation, length: chainLength, chain }
    const reveal = chain.reveal(record.revealed)
    // A commitment made from another seed (a hand-written genesis): this node cannot reveal for it.
    if (!equalBytes(hash(reveal), record.lastRevealed)) {
      throw new XscError('BEACON_SEED_MISMATCH', `the beacon commitment of ${toHex(this.#key.publicKey)} (generation ${record.generation}) is not derived from this key: commit a new one with a validator.beacon tx`)
    }
    return reveal
  }

}
