import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { SODIUM_AEAD_BELOW_BYTES } from '../../../src/net/aead.ts'
import { FrameOpener, FrameSealer, SEALED_HEADER_BYTES, SEALED_TAG_BYTES } from '../../../src/net/sealedFrames.ts'

const key = (): Buffer => randomBytes(32)
const payload = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill)

describe('sealed frames', () => {
  it('opens what it seals, small (libsodium) and large (node:crypto) alike, split anywhere', () => {
    const k = key()
    const sealer = new FrameSealer(k)
    const sizes = [0, 1, 150, SODIUM_AEAD_BELOW_BYTES - 1, SODIUM_AEAD_BELOW_BYTES, 70_000]
    const wire = Buffer.concat(sizes.map((n, i) => sealer.seal(payload(n, i + 1))))
    for (const cut of [1, 3, 17, wire.length]) {
      const opener = new FrameOpener(k, 1 << 20)
      const out: Uint8Array[] = []
      for (let at = 0; at < wire.length; at += cut) out.push(...opener.push(wire.subarray(at, at + cut)))
      expect(out.map((p) => p.length)).toEqual(sizes)
      out.forEach((p, i) => expect(p.every((b) => b === i + 1)).toBe(true))
      expect(opener.buffered).toBe(0)
    }
  })

  it('the two ciphers are one AEAD: a frame sealed by one opens with the other (standard ChaCha20-Poly1305)', async () => {
    const { createDecipheriv } = await import('node:crypto')
    const k = key()
    const frame = new FrameSealer(k).seal(payload(100))
    const decipher = createDecipheriv('chacha20-poly1305', k, Buffer.alloc(12), { authTagLength: 16 })
    decipher.setAAD(frame.subarray(0, 4), { plaintextLength: 100 })
    decipher.setAuthTag(frame.subarray(4 + 100))
    const plain = decipher.update(frame.subarray(4, 104))
    decipher.final()
    expect(plain.equals(Buffer.from(payload(100)))).toBe(true)
  })

  it('refuses a flipped bit (body, tag or length), a wrong key, a replay and a reordered frame', () => {
    const k = key()
    const sealer = new FrameSealer(k)
    const [f0, f1] = [sealer.seal(payload(150)), sealer.seal(payload(2000))]
    for (const at of [SEALED_HEADER_BYTES + 3, f0.length - 1]) {
      const bad = Buffer.from(f0)
      bad[at]! ^= 1
      expect(() => new FrameOpener(k, 1 << 20).push(bad)).toThrow(/does not open/)
    }
    const badLen = Buffer.from(f1)
    badLen.writeUInt32BE(1999, 0)
    expect(() => new FrameOpener(k, 1 << 20).push(badLen)).toThrow(/does not open/)
    expect(() => new FrameOpener(key(), 1 << 20).push(f0)).toThrow(/does not open/)
    const replayed = new FrameOpener(k, 1 << 20)
    expect(replayed.push(f0)).toHaveLength(1)
    expect(() => replayed.push(f0)).toThrow(/does not open/)
    expect(() => new FrameOpener(k, 1 << 20).push(f1)).toThrow(/does not open/)
  })

  it('refuses a length above its cap before reading the body', () => {
    const head = Buffer.alloc(SEALED_HEADER_BYTES)
    head.writeUInt32BE(1025, 0)
    expect(() => new FrameOpener(key(), 1024).push(head)).toThrow(/exceeds/)
    expect(SEALED_TAG_BYTES).toBe(16)
  })
})
