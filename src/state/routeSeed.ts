import type { Hash } from '../../blocks/schema.ts'
import { hashParts } from '../crypto/index.ts'

/**
 * The router's seed for a placement: the beacon mix of the parent state (ApplyContext.beaconMix)
 * and the subject (tx id). The mix is fixed once the parent is, and no proposer can choose it
 * (consensus/beacon.ts): it can only withhold its reveal, choosing between two mixes.
 */
export function computeRouteSeed(beaconMix: Hash, subject: Hash): Hash {
  return hashParts(beaconMix, subject)
}
