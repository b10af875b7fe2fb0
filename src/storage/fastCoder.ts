import { readFileSync } from 'node:fs'

import { StorageError } from '../state/storage/errors.ts'
import { checkCoderShape, checkPresent, type ErasureCoder } from './erasureCoder.ts'
import { computeEncodingMatrix, computeRebuildMatrix, type GfMatrix, gfMul } from './gf256.ts'
import { wasmApi, type WasmMemory, type WasmModule } from './wasmApi.ts'

/**
 * Our Reed-Solomon coder: the reference crate's matrix (see gf256.ts), multiplied with a WASM
 * SIMD kernel (wasm/gf256.c, split-table GF(256) multiply on i8x16.swizzle). Shards are streamed
 * through the module's memory in strips so memory stays bounded and the working set stays in
 * cache whatever the shard size.
 */
const STRIP = 16 * 1024

interface KernelExports {
  memory: WasmMemory
  gf_matmul(tables: number, rows: number, cols: number, ins: number, outs: number, len: number): void
  __heap_base: { value: number }
}

let wasmModule: WasmModule | undefined

function kernelModule(): WasmModule {
  wasmModule ??= new wasmApi.Module(readFileSync(new URL('./wasm/gf256.wasm', import.meta.url)))
  return wasmModule
}

/** 32 bytes per coefficient: c·x for x in 0..15, then c·(x<<4). */
function computeSplitTables(matrix: GfMatrix): Uint8Array {
  const rows = matrix.length
  const cols = matrix[0]?.length ?? 0
  const out = new Uint8Array(rows * cols * 32)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const coef = matrix[r]![c]!
      const base = (r * cols + c) * 32
      for (let x = 0; x < 16; x++) {
        out[base + x] = gfMul(coef, x)
        out[base + 16 + x] = gfMul(coef, x << 4)
      }
    }
  }
  return out
}

export class FastCoder implements ErasureCoder {
  readonly name = 'fast'
  readonly #kernel: KernelExports
  readonly #base: number
  readonly #tables = new Map<string, { matrix: GfMatrix; tables: Uint8Array }>()

  constructor() {
    const instance = new wasmApi.Instance(kernelModule(), {})
    this.#kernel = instance.exports as unknown as KernelExports
    this.#base = (this.#kernel.__heap_base.value + 15) & ~15
  }

  encode(shards: Uint8Array, k: number, m: number): void {
    const len = checkCoderShape(shards, k, m)
    const views = splitShards(shards, k + m, len)
    this.encodeParity(views.slice(0, k), views.slice(k), k, m)
  }

  /** Parity from separate data views (no contiguous buffer needed). */
  encodeParity(data: readonly Uint8Array[], parity: readonly Uint8Array[], k: number, m: number): void {
    const { tables } = this.#cached(`e${k}+${m}`, () => computeEncodingMatrix(k, m).slice(k))
    this.#matmul(tables, m, k, data, parity)
  }

  reconstruct(shards: Uint8Array, k: number, m: number, present: readonly boolean[]): void {
    const len = checkCoderShape(shards, k, m)
    checkPresent(present, k, m)
    const missing: number[] = []
    const chosen: number[] = []
    for (let i = 0; i < k + m; i++) {
      if (!present[i]) missing.push(i)
      else if (chosen.length < k) chosen.push(i)
    }
    if (missing.length === 0) return
    const views = splitShards(shards, k + m, len)
    this.rebuild(k, m, chosen, missing, chosen.map((i) => views[i]!), missing.map((i) => views[i]!))
  }

  /** Writes shards `missing` into `outs` from the k shards `chosen` (ascending) given in `ins`. */
  rebuild(k: number, m: number, chosen: readonly number[], missing: readonly number[], ins: readonly Uint8Array[], outs: readonly Uint8Array[]): void {
    if (chosen.length !== k) throw new StorageError('TOO_FEW_SHARDS', `${chosen.length} shards given, ${k} needed`)
    const key = `r${k}+${m}:${chosen.join(',')}>${missing.join(',')}`
    const { tables } = this.#cached(key, () => computeRebuildMatrix(k, m, chosen, missing))
    this.#matmul(tables, missing.length, k, ins, outs)
  }

  #cached(key: string, make: () => GfMatrix): { matrix: GfMatrix; tables: Uint8Array } {
    let hit = this.#tables.get(key)
    if (!hit) {
      const matrix = make()
      hit = { matrix, tables: computeSplitTables(matrix) }
      if (this.#tables.size > 1024) this.#tables.clear()
      this.#tables.set(key, hit)
    }
    return hit
  }

  #matmul(tables: Uint8Array, rows: number, cols: number, ins: readonly Uint8Array[], outs: readonly Uint8Array[]): void {
    const len = ins[0]?.length ?? 0
    if (ins.length !== cols || outs.length !== rows || ins.some((v) => v.length !== len) || outs.some((v) => v.length !== len)) {
      throw new StorageError('SHARD_SIZE_MISMATCH', 'shards of one coding call must all have the same length')
    }
    if (len === 0 || rows === 0) return
    const strip = Math.min(STRIP, (len + 15) & ~15)
    const tablesAt = this.#base
    const insAt = tablesAt + tables.length
    const outsAt = insAt + 4 * cols
    const bufAt = (outsAt + 4 * rows + 15) & ~15
    const end = bufAt + (rows + cols) * strip
    const memory = this.#kernel.memory
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536))
    const heap = new Uint8Array(memory.buffer)
    const ptrs = new Uint32Array(memory.buffer, insAt, cols + rows)
    heap.set(tables, tablesAt)
    for (let j = 0; j < cols; j++) ptrs[j] = bufAt + j * strip
    for (let r = 0; r < rows; r++) ptrs[cols + r] = bufAt + (cols + r) * strip
    for (let off = 0; off < len; off += strip) {
      const n = Math.min(strip, len - off)
      for (let j = 0; j < cols; j++) heap.set(ins[j]!.subarray(off, off + n), bufAt + j * strip)
      this.#kernel.gf_matmul(tablesAt, rows, cols, insAt, outsAt, n)
      for (let r = 0; r < rows; r++) {
        const at = bufAt + (cols + r) * strip
        outs[r]!.set(heap.subarray(at, at + n), off)
      }
    }
  }
}

let shared: FastCoder | undefined

/** One kernel instance per process is enough: calls are synchronous. */
export function getFastCoder(): FastCoder {
  shared ??= new FastCoder()
  return shared
}

export function splitShards(buf: Uint8Array, count: number, len: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) out.push(buf.subarray(i * len, (i + 1) * len))
  return out
}
