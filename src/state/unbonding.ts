import type { Address, ChainParams } from '../../blocks/schema.ts'
import { equalBytes } from '../crypto/index.ts'
import { credit } from './accounts.ts'
import { BondAccount, type UnbondingEntry } from './records.ts'
import { StateOverlay, type StateReader } from './stateView.ts'
import { readRow, TABLES } from './tables.ts'

/**
 * Locked funds on their way out: unstaked validator stake and the bonds of hosts that left.
 * Each entry sits in the bucket of its release height (key 0x0c ‖ height), so a block releases
 * what is due with one read, never a scan; each owner's BondAccount lists the heights of the
 * buckets that hold its entries, so a slash finds them without a scan either. Until released,
 * the funds stay slashable for offences committed at or after the height they left the bond.
 */

const EMPTY_ACCOUNT: BondAccount = { releaseHeights: [], slashedAtHeight: undefined }

export function readBondAccount(state: StateReader, owner: Address): BondAccount {
  return readRow(state, TABLES.bondAccount.at(owner)) ?? EMPTY_ACCOUNT
}

function writeBondAccount(state: StateOverlay, owner: Address, account: BondAccount): void {
  const empty = account.releaseHeights.length === 0 && account.slashedAtHeight === undefined
  state.write(TABLES.bondAccount.at(owner), empty ? undefined : account)
}

/** Moves `amount` (already taken out of the bond) into unbonding, released at height + unbondingHeights. */
export function beginUnbonding(state: StateOverlay, entry: Omit<UnbondingEntry, 'startHeight'>, height: number, params: ChainParams): number {
  const releaseHeight = height + params.unbondingHeights
  const row = TABLES.unbonding.at(releaseHeight)
  const bucket = state.read(row) ?? { entries: [] }
  state.write(row, { entries: [...bucket.entries, { ...entry, startHeight: height }] })
  const account = readBondAccount(state, entry.owner)
  if (!account.releaseHeights.includes(releaseHeight)) {
    writeBondAccount(state, entry.owner, { ...account, releaseHeights: [...account.releaseHeights, releaseHeight].sort((a, b) => a - b) })
  }
  return releaseHeight
}

/** Credits every entry due at `height` to its owner and deletes the bucket. Runs first in every block. */
export function releaseUnbonded(state: StateOverlay, height: number): UnbondingEntry[] {
  const row = TABLES.unbonding.at(height)
  const bucket = state.read(row)
  if (bucket === undefined) return []
  for (const e of bucket.entries) {
    credit(state, e.owner, e.amount)
    const account = readBondAccount(state, e.owner)
    writeBondAccount(state, e.owner, { ...account, releaseHeights: account.releaseHeights.filter((h) => h !== height) })
  }
  state.write(row, undefined)
  return bucket.entries
}

/** The owner's entries of `kind` still unbonding at `height` that left the bond at or after `sinceHeight`. */
export function slashableUnbonding(state: StateOverlay, owner: Address, kind: number, sinceHeight: number): bigint {
  let total = 0n
  for (const releaseHeight of readBondAccount(state, owner).releaseHeights) {
    for (const e of state.read(TABLES.unbonding.at(releaseHeight))?.entries ?? []) {
      if (equalBytes(e.owner, owner) && e.kind === kind && e.startHeight >= sinceHeight) total += e.amount
    }
  }
  return total
}

/** `bps` basis points of `amount`, rounded down (the offender keeps the remainder unit). */
export function computeShare(amount: bigint, bps: number): bigint {
  return (amount * BigInt(bps)) / 10_000n
}

/** Takes `bps` of each of the owner's matching unbonding entries; returns what was taken (the caller burns or pays it). */
export function slashUnbonding(state: StateOverlay, owner: Address, kind: number, sinceHeight: number, bps: number): bigint {
  let taken = 0n
  for (const releaseHeight of readBondAccount(state, owner).releaseHeights) {
    const row = TABLES.unbonding.at(releaseHeight)
    const bucket = state.read(row)
    if (bucket === undefined) continue
    let changed = false
    const entries = bucket.entries.map((e) => {
      if (!equalBytes(e.owner, owner) || e.kind !== kind || e.startHeight < sinceHeight) return e
      const cut = computeShare(e.amount, bps)
      if (cut === 0n) return e
      taken += cut
      changed = true
      return { ...e, amount: e.amount - cut }
    })
    if (changed) state.write(row, { entries })
  }
  return taken
}

/** Removes `amount` from the supply for good (slashes are burned). */
export function burnFromSupply(state: StateOverlay, amount: bigint): void {
  if (amount === 0n) return
  const supply = state.read(TABLES.supply.at()) ?? { total: 0n, burned: 0n }
  state.write(TABLES.supply.at(), { total: supply.total - amount, burned: supply.burned + amount })
}

/** Marks the owner as slashed as a validator at `height`: it may never stake again, and later evidence is refused. */
export function tombstone(state: StateOverlay, owner: Address, height: number): void {
  writeBondAccount(state, owner, { ...readBondAccount(state, owner), slashedAtHeight: height })
}

const GiB = 1n << 30n

/** A host's bond for its declared capacity: base + perGiB × ⌈capacity / GiB⌉. */
export function computeHostBond(capacityBytes: bigint, params: ChainParams): bigint {
  return params.hostBondBase + params.hostBondPerGiB * ((capacityBytes + GiB - 1n) / GiB)
}

/** One of an owner's unbonding entries with its release height (for queries). */
export interface UnbondingView { kind: number; amount: bigint; startHeight: number; releaseHeight: number }

/** The owner's unbonding entries, by release height. */
export function readUnbonding(state: StateReader, owner: Address): UnbondingView[] {
  const out: UnbondingView[] = []
  for (const releaseHeight of readBondAccount(state, owner).releaseHeights) {
    for (const e of readRow(state, TABLES.unbonding.at(releaseHeight))?.entries ?? []) {
      if (equalBytes(e.owner, owner)) out.push({ kind: e.kind, amount: e.amount, startHeight: e.startHeight, releaseHeight })
    }
  }
  return out
}
