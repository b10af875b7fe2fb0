/**
 * The project's base error: a stable machine code, a short message, structured details and an
 * optional cause (viem's BaseError, Lodestar's typed codes). Each domain has one subclass with
 * its own code union; RPC maps codes to JSON-RPC errors, gossip maps them to REJECT/IGNORE.
 */
export class XscError<Code extends string = string> extends Error {
  readonly code: Code
  readonly details: Record<string, unknown>
  constructor(code: Code, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.details = details
  }
}

export type CodecErrorCode = 'MALFORMED' | 'TRAILING_BYTES' | 'WRONG_TYPE' | 'OUT_OF_RANGE' | 'UNKNOWN_VERSION' | 'UNKNOWN_TAG' | 'NON_CANONICAL' | 'TOO_LARGE'

/** Raised by every decoder for bytes that are not the one canonical form of a valid value. */
export class CodecError extends XscError<CodecErrorCode> {}
