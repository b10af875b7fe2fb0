/**
 * GF(2^8) arithmetic and the Reed-Solomon coding matrix of the Rust `reed-solomon-erasure`
 * crate (our reference: its shard bytes are the on-chain format). Field polynomial 0x11D,
 * generator 2. The encoding matrix is a (k+m)×k Vandermonde matrix V[r][c] = r^c made
 * systematic by multiplying with the inverse of its top k×k block, so rows 0..k-1 are the
 * identity (data shards are the data) and rows k.. give the parity coefficients.
 */
export const GF_POLY = 0x11d

export const EXP_TABLE = new Uint8Array(510)
export const LOG_TABLE = new Uint8Array(256)
{
  let x = 1
  for (let i = 0; i < 255; i++) {
    EXP_TABLE[i] = x
    LOG_TABLE[x] = i
    x <<= 1
    if (x & 0x100) x ^= GF_POLY
  }
  for (let i = 255; i < 510; i++) EXP_TABLE[i] = EXP_TABLE[i - 255]!
}

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0
  return EXP_TABLE[LOG_TABLE[a]! + LOG_TABLE[b]!]!
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('GF(256) division by zero')
  if (a === 0) return 0
  return EXP_TABLE[LOG_TABLE[a]! + 255 - LOG_TABLE[b]!]!
}

/** a^n as the crate computes it: 0^0 = 1. */
export function gfExp(a: number, n: number): number {
  if (n === 0) return 1
  if (a === 0) return 0
  return EXP_TABLE[(LOG_TABLE[a]! * n) % 255]!
}

/** Row-major square or rectangular matrix of field elements. */
export type GfMatrix = Uint8Array[]

export function gfMatMul(a: GfMatrix, b: GfMatrix): GfMatrix {
  const rows = a.length
  const inner = b.length
  const cols = b[0]?.length ?? 0
  const out: GfMatrix = []
  for (let r = 0; r < rows; r++) {
    const row = new Uint8Array(cols)
    for (let c = 0; c < cols; c++) {
      let acc = 0
      for (let i = 0; i < inner; i++) acc ^= gfMul(a[r]![i]!, b[i]![c]!)
      row[c] = acc
    }
    out.push(row)
  }
  return out
}

/** Gauss-Jordan inverse; returns undefined for a singular matrix. */
export function gfInvert(m: GfMatrix): GfMatrix | undefined {
  const n = m.length
  const work = m.map((row, r) => {
    const w = new Uint8Array(2 * n)
    w.set(row)
    w[n + r] = 1
    return w
  })
  for (let col = 0; col < n; col++) {
    let pivot = col
    while (pivot < n && work[pivot]![col] === 0) pivot++
    if (pivot === n) return undefined
    if (pivot !== col) [work[pivot], work[col]] = [work[col]!, work[pivot]!]
    const prow = work[col]!
    const inv = gfDiv(1, prow[col]!)
    for (let c = 0; c < 2 * n; c++) prow[c] = gfMul(prow[c]!, inv)
    for (let r = 0; r < n; r++) {
      if (r === col) continue
      const row = work[r]!
      const f = row[col]!
      if (f === 0) continue
      for (let c = 0; c < 2 * n; c++) row[c]! ^= gfMul(f, prow[c]!)
    }
  }
  return work.map((w) => w.slice(n))
}

const matrixCache = new Map<string, GfMatrix>()

/** The crate's (k+m)×k systematic encoding matrix. */
export function computeEncodingMatrix(k: number, m: number): GfMatrix {
  const key = `${k}+${m}`
  const cached = matrixCache.get(key)
  if (cached) return cached
  const total = k + m
  const vandermonde: GfMatrix = []
  for (let r = 0; r < total; r++) {
    const row = new Uint8Array(k)
    for (let c = 0; c < k; c++) row[c] = gfExp(r, c)
    vandermonde.push(row)
  }
  const topInverse = gfInvert(vandermonde.slice(0, k))
  if (!topInverse) throw new RangeError(`no systematic matrix for ${k}+${m}`)
  const matrix = gfMatMul(vandermonde, topInverse)
  matrixCache.set(key, matrix)
  return matrix
}

/**
 * Coefficients that rebuild the shards in `wanted` from the k shards in `present` (indices into
 * 0..k+m-1, `present` sorted ascending, exactly k of them): rows = wanted, cols = present.
 */
export function computeRebuildMatrix(k: number, m: number, present: readonly number[], wanted: readonly number[]): GfMatrix {
  const enc = computeEncodingMatrix(k, m)
  const sub = present.map((i) => enc[i]!)
  const decode = gfInvert(sub)
  if (!decode) throw new RangeError('singular rebuild matrix')
  // Data shard d = decode row d applied to the present shards; any shard s = enc[s] · data.
  return wanted.map((s) => gfMatMul([enc[s]!], decode)[0]!)
}
