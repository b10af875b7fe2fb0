import { readFileSync } from 'node:fs'

/** Committed fixture binaries (built by scripts/build-fixtures.sh; tests never rebuild them). */
export function loadFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../../../fixtures/wasm/${name}.wasm`, import.meta.url)))
}

export function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

export function readU32le(b: Uint8Array, offset = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset, true)
}

export const noState = (): undefined => undefined

/** Reference implementations the fixtures are checked against. */
export function sievePrimes(n: number): { count: number; last: number } {
  const composite = new Uint8Array(n + 1)
  let count = 0
  let last = 0
  for (let i = 2; i <= n; i++) {
    if (composite[i]) continue
    count++
    last = i
    for (let j = i * i; j <= n; j += i) composite[j] = 1
  }
  return { count, last }
}

export function matmulChecksum(n: number): { sum: number; corner: number } {
  let sum = 0
  let corner = 0
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0
      for (let k = 0; k < n; k++) acc = (acc + ((i * 31 + k * 17) % 101) * ((k * 7 + j * 13) % 97)) >>> 0
      sum = (sum + acc) >>> 0
      if (i === n - 1 && j === n - 1) corner = acc
    }
  }
  return { sum, corner }
}

const M64 = (1n << 64n) - 1n
const toS64 = (v: bigint): bigint => BigInt.asIntN(64, v & M64)

/** Evaluates the parser fixture's grammar with BigInt, 64-bit wrapping; undefined = "error". */
export function evalExpression(src: string): bigint | undefined {
  let pos = 0
  let failed = false
  const skip = (): void => { while (pos < src.length && ' \t\n'.includes(src[pos]!)) pos++ }
  const atom = (): bigint => {
    skip()
    if (pos >= src.length) { failed = true; return 0n }
    const c = src[pos]!
    if (c === '(') {
      pos++
      const v = expr()
      skip()
      if (pos >= src.length || src[pos] !== ')') { failed = true; return 0n }
      pos++
      return v
    }
    if (c === '-') { pos++; return toS64(-atom()) }
    if (c < '0' || c > '9') { failed = true; return 0n }
    let v = 0n
    while (pos < src.length && src[pos]! >= '0' && src[pos]! <= '9') v = (v * 10n + BigInt(src.charCodeAt(pos++) - 48)) & M64
    return toS64(v)
  }
  const term = (): bigint => {
    let v = atom()
    for (;;) {
      skip()
      if (failed || pos >= src.length) return v
      const op = src[pos]!
      if (op !== '*' && op !== '/' && op !== '%') return v
      pos++
      const r = atom()
      if (op === '*') v = toS64(v * r)
      else if (r === 0n || (v === -(1n << 63n) && r === -1n)) { failed = true; return 0n }
      else if (op === '/') v = v / r
      else v = v % r
    }
  }
  const expr = (): bigint => {
    let v = term()
    for (;;) {
      skip()
      if (failed || pos >= src.length) return v
      const op = src[pos]!
      if (op !== '+' && op !== '-') return v
      pos++
      const r = term()
      v = toS64(op === '+' ? v + r : v - r)
    }
  }
  const v = expr()
  skip()
  return failed || pos !== src.length ? undefined : v
}
