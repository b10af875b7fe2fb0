import { computeValidatorSet, type ValidatorSet, type ValidatorStake } from '../../consensus/validatorSet.ts'
import { toHex } from '../crypto/index.ts'
import type { StateReader, StateWrite } from '../state/stateView.ts'
import { idOfKey, isKeyOf, scanRows, TABLES } from '../state/tables.ts'

/**
 * The bonded validators as of the head, read from the validator table again only after a
 * committed block wrote to it. Most blocks do not, and every height asked for the set several
 * times (the consensus machine, the block context, commits, link sends): the rows were decoded
 * anew at each new head. One array, its normalized set and its hex addresses serve every head in
 * between, so caches keyed on the array stay valid exactly as long as its content.
 */
export class ValidatorTable {
  readonly #state: StateReader
  #version = 0
  #cache: { version: number; set: ValidatorStake[]; normalized?: ValidatorSet; hexes?: readonly string[] } | undefined

  constructor(state: StateReader) {
    this.#state = state
  }

  /** Called with every write set committed to the state this reads (ChainStore.onStateChange). */
  noteWrites(writes: readonly StateWrite[]): void {
    if (writes.some((w) => isKeyOf(TABLES.validator, w.key))) this.#version++
  }

  /** Bonded validators, in address order. */
  list(): ValidatorStake[] {
    if (this.#cache?.version === this.#version) return this.#cache.set
    const set = scanRows(this.#state, TABLES.validator).map((r) => ({ address: idOfKey(TABLES.validator, r.key), stake: r.row.stake }))
    this.#cache = { version: this.#version, set }
    return set
  }

  /** `list()` normalized (consensus/validatorSet.ts), once per content. */
  set(): ValidatorSet {
    const list = this.list()
    return (this.#cache!.normalized ??= computeValidatorSet(list))
  }

  /** The hex addresses of `list()`, once per content (links and the receipt push look members up by them on every send). */
  hexes(): readonly string[] {
    const list = this.list()
    return (this.#cache!.hexes ??= list.map((v) => toHex(v.address)))
  }
}
