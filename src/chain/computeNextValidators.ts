import { decode } from '../../blocks/codec.ts'
import { computeNextHeightPriorities, type ProposerPriorityState } from '../../consensus/proposerPriority.ts'
import type { ValidatorStake } from '../../consensus/validatorSet.ts'
import { toHex } from '../crypto/index.ts'
import { Validator } from '../state/records.ts'
import type { StateWrite } from '../state/stateView.ts'
import { idOfKey, isKeyOf, TABLES } from '../state/tables.ts'

/** The validator set after a block's writes (the next height's) and its proposer priorities. */
export function computeNextValidators(validators: readonly ValidatorStake[], priorities: ProposerPriorityState, writes: readonly StateWrite[]): { nextValidators: ValidatorStake[]; priorities: ProposerPriorityState } {
  const byAddress = new Map(validators.map((v) => [toHex(v.address), v]))
  for (const w of writes) {
    if (!isKeyOf(TABLES.validator, w.key)) continue
    const address = idOfKey(TABLES.validator, w.key)
    if (w.value === undefined) byAddress.delete(toHex(address))
    else byAddress.set(toHex(address), { address, stake: decode(Validator, w.value).stake })
  }
  const nextValidators = [...byAddress.values()]
  return { nextValidators, priorities: computeNextHeightPriorities(priorities, nextValidators) }
}
