import { bytes32, type Codec, encode, list, struct, u32, u128 } from '../../blocks/codec.ts'
import type { Hash } from '../../blocks/schema.ts'
import type { ProposerPriorityState } from '../../consensus/proposerPriority.ts'
import type { ValidatorStake } from '../../consensus/validatorSet.ts'
import { compareBytes, fromHex, toHex } from '../crypto/index.ts'

/** How the chain store keeps its own records (storage formats, not wire types). */

export interface TxLocation { blockHash: Hash; height: number; index: number }
export const TxLocation: Codec<TxLocation> = struct('TxLocation', { blockHash: bytes32, height: u32, index: u32 })

export interface HeadRef { hash: Hash; height: number }
export const HeadRef: Codec<HeadRef> = struct('HeadRef', { hash: bytes32, height: u32 })

/** A validator set as stored (Bucket.validatorSet), in address order. */
export const StoredValidatorSet: Codec<ValidatorStake[]> = list(struct('StoredValidator', { address: bytes32, stake: u128 }), 1 << 16)
export const encodeValidatorSet = (set: readonly ValidatorStake[]): Uint8Array => encode(StoredValidatorSet, [...set].sort((a, b) => compareBytes(a.address, b.address)).map((v) => ({ address: v.address, stake: v.stake })))

/** Priorities as stored (a storage format, not a wire type): JSON with decimal bigints. */
export function encodePriorities(p: ProposerPriorityState): Uint8Array {
  const json = { entries: p.entries.map((e) => ({ address: toHex(e.address), stake: e.stake.toString(), priority: e.priority.toString() })), totalStake: p.totalStake.toString(), proposer: toHex(p.proposer) }
  return new TextEncoder().encode(JSON.stringify(json))
}

export function decodePriorities(bytes: Uint8Array): ProposerPriorityState {
  const json = JSON.parse(new TextDecoder().decode(bytes)) as { entries: { address: string; stake: string; priority: string }[]; totalStake: string; proposer: string }
  return { entries: json.entries.map((e) => ({ address: fromHex(e.address, 32), stake: BigInt(e.stake), priority: BigInt(e.priority) })), totalStake: BigInt(json.totalStake), proposer: fromHex(json.proposer, 32) }
}
