import { XscError } from '../../../blocks/errors.ts'
import { txId } from '../../../blocks/ids.ts'
import type { GenesisConfig, Hash, SignedTx } from '../../../blocks/schema.ts'
import { BeaconChain, computeBeaconSeed, NO_REVEAL } from '../../../consensus/beacon.ts'
import { buildTx, computeFeeAt, signTx } from '../../client/tx.ts'
import { equalBytes, hash, type KeyPair, toHex } from '../../crypto/index.ts'
import { hasLiveChain, readBeaconRecord } from '../../state/beaconState.ts'
import type { StateReader } from '../../state/stateView.ts'
import { TABLES } from '../../state/tables.ts'

/**
 * A proposer's side of the beacon: its hash chain, derived from its secret key and the chain
 * generation state records (consensus/beacon.ts computeBeaconSeed), so a restarted node
 * recomputes it and nothing else secret is stored. The chain is built once per generation and
 * serves each reveal in O(√length) hashes.
 */
export class ProposerBeacon {
  readonly #key: KeyPair
  #chain: { generation: number; length: number; chain: BeaconChain } | undefined
  #pending: { generation: number; id: Hash } | undefined

  constructor(key: KeyPair) {
    this.#key = key
  }

  /**
   * When this key is a validator without a live chain (joined by staking, exhausted, or a genesis
   * without its commitment): the `validator.beacon` tx committing to its next generation's chain,
   * signed at `nonce` and paying `feePerByte`. Undefined while its chain is live or it is no validator.
   * The proposer puts it in its own block (which reveals zero); its next block reveals from the new chain.
   */
  commitmentTx(state: StateReader, genesis: Pick<GenesisConfig, 'chainId' | 'params'>, next: { nonce: number; feePerByte: bigint; isPending(id: Hash): boolean }): SignedTx | undefined {
    const address = this.#key.publicKey
    if (state.get(TABLES.validator.key(address)) === undefined) return undefined
    const length = genesis.params.beaconChainLength
    const record = readBeaconRecord(state, address)
    if (hasLiveChain(record, length)) return undefined
    const generation = record === undefined ? 0 : record.generation + 1
    // One commitment per generation: while the last one waits in the mempool, none is added.
    if (this.#pending !== undefined && this.#pending.generation === generation && next.isPending(this.#pending.id)) return undefined
    const chain = this.#chainOf(generation, length)
    const body = { chainId: genesis.chainId, from: address, nonce: next.nonce, payload: { type: 'validator.beacon' as const, commitment: chain.commitment } }
    const tx = signTx(buildTx({ ...body, fee: computeFeeAt(body, next.feePerByte) }), this.#key.secretKey)
    this.#pending = { generation, id: txId(tx) }
    return tx
  }

  #chainOf(generation: number, length: number): BeaconChain {
    const cached = this.#chain
    if (cached !== undefined && cached.generation === generation && cached.length === length) return cached.chain
    const chain = new BeaconChain(computeBeaconSeed(this.#key.secretKey, generation), length)
    this.#chain = { generation, length, chain }
    return chain
  }

  /** The reveal this key's next block carries on `state` (the parent's): NO_REVEAL without a live chain. */
  nextReveal(state: StateReader, chainLength: number): Hash {
    const record = readBeaconRecord(state, this.#key.publicKey)
    if (record === undefined || !hasLiveChain(record, chainLength)) return NO_REVEAL
    const chain = this.#chainOf(record.generation, chainLength)
    const reveal = chain.reveal(record.revealed)
    // A commitment made from another seed (a hand-written genesis): this node cannot reveal for it.
    if (!equalBytes(hash(reveal), record.lastRevealed)) {
      throw new XscError('BEACON_SEED_MISMATCH', `the beacon commitment of ${toHex(this.#key.publicKey)} (generation ${record.generation}) is not derived from this key: commit a new one with a validator.beacon tx`)
    }
    return reveal
  }

}
