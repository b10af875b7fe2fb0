import { XscError } from '../../blocks/errors.ts'

/** Details are lost when an error crosses from a worker to the pool, hence all optional. */
export type ComputeErrorPayloads = {
  /** Not a parseable WebAssembly binary. */
  MALFORMED_WASM: { offset?: number }
  /** A proposal the meter cannot charge deterministically (SIMD, threads, ...). */
  UNSUPPORTED_FEATURE: { feature?: string }
  /** An import outside the XSC host API. */
  UNSUPPORTED_IMPORT: { module?: string; name?: string; imports?: string[] }
  /** Module size, initial memory/table above policy, too many locals. */
  LIMIT_EXCEEDED: { what?: string; got?: number; max?: number }
  /** Missing export, bad argument JSON, unknown asset kind. */
  BAD_REQUEST: {}
  /** Wall-clock backstop fired: the runtime is broken, do not sign a receipt. */
  TIMEOUT: {}
  /** V8's stack ran out before the depth limit: machine-dependent, do not sign. */
  HOST_STACK_OVERFLOW: {}
  /** A worker died outside an execution (resource limits, bug). */
  WORKER_FAILED: {}
}
export type ComputeErrorCode = keyof ComputeErrorPayloads

/** Every failure of the compute runtime that is not an execution outcome. */
export class ComputeError extends XscError<ComputeErrorPayloads> {}
