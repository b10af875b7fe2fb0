import { computeWriteSetHash } from '../../blocks/executionHashes.ts'
import type { Hash, KvWrite } from '../../blocks/schema.ts'
import { concatBytes, equalBytes, hashParts, toHex, ZERO_HASH } from '../crypto/index.ts'
import { StateError } from './errors.ts'
import type { ExecutionQueue, ExecutionRecord } from './records.ts'
import type { StateOverlay, StateReader } from './stateView.ts'
import { readRow, TABLES } from './tables.ts'

/**
 * Linearizable executions per asset. Every execution of an asset takes a sequence number when its
 * execution entry is applied (chain order) and is settled strictly in that order, each reading
 * the state the one before it left. `stateHash` names that state: it starts at zero and chains
 * `hash(stateHash || writeSetHash)` over every non-empty write set a completion commits, so equal
 * hashes mean equal histories and equal states. A receipt commits to the hash it ran on
 * (ReceiptBody.preStateHash); a completion takes only receipts whose hash is the queue's current
 * one, so a receipt computed on a stale state never settles anything (and never counts against
 * its host: it is simply not carried). Hosts thread the state through the queue, so several
 * executions of one asset settle in one block.
 */

export const EMPTY_QUEUE: ExecutionQueue = { nextSeq: 0n, headSeq: 0n, headSinceSlot: 0, stateHash: ZERO_HASH }

/** The state hash after an agreed write set: unchanged when it writes nothing. */
export function computeNextStateHash(pre: Hash, writeSet: readonly KvWrite[]): Hash {
  return writeSet.length === 0 ? pre : hashParts(pre, computeWriteSetHash([...writeSet]))
}

export function readExecutionQueue(state: StateReader, asset: Hash): ExecutionQueue {
  return readRow(state, TABLES.executionQueue.at(asset)) ?? EMPTY_QUEUE
}

/**
 * Executions whose ids share one state row: enqueueing rewrites its asset's tail page and settling
 * deletes a page only once all its executions settled, so the queue's index costs the state tree
 * one leaf per asset and block instead of an insert and a delete per execution.
 */
export const QUEUE_PAGE_SIZE = 64n
const ID_BYTES = 32

/** Gives a new execution its place at the tail of its asset's queue; returns its sequence number. */
export function enqueueExecution(state: StateOverlay, asset: Hash, executionId: Hash, slot: number): bigint {
  const q = readExecutionQueue(state, asset)
  const seq = q.nextSeq
  const headSinceSlot = q.headSeq === q.nextSeq ? slot : q.headSinceSlot
  state.write(TABLES.executionQueue.at(asset), { ...q, nextSeq: seq + 1n, headSinceSlot })
  const page = TABLES.executionQueuePage.at(asset, seq / QUEUE_PAGE_SIZE)
  const ids = state.read(page) ?? new Uint8Array(0)
  // Sequence numbers are dense: the page holds exactly the ids before this one.
  if (BigInt(ids.length / ID_BYTES) !== seq % QUEUE_PAGE_SIZE) throw new StateError('ENTRY_MISMATCH', `execution queue page of asset ${toHex(asset)} does not end before ${seq}`, { field: 'seq', got: String(ids.length / ID_BYTES), expected: (seq % QUEUE_PAGE_SIZE).toString() })
  state.write(page, concatBytes(ids, executionId))
  return seq
}

/**
 * The slot after which the head execution fails as a no-show: its own deadline, or as many slots
 * after it became the head as it was given, whichever is later, so time spent waiting behind
 * earlier executions never eats its hosts' window.
 */
export function computeQueueDeadline(rec: ExecutionRecord, q: ExecutionQueue): number {
  return Math.max(rec.deadlineSlot, q.headSinceSlot + (rec.deadlineSlot - rec.startSlot))
}

/** Throws unless `rec` is its asset's head; returns the queue. */
export function requireQueueHead(state: StateReader, rec: ExecutionRecord): ExecutionQueue {
  const q = readExecutionQueue(state, rec.asset)
  if (rec.seq !== q.headSeq) {
    throw new StateError('ENTRY_MISMATCH', `execution ${rec.seq} of asset ${toHex(rec.asset)} settles after ${q.headSeq}`, { field: 'executionId', got: rec.seq.toString(), expected: q.headSeq.toString() })
  }
  return q
}

/** Every receipt a completion carries must have run on the queue's current state. */
export function requireCurrentPreState(q: ExecutionQueue, preStateHashes: readonly Hash[]): void {
  for (const h of preStateHashes) {
    if (!equalBytes(h, q.stateHash)) throw new StateError('ENTRY_MISMATCH', 'receipt computed on a stale asset state', { field: 'receipts', got: toHex(h), expected: toHex(q.stateHash) })
  }
}

/** Settles the head: the next execution becomes the head now, and the state hash moves by what was committed. */
export function advanceExecutionQueue(state: StateOverlay, asset: Hash, committed: readonly KvWrite[], slot: number): void {
  const q = readExecutionQueue(state, asset)
  // The head was its page's last execution: every id the page holds is settled.
  if ((q.headSeq + 1n) % QUEUE_PAGE_SIZE === 0n) state.write(TABLES.executionQueuePage.at(asset, q.headSeq / QUEUE_PAGE_SIZE), undefined)
  state.write(TABLES.executionQueue.at(asset), { ...q, headSeq: q.headSeq + 1n, headSinceSlot: slot, stateHash: computeNextStateHash(q.stateHash, committed) })
}

/** Execution ids of the asset's unsettled executions, head first. */
export function pendingExecutionsOf(state: StateReader, asset: Hash): { seq: bigint; executionId: Hash }[] {
  const q = readExecutionQueue(state, asset)
  const prefix = concatBytes(TABLES.executionQueuePage.prefix, asset)
  const out: { seq: bigint; executionId: Hash }[] = []
  for (const w of state.scan(prefix)) {
    const first = new DataView(w.key.buffer, w.key.byteOffset + prefix.length, 8).getBigUint64(0) * QUEUE_PAGE_SIZE
    const ids = w.value!
    for (let i = 0; i * ID_BYTES < ids.length; i++) {
      const seq = first + BigInt(i)
      if (seq >= q.headSeq) out.push({ seq, executionId: ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES) })
    }
  }
  return out
}

/** Assets with unsettled executions, each once, in key order. */
export function assetsWithPendingExecutions(state: StateReader): Hash[] {
  const out: Hash[] = []
  let last = ''
  for (const w of state.scan(TABLES.executionQueuePage.prefix)) {
    const asset = w.key.subarray(1, 33)
    const id = toHex(asset)
    if (id === last) continue
    last = id
    // A tail page outlives its settled executions until the page fills: the queue says whether any wait.
    const q = readExecutionQueue(state, asset)
    if (q.headSeq < q.nextSeq) out.push(asset)
  }
  return out
}
