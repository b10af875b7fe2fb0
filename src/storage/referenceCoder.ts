import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

import { ReedSolomonErasure } from '@subspace/reed-solomon-erasure.wasm'

import { StorageError } from '../state/storage/errors.ts'
import { checkCoderShape, checkPresent, type ErasureCoder } from './erasureCoder.ts'
import { wasmApi, type WasmModule } from './wasmApi.ts'

/**
 * The reference coder: Rust `reed-solomon-erasure` compiled to WASM. Its shard bytes define the
 * on-chain format; we keep it to check our own encoder against and for the benchmark.
 *
 * Two defects of the package (0.2.5) are worked around here:
 * - its JS glue copies back only the data shards after `reconstruct`, so lost parity shards are
 *   restored by encoding again;
 * - `reconstruct` corrupts the module's allocator (the next call fails with "too few shards"
 *   or traps), so each reconstruct runs in a fresh instance of the compiled module.
 */
type RsConstructor = new (exports: Record<string, unknown>) => ReedSolomonErasure

let compiled: WasmModule | undefined

function referenceModule(): WasmModule {
  compiled ??= new wasmApi.Module(readFileSync(createRequire(import.meta.url).resolve('@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm')))
  return compiled
}

function freshInstance(): ReedSolomonErasure {
  const instance = new wasmApi.Instance(referenceModule(), {})
  return new (ReedSolomonErasure as unknown as RsConstructor)(instance.exports)
}

export async function loadReferenceCoder(): Promise<ErasureCoder> {
  const rs = freshInstance()
  return {
    name: 'reference',
    encode(shards, k, m) {
      checkCoderShape(shards, k, m)
      const rc = rs.encode(shards, k, m)
      if (rc !== ReedSolomonErasure.RESULT_OK) throw new StorageError('CODER_FAILED', `reference encode returned ${rc}`, { rc })
    },
    reconstruct(shards, k, m, present) {
      checkCoderShape(shards, k, m)
      checkPresent(present, k, m)
      const rc = freshInstance().reconstruct(shards, k, m, present.slice())
      if (rc !== ReedSolomonErasure.RESULT_OK) throw new StorageError('CODER_FAILED', `reference reconstruct returned ${rc}`, { rc })
      if (present.slice(k).some((p) => !p)) {
        const rc2 = rs.encode(shards, k, m)
        if (rc2 !== ReedSolomonErasure.RESULT_OK) throw new StorageError('CODER_FAILED', `reference encode returned ${rc2}`, { rc: rc2 })
      }
    },
  }
}
