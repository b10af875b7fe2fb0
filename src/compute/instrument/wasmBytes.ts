import { ComputeError } from '../errors.ts'

/** A cursor over WASM binary bytes: LEB128 per the spec, every overrun a typed MALFORMED_WASM. */
export class WasmReader {
  pos: number
  readonly end: number
  constructor(readonly buf: Uint8Array, pos = 0, end = buf.length) {
    this.pos = pos
    this.end = end
    if (end > buf.length || pos > end) this.fail('length runs past the end of its section')
  }

  fail(what: string): never {
    throw new ComputeError('MALFORMED_WASM', `malformed wasm at byte ${this.pos}: ${what}`, { offset: this.pos })
  }

  get done(): boolean {
    return this.pos >= this.end
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end')
    return this.buf[this.pos++]!
  }

  u32(): number {
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      const b = this.u8()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffff_ffff) this.fail('u32 out of range')
        return result
      }
      shift += 7
    }
    this.fail('u32 LEB too long')
  }

  /** Signed LEB up to `bits` (33 for block types, 32/64 for consts); skips and returns sign only. */
  sleb(bits: number): bigint {
    let result = 0n
    let shift = 0n
    const maxBytes = Math.ceil(bits / 7)
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8()
      result |= BigInt(b & 0x7f) << shift
      shift += 7n
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 1n << shift
        return result
      }
    }
    this.fail(`s${bits} LEB too long`)
  }

  bytes(n: number): Uint8Array {
    if (n > this.end - this.pos) this.fail('unexpected end')
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  name(): string {
    const len = this.u32()
    const bytes = this.bytes(len)
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      this.fail('name is not UTF-8')
    }
  }
}

/** A growable byte buffer with the encoders the rewriter needs. */
export class WasmWriter {
  private buf = new Uint8Array(256)
  length = 0

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + extra) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
  }

  u8(b: number): this {
    this.ensure(1)
    this.buf[this.length++] = b
    return this
  }

  u32(n: number): this {
    do {
      let b = n & 0x7f
      n = Math.floor(n / 128)
      if (n !== 0) b |= 0x80
      this.u8(b)
    } while (n !== 0)
    return this
  }

  sleb(v: bigint): this {
    for (;;) {
      const b = Number(v & 0x7fn)
      v >>= 7n
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)
      this.u8(done ? b : b | 0x80)
      if (done) return this
    }
  }

  bytes(src: Uint8Array): this {
    this.ensure(src.length)
    this.buf.set(src, this.length)
    this.length += src.length
    return this
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s)
    return this.u32(b.length).bytes(b)
  }

  /** A vector-size-prefixed copy of another writer's bytes (sections, bodies). */
  sized(inner: WasmWriter): this {
    return this.u32(inner.length).bytes(inner.finish())
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.length)
  }
}
