import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { NetError } from '../../../src/net/errors.ts'
import { CHUNK_BYTES, dataFrames, encodeChunkedMessage, encodeFrame, FRAME, type Frame, isFramingGarbage, readChunkedMessages, readFramePieces, readFrames } from '../../../src/net/framing.ts'

async function* split(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let o = 0
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c <= o || c >= bytes.length) continue
    yield bytes.subarray(o, c)
    o = c
  }
  yield bytes.subarray(o)
}

async function all(src: AsyncIterable<Uint8Array>, max?: number): Promise<Frame[]> {
  const out: Frame[] = []
  for await (const f of readFrames(src, max)) out.push(f)
  return out
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

describe('readFrames', () => {
  it('parses the same frames whatever way the bytes are split', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.nat(3000), { maxLength: 20 }),
      async (payloads, cuts) => {
        const wire = concat([...payloads.map((p) => encodeFrame(FRAME.data, p)), encodeFrame(FRAME.end)])
        const frames = await all(split(wire, cuts))
        expect(frames.map((f) => f.type)).toEqual([...payloads.map(() => FRAME.data), FRAME.end])
        frames.slice(0, -1).forEach((f, i) => expect(Buffer.from(f.payload).equals(Buffer.from(payloads[i]!))).toBe(true))
      },
    ), { numRuns: 100 })
  })

  it('rejects a frame above the limit from its header, before its payload arrives', async () => {
    const header = encodeFrame(FRAME.data, new Uint8Array(100)).subarray(0, 5)
    await expect(all(split(header, []), 99)).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' })
  })

  it('reports a stream cut inside a frame as TRUNCATED', async () => {
    const wire = encodeFrame(FRAME.data, new Uint8Array(50)).subarray(0, 30)
    await expect(all(split(wire, [7]))).rejects.toMatchObject({ code: 'TRUNCATED' })
  })

  it('rejects unknown frame types and END frames with a payload', async () => {
    const bad = new Uint8Array([9, 0, 0, 0, 0])
    await expect(all(split(bad, []))).rejects.toBeInstanceOf(NetError)
    const endWithPayload = new Uint8Array([FRAME.end, 0, 0, 0, 1, 7])
    await expect(all(split(endWithPayload, []))).rejects.toMatchObject({ code: 'MALFORMED_FRAME' })
  })
})

describe('readFramePieces', () => {
  it('gives each DATA payload as views of the received chunks that join to it, whatever the split', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.nat(3000), { maxLength: 20 }),
      async (payloads, cuts) => {
        const wire = concat([...payloads.map((p) => encodeFrame(FRAME.data, p)), encodeFrame(FRAME.end)])
        const got: Uint8Array[] = []
        let current: Uint8Array[] = []
        const types: number[] = []
        for await (const piece of readFramePieces(split(wire, cuts))) {
          // No copy: every piece lives in the wire buffer the chunks were cut from.
          if (piece.bytes.length > 0) expect(piece.bytes.buffer).toBe(wire.buffer)
          current.push(piece.bytes)
          if (piece.frameEnd) {
            types.push(piece.type)
            got.push(concat(current))
            current = []
          }
        }
        expect(types).toEqual([...payloads.map(() => FRAME.data), FRAME.end])
        got.slice(0, -1).forEach((p, i) => expect(Buffer.from(p).equals(Buffer.from(payloads[i]!))).toBe(true))
      },
    ), { numRuns: 100 })
  })

  it('reports a stream cut inside a DATA frame as TRUNCATED after the pieces that did arrive', async () => {
    const wire = encodeFrame(FRAME.data, new Uint8Array(50).fill(3)).subarray(0, 30)
    const seen: number[] = []
    await expect((async () => {
      for await (const piece of readFramePieces(split(wire, [7, 12]))) seen.push(piece.bytes.length)
    })()).rejects.toMatchObject({ code: 'TRUNCATED' })
    expect(seen.reduce((a, b) => a + b, 0)).toBe(25)
  })
})

describe('dataFrames', () => {
  it('splits a payload into chunks that reassemble to it', async () => {
    const payload = new Uint8Array(1000).map((_, i) => i & 0xff)
    const frames = await all(split(concat([...dataFrames(payload, 300)]), []))
    expect(frames.map((f) => f.payload.length)).toEqual([300, 300, 300, 100])
    expect(Buffer.from(concat(frames.map((f) => f.payload))).equals(Buffer.from(payload))).toBe(true)
  })
})

describe('chunked messages (commit feed, receipt push)', () => {
  const bad = (why: 'oversize' | 'malformed'): Error => new Error(why)
  async function messages(bytes: Uint8Array, max: number, cuts: number[] = []): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const m of readChunkedMessages(split(bytes, cuts), max, bad)) out.push(m)
    return out
  }

  it('reads back what encodeChunkedMessage wrote, one or many chunks, however the bytes are split', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 700 }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat(4_000), { maxLength: 10 }),
      async (payloads, cuts) => {
        const bytes = concat(payloads.map((p) => encodeChunkedMessage(p, 256)))
        expect((await messages(bytes, 10_000, cuts)).map((m) => Array.from(m))).toEqual(payloads.map((p) => Array.from(p)))
      },
    ))
    const big = new Uint8Array(CHUNK_BYTES + 10).fill(7)
    expect((await messages(encodeChunkedMessage(big), CHUNK_BYTES + 10))[0]).toEqual(big)
  })

  it('throws the caller\'s error for a message over the cap, an empty one, or an ERROR frame; malformed frames are framing garbage', async () => {
    await expect(messages(encodeChunkedMessage(new Uint8Array(11)), 10)).rejects.toThrow('oversize')
    await expect(messages(encodeFrame(FRAME.end), 10)).rejects.toThrow('malformed')
    await expect(messages(concat([encodeFrame(FRAME.data, new Uint8Array(3)), encodeFrame(FRAME.error)]), 10)).rejects.toThrow('malformed')
    const unknownType = encodeFrame(FRAME.data, new Uint8Array(1))
    unknownType[0] = 9
    const err = await messages(unknownType, 10).catch((e: unknown) => e)
    expect(isFramingGarbage(err)).toBe(true)
    expect(isFramingGarbage(new Error('cut'))).toBe(false)
  })
})
