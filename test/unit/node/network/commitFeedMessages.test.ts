import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../../blocks/codec.ts'
import { CommittedBlock } from '../../../../consensus/bft/messages.ts'
import { CommitFeedError, CommittedBlockWrites, decodeFeedMessage, encodeFeedMessage, FEED_MAX_BYTES, FEED_WRITES_MAX_BYTES, type FeedBlock } from '../../../../src/node/network/commitFeedMessages.ts'

const commit = { chainId: 'testnet', height: 7, round: 1, blockId: new Uint8Array(32).fill(9), signatures: [] }
const row = (k: number, v?: number) => ({ key: Uint8Array.of(3, k), value: v === undefined ? undefined : Uint8Array.of(v) })

describe('commit feed messages', () => {
  it('version 1 is the commits topic\'s CommittedBlock; version 2 adds the write set, sorted by key', () => {
    const committed: FeedBlock = { block: Uint8Array.of(1, 2, 3), commit, writes: [row(5, 1), row(2), row(9, 4)] }
    expect(decode(CommittedBlock, encodeFeedMessage(1, committed)!)).toEqual({ block: committed.block, commit })
    const m = decodeFeedMessage(encodeFeedMessage(2, committed)!)
    expect(m.block).toEqual(committed.block)
    expect(m.commit).toEqual(commit)
    expect(m.writes).toEqual([row(2), row(5, 1), row(9, 4)])
  })

  it('a write set too large for the message is left out, the block still sent', () => {
    const big = new Uint8Array(FEED_WRITES_MAX_BYTES / 2)
    const committed: FeedBlock = { block: Uint8Array.of(1), commit, writes: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => ({ key: Uint8Array.of(k), value: big })) }
    const bytes = encodeFeedMessage(2, committed)!
    expect(bytes.length).toBeLessThanOrEqual(FEED_MAX_BYTES[2])
    expect(decodeFeedMessage(bytes).writes).toBeUndefined()
  })

  it('a message whose keys are not strictly ascending (out of order, or one key twice) is refused as malformed', () => {
    for (const writes of [[row(5, 1), row(2)], [row(2, 1), row(2, 2)]]) {
      const bytes = encode(CommittedBlockWrites, { block: Uint8Array.of(1), commit, writes })
      expect(() => decodeFeedMessage(bytes)).toThrow(CommitFeedError)
      try {
        decodeFeedMessage(bytes)
      } catch (e) {
        expect((e as CommitFeedError).code).toBe('BAD_FEED_MESSAGE')
        expect((e as CommitFeedError).verdict).toBe('REJECT')
      }
    }
  })
})
