import { XscError } from '../../blocks/errors.ts'

export type ComputeErrorCode =
  | 'MALFORMED_WASM' // not a parseable WebAssembly binary
  | 'UNSUPPORTED_FEATURE' // a proposal the meter cannot charge deterministically (SIMD, threads, ...)
  | 'UNSUPPORTED_IMPORT' // an import outside the XSC host API
  | 'LIMIT_EXCEEDED' // module size, initial memory/table above policy, too many locals
  | 'BAD_REQUEST' // missing export, bad argument JSON, unknown asset kind
  | 'TIMEOUT' // wall-clock backstop fired: the runtime is broken, do not sign a receipt
  | 'HOST_STACK_OVERFLOW' // V8's stack ran out before the depth limit: machine-dependent, do not sign
  | 'WORKER_FAILED' // a worker died outside an execution (resource limits, bug)

/** Every failure of the compute runtime that is not an execution outcome. */
export class ComputeError extends XscError<ComputeErrorCode> {}
