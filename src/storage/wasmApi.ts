/**
 * The slice of the WebAssembly JS API the storage coders use. The project's tsconfig has no DOM
 * lib, and @types/node declares the namespace only partly, so it is typed here.
 */
export interface WasmModule { readonly __wasmModule: true }
export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
export interface WasmInstance { readonly exports: Record<string, unknown> }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule
  Instance: new (module: WasmModule, imports: Record<string, unknown>) => WasmInstance
}

export const wasmApi: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
