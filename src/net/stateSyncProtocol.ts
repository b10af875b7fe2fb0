import { bytes, bytes32, type Infer, list, str, struct, u32, u128 } from '../../blocks/codec.ts'
import { Commit } from '../../consensus/bft/messages.ts'
import { StateChunk } from '../state/stateTree/stateChunk.ts'
import type { NetNode } from './createNetNode.ts'
import { PROTOCOL_LIMITS, PROTOCOLS } from './messages.ts'
import { requestTyped, serveTyped, type TypedProtocol } from './typedProtocol.ts'

/**
 * State sync's two protocols: a snapshot offer (a finalized block with its commit and the next
 * height's proposer priorities) and state chunks of that block's state root
 * (src/state/stateTree/stateChunk.ts). Everything in an answer is checked by the asker.
 */

/** `height` 0 asks for the latest finalized height the peer serves. */
export const StateSnapshotRequest = struct('StateSnapshotRequest', { height: u32 })
export type StateSnapshotRequest = Infer<typeof StateSnapshotRequest>

/** One proposer-priority entry; the priority is a signed integer, sent in decimal. */
export const PriorityEntryWire = struct('PriorityEntryWire', { address: bytes32, stake: u128, priority: str(48, /^-?[0-9]+$/) })

export const StateSnapshot = struct('StateSnapshot', {
  /** The encoded block (blocks/schema.ts Block) whose state root the chunks prove against. */
  block: bytes({ max: 16 * 1024 * 1024 }),
  commit: Commit,
  /** Proposer priorities of the next height (not in the state: they follow the validator-set history). */
  priorities: list(PriorityEntryWire, 1 << 16),
  totalStake: u128,
  proposer: bytes32,
})
export type StateSnapshot = Infer<typeof StateSnapshot>

/** Chunk of the state at `height`, from path `start` up to `limit` (both inclusive, 32-byte big-endian). */
export const StateChunkRequest = struct('StateChunkRequest', { height: u32, start: bytes32, limit: bytes32 })
export type StateChunkRequest = Infer<typeof StateChunkRequest>

const SNAPSHOT: TypedProtocol<StateSnapshotRequest, StateSnapshot> = { protocol: PROTOCOLS.stateSnapshot, request: StateSnapshotRequest, response: StateSnapshot, limits: PROTOCOL_LIMITS.stateSnapshot, what: 'state snapshot' }
const CHUNK: TypedProtocol<StateChunkRequest, StateChunk> = { protocol: PROTOCOLS.stateChunk, request: StateChunkRequest, response: StateChunk, limits: PROTOCOL_LIMITS.stateChunk, what: 'state chunk' }

export type AnswerStateSnapshot = (req: StateSnapshotRequest, peer: string) => Promise<StateSnapshot | undefined>
export type AnswerStateChunk = (req: StateChunkRequest, peer: string) => Promise<StateChunk | undefined>

export async function serveStateSync(net: NetNode, answers: { snapshot: AnswerStateSnapshot; chunk: AnswerStateChunk }): Promise<void> {
  await serveTyped(net, SNAPSHOT, answers.snapshot, (req) => `no snapshot of height ${req.height} here`)
  await serveTyped(net, CHUNK, answers.chunk, (req) => `no state of height ${req.height} here`)
}

export function requestStateSnapshot(net: NetNode, peer: string, req: StateSnapshotRequest, opts: { timeoutMs?: number } = {}): Promise<StateSnapshot> {
  return requestTyped(net, peer, SNAPSHOT, req, opts)
}

export function requestStateChunk(net: NetNode, peer: string, req: StateChunkRequest, opts: { timeoutMs?: number } = {}): Promise<StateChunk> {
  return requestTyped(net, peer, CHUNK, req, opts)
}
