import { bytes, decode, encode, type Infer, list, optional, struct } from '../../../blocks/codec.ts'
import { XscError } from '../../../blocks/errors.ts'
import { Commit, CommittedBlock } from '../../../consensus/bft/messages.ts'
import { compareBytes } from '../../crypto/index.ts'
import { GOSSIP_MAX_BYTES } from '../../net/index.ts'
import type { StateWrite } from '../../state/stateView.ts'

/**
 * What a commit feed carries (commitFeed.ts), by protocol version:
 * - 1: a `CommittedBlock` (the block's bytes and its commit), as the `commits` gossip topic;
 * - 2: a `CommittedBlockWrites`: the same, with the state write set the sending validator applied
 *   for the block (keys strictly ascending, each a value or a deletion), which a follower may
 *   apply instead of running the block when it gives the header's state root (docs/consensus.md
 *   "What a commit vouches for"). A set too large for the message is left out: that block is run.
 */
export type FeedVersion = 1 | 2

export class CommitFeedError extends XscError<{ BAD_FEED_MESSAGE: { peer?: string }; FEED_REFUSED: { peer: string }; FEED_CLOSED: {} }> {
  static override readonly verdicts = { BAD_FEED_MESSAGE: 'REJECT', FEED_REFUSED: 'IGNORE', FEED_CLOSED: 'IGNORE' } as const
}

/** Bytes a version-2 message may carry beyond the `commits` cap, for its write set. */
export const FEED_WRITES_MAX_BYTES = 4 * 1024 * 1024
/** The largest message of each version: a follower ends a feed that sends more. */
export const FEED_MAX_BYTES: Readonly<Record<FeedVersion, number>> = { 1: GOSSIP_MAX_BYTES.commits, 2: GOSSIP_MAX_BYTES.commits + FEED_WRITES_MAX_BYTES }
/** State keys are a table prefix (≤ 2 bytes), ids (≤ 64) and at most a kv key (LIMITS.stateKey). */
const MAX_STATE_KEY_BYTES = 512
/** Rows one write set carries at most (a key and a value are tens of bytes at least: the byte cap binds first). */
const MAX_FEED_WRITES = 1 << 17

const FeedWrite = struct('FeedWrite', { key: bytes({ max: MAX_STATE_KEY_BYTES }), value: optional(bytes({ max: FEED_WRITES_MAX_BYTES })) })
export const CommittedBlockWrites = struct('CommittedBlockWrites', {
  block: bytes({ max: 16 * 1024 * 1024 }),
  commit: Commit,
  writes: optional(list(FeedWrite, MAX_FEED_WRITES)),
})
export type CommittedBlockWrites = Infer<typeof CommittedBlockWrites>

/** One committed block as a validator offers it: its bytes, its commit and the state writes it made. */
export interface FeedBlock {
  block: Uint8Array
  commit: Commit
  writes: readonly StateWrite[]
}

/** The message of `version` for one block; undefined when even without its write set it is over that version's cap. */
export function encodeFeedMessage(version: FeedVersion, committed: FeedBlock): Uint8Array | undefined {
  const { block, commit } = committed
  if (version === 1) {
    const message = encode(CommittedBlock, { block, commit })
    return message.length <= FEED_MAX_BYTES[1] ? message : undefined
  }
  // A block's write set is sorted already (StateOverlay.writeSet); the codec reads only key and value.
  const writes = isStrictlyAscending(committed.writes) ? committed.writes : [...committed.writes].sort((a, b) => compareBytes(a.key, b.key))
  try {
    const message = encode(CommittedBlockWrites, { block, commit, writes: writes as StateWrite[] }) // encode only reads it
    if (message.length <= FEED_MAX_BYTES[2]) return message
  } catch {
    // A row past the codec's bounds (never made by today's tables): the block goes without its writes.
  }
  const bare = encode(CommittedBlockWrites, { block, commit, writes: undefined })
  return bare.length <= FEED_MAX_BYTES[2] ? bare : undefined
}

/** A version-2 message; throws CommitFeedError BAD_FEED_MESSAGE (REJECT) on one that does not parse or whose keys are not strictly ascending. */
export function decodeFeedMessage(bytes: Uint8Array): CommittedBlockWrites {
  const message = decode(CommittedBlockWrites, bytes)
  if (message.writes !== undefined && !isStrictlyAscending(message.writes)) {
    throw new CommitFeedError('BAD_FEED_MESSAGE', 'write set keys are not strictly ascending')
  }
  return message
}

function isStrictlyAscending(writes: readonly { key: Uint8Array }[]): boolean {
  for (let i = 1; i < writes.length; i++) if (compareBytes(writes[i - 1]!.key, writes[i]!.key) >= 0) return false
  return true
}
