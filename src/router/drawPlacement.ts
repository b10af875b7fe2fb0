import { toHex, u32be, utf8 } from '../crypto/bytes.ts'
import { hashParts } from '../crypto/hash.ts'
import type { IndexedHost } from './HostIndex.ts'

/** Domain tag of the per-slot draw, so no other use of the same seed can line up with it. */
const DRAW_TAG = utf8('xsc/placement-draw/v1')
const BP = 10_000

/** The band a placement is drawn from: both lists in rank order (docs/router.md). */
export interface PlacementBand {
  vetted: readonly IndexedHost[]
  unvetted: readonly IndexedHost[]
}

/** At most this many unvetted hosts in one placement while vetted hosts remain: ⌈replicas × share⌉. */
export function computeUnvettedCap(replicas: number, unvettedShareBp: number): number {
  return Math.ceil((replicas * unvettedShareBp) / BP)
}

function weightedPick(pool: readonly IndexedHost[], roll: bigint): IndexedHost {
  let total = 0n
  for (const h of pool) total += h.weight
  let r = roll % total
  for (const h of pool) {
    if (r < h.weight) return h
    r -= h.weight
  }
  return pool[pool.length - 1]!
}

/**
 * Draws `replicas` distinct hosts from the band, slot by slot, each slot from the hash of the seed
 * and the slot index (so the proposer cannot choose the outcome once the seed is fixed):
 *  - class: the slot goes to the unvetted hosts if its roll (0..9999) falls under unvettedShareBp
 *    and fewer than the unvetted cap were picked; to the vetted hosts otherwise. A class with no
 *    host left hands the slot to the other (a young network, where nobody is vetted yet);
 *  - zones: within the class, hosts of zones not yet picked are preferred (anti-affinity); only
 *    when the class has none left does a slot take a host of a picked zone;
 *  - host: weighted by bond × reputation (IndexedHost.weight), integer arithmetic on the 256-bit roll.
 * Returns the hosts in pick order (shard i goes to the i-th).
 */
export function drawPlacement(band: PlacementBand, replicas: number, seed: Uint8Array, unvettedShareBp: number): IndexedHost[] {
  const left = { vetted: [...band.vetted], unvetted: [...band.unvetted] }
  const cap = computeUnvettedCap(replicas, unvettedShareBp)
  const zones = new Set<string>()
  const picked: IndexedHost[] = []
  let unvettedPicked = 0
  for (let slot = 0; slot < replicas; slot++) {
    if (left.vetted.length === 0 && left.unvetted.length === 0) break
    const roll = hashParts(DRAW_TAG, seed, u32be(slot))
    const classRoll = (((roll[0]! << 24) | (roll[1]! << 16) | (roll[2]! << 8) | roll[3]!) >>> 0) % BP
    const useUnvetted = left.unvetted.length > 0 && (left.vetted.length === 0 || (unvettedPicked < cap && classRoll < unvettedShareBp))
    const pool = useUnvetted ? left.unvetted : left.vetted
    const fresh = pool.filter((h) => !zones.has(h.zone))
    const host = weightedPick(fresh.length > 0 ? fresh : pool, BigInt(toHex(roll)))
    pool.splice(pool.indexOf(host), 1)
    zones.add(host.zone)
    if (!host.vetted) unvettedPicked++
    picked.push(host)
  }
  return picked
}
