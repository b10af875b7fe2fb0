import type { Block } from '../../blocks/schema.ts'
import { applyLedgerTx } from './applyLedger.ts'
import type { ApplyContext } from './applyContext.ts'
import { StateError } from './errors.ts'
import { computeStateRoot, StateOverlay, type StateReader, type StateWrite } from './stateView.ts'

export interface ApplyResult {
  writes: StateWrite[]
  stateRoot: Uint8Array
}

/**
 * The state transition: the same block on the same state gives the same write set and state
 * root on every machine. Pure: facts from outside arrive in `ctx`; nothing here does I/O.
 */
export function applyBlock(state: StateReader, block: Block, prevStateRoot: Uint8Array, ctx: ApplyContext): ApplyResult {
  const overlay = new StateOverlay(state)
  for (const entry of block.entries) {
    switch (entry.type) {
      case 'tx':
        applyLedgerTx(overlay, entry.tx, ctx)
        break
      case 'genesis':
        throw new StateError('WRONG_ENTRY_KIND', 'a genesis entry can only be in the genesis block')
      default:
        throw new StateError('UNSUPPORTED', `${entry.type} entries are not applied by this node version`)
    }
  }
  const writes = overlay.writeSet()
  return { writes, stateRoot: computeStateRoot(prevStateRoot, writes) }
}
