import { ComputeError } from '../errors.ts'

/** Refuses a module that uses something the meter cannot charge deterministically. */
export function unsupported(feature: string, detail: string): never {
  throw new ComputeError('UNSUPPORTED_FEATURE', `${feature} is not supported by the XSC meter: ${detail}`, { feature })
}

/** Refuses a module whose declarations exceed the execution policy. */
export function limitExceeded(what: string, got: number, max: number): never {
  throw new ComputeError('LIMIT_EXCEEDED', `${what} ${got} exceeds the limit ${max}`, { what, got, max })
}
