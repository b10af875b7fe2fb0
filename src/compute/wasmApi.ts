/**
 * Typed access to the JS WebAssembly API. The project's tsconfig has no DOM lib, and
 * @types/node 20 declares only a namespace stub, so the runtime's slice of the API is typed here.
 */
export interface WasmModule { readonly __brand?: 'WasmModule' }
export interface WasmGlobal { value: bigint | number }
export interface WasmMemory { readonly buffer: ArrayBuffer }
export type WasmImportValue = ((...args: never[]) => unknown) | WasmGlobal | WasmMemory | object
export type WasmImports = Record<string, Record<string, WasmImportValue>>
export interface WasmInstance { readonly exports: Record<string, unknown> }

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule
  Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance
  Global: new (desc: { value: 'i32' | 'i64'; mutable: boolean }, init: number | bigint) => WasmGlobal
  Memory: abstract new (...args: never[]) => WasmMemory
  instantiate(module: WasmModule, imports: WasmImports): Promise<WasmInstance>
  RuntimeError: new (...args: never[]) => Error
  LinkError: new (...args: never[]) => Error
  CompileError: new (...args: never[]) => Error
}

export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
