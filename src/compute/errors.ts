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

export type PrivateExecutionErrorPayloads = {
  /** Ciphertext too short or failing its tag: wrong key, tampered, or not a private payload. */
  BAD_CIPHERTEXT: { what: 'input' | 'output' | 'wrappedKey' }
  /** A key of the wrong length, or an X25519 key that gives no usable shared secret. */
  BAD_KEY: { what: string }
  /** An assigned host published no encryption key: keys cannot be wrapped to it. */
  NO_HOST_KEY: { host: string }
  /** The execution is unknown, not private, or no longer pending. */
  NOT_PRIVATE_PENDING: { executionId: string }
  /** A key delivery not signed by the execution's client, or naming a host not assigned. */
  BAD_DELIVERY: { reason: string }
}

/** Failures of private executions' encryption and key delivery (src/compute/privateExecutionCipher.ts). */
export class PrivateExecutionError extends XscError<PrivateExecutionErrorPayloads> {
  static override readonly verdicts = { BAD_CIPHERTEXT: 'REJECT', BAD_KEY: 'REJECT', NO_HOST_KEY: 'IGNORE', NOT_PRIVATE_PENDING: 'IGNORE', BAD_DELIVERY: 'REJECT' } as const
}
