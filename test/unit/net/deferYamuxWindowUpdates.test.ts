import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { StreamStateError } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'

import { deferYamuxWindowUpdates } from '../../../src/net/deferYamuxWindowUpdates.ts'

const WINDOW = 256 * 1024

/** The fields sendWindowUpdate reads, on a stand-in `this` (a real stream needs a whole muxer). */
function streamState(state: StreamState, recvWindowCapacity: number) {
  const frames: { length: number; flag: number }[] = []
  return {
    frames,
    self: {
      state,
      recvWindow: WINDOW,
      recvWindowCapacity,
      epochStart: 0,
      maxStreamWindowSize: WINDOW,
      getRTT: () => -1,
      getSendFlags(this: { state: StreamState }): number {
        if (this.state === StreamState.SYNReceived) {
          this.state = StreamState.Established
          return 2 // ACK
        }
        return 0
      },
      sendFrame: (f: { length: number; flag: number }) => frames.push(f),
    },
  }
}

const send = (self: object): void => (YamuxStream.prototype as unknown as { sendWindowUpdate(this: object): void }).sendWindowUpdate.call(self)

describe('yamux window updates: granted at half the window, not after every data frame', () => {
  it('an established stream that used less than half its window sends nothing; past half it grants the used part', () => {
    deferYamuxWindowUpdates()
    const small = streamState(StreamState.Established, WINDOW - 300)
    send(small.self)
    expect(small.frames).toHaveLength(0)
    const half = streamState(StreamState.Established, WINDOW / 2 - 1)
    send(half.self)
    expect(half.frames).toEqual([expect.objectContaining({ length: WINDOW / 2 + 1 })])
  })

  it('opening a stream (its ACK) still goes out at once', () => {
    deferYamuxWindowUpdates()
    const opening = streamState(StreamState.SYNReceived, WINDOW - 300)
    send(opening.self)
    expect(opening.frames).toEqual([expect.objectContaining({ flag: 2, length: 300 })])
  })

  it('credit for a connection that closed under it is dropped, not thrown (it ended a host process); other errors still throw', () => {
    deferYamuxWindowUpdates()
    const closing = streamState(StreamState.Established, 0)
    closing.self.sendFrame = () => {
      throw new StreamStateError('Cannot write to a stream that is closed')
    }
    expect(() => send(closing.self)).not.toThrow()
    const broken = streamState(StreamState.Established, 0)
    broken.self.sendFrame = () => {
      throw new TypeError('a bug')
    }
    expect(() => send(broken.self)).toThrow(TypeError)
  })
})
