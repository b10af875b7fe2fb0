import type { Address, BlockEntry } from '../../../blocks/schema.ts'
import { TABLES } from '../tables.ts'

/**
 * The state keys a block's entries will almost surely write, named by the entries themselves:
 * the proposer's and each sender's account, transfer recipients, the host or validator record a
 * host/stake tx changes, the accounts a completion pays or an audit pays rent to. The chain
 * store loads their values and tree paths before the transition runs, so the run does not stop
 * on what is not in memory; keys missed here still work (one more run after loading). Pure.
 */
export function computeTouchedKeys(entries: readonly BlockEntry[], proposer: Address): Uint8Array[] {
  // Every block folds its proposer's beacon reveal into the mix (src/state/beaconState.ts).
  const keys: Uint8Array[] = [TABLES.account.key(proposer), TABLES.beaconMix.key(), TABLES.beaconRecord.key(proposer)]
  for (const e of entries) {
    if (e.type === 'completion' || e.type === 'audit') {
      for (const p of e.type === 'completion' ? e.payouts : e.rent) keys.push(TABLES.account.key(p.to))
      continue
    }
    if (!('tx' in e)) continue
    const { from, payload } = e.tx.body
    keys.push(TABLES.account.key(from))
    switch (payload.type) {
      case 'transfer':
        keys.push(TABLES.account.key(payload.to))
        break
      case 'host.join':
      case 'host.update':
      case 'host.leave':
        keys.push(TABLES.host.key(from))
        break
      case 'stake':
      case 'unstake':
        keys.push(TABLES.validator.key(from))
        break
      default:
        break
    }
  }
  return keys
}
