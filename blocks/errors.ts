/**
 * The gossip verdict an error carries: REJECT when the bytes can never be valid (gossipsub
 * penalises the sender), IGNORE when they may become valid later or the failure is our own.
 * Each domain chooses it per code below its class; a throw site may override it. The one
 * mapping to libp2p's answers is `gossipVerdictOf` in src/net/errors.ts.
 */
export type GossipVerdict = 'REJECT' | 'IGNORE'

/** A domain's codes, each with the type of its `details` (`{}` when a code carries nothing). */
export type ErrorPayloads = { [code: string]: object }

export interface XscErrorOptions {
  cause?: unknown
  /** Overrides the verdict the domain chose for this code. */
  verdict?: GossipVerdict
}

type CodeOf<P> = keyof P & string

/** `new XError(code, message, details, options)`, with `details` checked against that code's payload (optional when it is `{}`). */
export type XscErrorArgs<P extends ErrorPayloads> = {
  [C in CodeOf<P>]: {} extends P[C]
    ? [code: C, message: string, details?: P[C], options?: XscErrorOptions]
    : [code: C, message: string, details: P[C], options?: XscErrorOptions]
}[CodeOf<P>]

/** What every domain error has; constrains the helper types below. */
type CodedError = Error & { readonly code: string; readonly details: object }

type PayloadsOf<E> = E extends XscError<infer P> ? P : never

/** An error of class E known to have code C: `details` has that code's payload type. */
export type ErrorWithCode<E extends CodedError, C extends E['code']> = E & { readonly code: C; readonly details: PayloadsOf<E>[C] }

/**
 * What `instanceof` narrows to: one member per code, so `err.code === 'X'` narrows `err.details`.
 * A class whose codes are any string (XscError itself) stays as it is, with `details: object`.
 */
type ByCode<E extends CodedError> = string extends E['code'] ? XscError : { [C in E['code']]: ErrorWithCode<E, C> }[E['code']]

/**
 * The project's base error (viem's BaseError, Lodestar's typed codes): a stable machine code, a
 * short message, details typed per code, an optional cause and a gossip verdict. Each domain
 * declares one payload map and one subclass in its folder's `errors.ts`:
 *
 *   type ForkChoiceErrorPayloads = { BRANCH_INVALID: { badHash: string; height: number }, ... }
 *   class ForkChoiceError extends XscError<ForkChoiceErrorPayloads> {}
 *   if (e instanceof ForkChoiceError && e.code === 'BRANCH_INVALID') e.details.badHash // string
 *
 * RPC maps codes to JSON-RPC errors (src/rpc/errors.ts), gossip maps verdicts (src/net/errors.ts).
 */
export class XscError<P extends ErrorPayloads = ErrorPayloads> extends Error {
  readonly code: CodeOf<P>
  readonly details: P[CodeOf<P>]
  // Private, so an error's own properties stay code and details (what tests, logs and RPC see).
  readonly #verdict: GossipVerdict

  /** Verdict per code when the throw site chooses none; codes not listed are IGNORE (our own failure, or not yet). */
  static readonly verdicts: { readonly [code: string]: GossipVerdict } = {}

  constructor(...[code, message, details, options]: XscErrorArgs<P>) {
    super(message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined)
    this.name = new.target.name
    this.code = code
    // An omitted `details` is allowed only where the code's payload is `{}` (see XscErrorArgs).
    this.details = (details ?? {}) as P[CodeOf<P>]
    this.#verdict = options?.verdict ?? new.target.verdicts[code] ?? 'IGNORE'
  }

  /** REJECT or IGNORE: the throw site's choice, else the domain's for this code, else IGNORE. */
  get verdict(): GossipVerdict {
    return this.#verdict
  }

  // The usual instanceof test, typed so that checking `code` afterwards narrows `details`.
  static override [Symbol.hasInstance]<E extends CodedError>(this: { prototype: E }, value: unknown): value is ByCode<E> {
    return typeof value === 'object' && value !== null && Object.prototype.isPrototypeOf.call(this.prototype, value)
  }
}

export type CodecErrorPayloads = {
  MALFORMED: {}
  TRAILING_BYTES: {}
  WRONG_TYPE: { path?: string }
  OUT_OF_RANGE: { path: string }
  UNKNOWN_VERSION: { path: string }
  UNKNOWN_TAG: { path: string }
  NON_CANONICAL: {}
  TOO_LARGE: { path?: string }
}
export type CodecErrorCode = keyof CodecErrorPayloads

/** Raised by every decoder for bytes that are not the one canonical form of a valid value: always REJECT. */
export class CodecError extends XscError<CodecErrorPayloads> {
  // Same shape in every domain's errors.ts by design: each domain declares its own verdicts.
  static override readonly verdicts: Record<CodecErrorCode, GossipVerdict> = {
    MALFORMED: 'REJECT', TRAILING_BYTES: 'REJECT', WRONG_TYPE: 'REJECT', OUT_OF_RANGE: 'REJECT',
    UNKNOWN_VERSION: 'REJECT', UNKNOWN_TAG: 'REJECT', NON_CANONICAL: 'REJECT', TOO_LARGE: 'REJECT',
  }
}

/** What a check found beside what it wanted (reth's `{got, expected}`); hashes travel as hex. */
export type Mismatch<T> = { got: T; expected: T }

export type BlockErrorPayloads = {
  WRONG_CHAIN: Mismatch<string>
  PARENT_UNKNOWN: { hash: string; parent: string }
  WRONG_HEIGHT: Mismatch<number>
  WRONG_PARENT: Mismatch<string>
  TIMESTAMP_NOT_AFTER_PARENT: { got: number; parent: number }
  WRONG_ENTRY_KIND: { index: number }
  EMPTY_BLOCK: {}
  BAD_BODY_ROOT: Mismatch<string>
  DUPLICATE_TX: { txId: string }
  BAD_STATE_ROOT: Mismatch<string>
  /** A committed block's write set, as a peer sent it, does not give the header's state root (the sender's fault, not the block's). */
  BAD_WRITE_SET: Mismatch<string>
  ALREADY_KNOWN: { hash: string }
  FINALIZED_CONFLICT: {}
}
export type BlockErrorCode = keyof BlockErrorPayloads

/** A block that is invalid in itself or against its parent. Only "not yet" and "seen" are IGNORE. */
export class BlockError extends XscError<BlockErrorPayloads> {
  // Same shape in every domain's errors.ts by design: each domain declares its own verdicts.
  static override readonly verdicts: Record<BlockErrorCode, GossipVerdict> = {
    WRONG_CHAIN: 'REJECT', PARENT_UNKNOWN: 'IGNORE', WRONG_HEIGHT: 'REJECT', WRONG_PARENT: 'REJECT',
    TIMESTAMP_NOT_AFTER_PARENT: 'REJECT', WRONG_ENTRY_KIND: 'REJECT', EMPTY_BLOCK: 'REJECT', BAD_BODY_ROOT: 'REJECT',
    DUPLICATE_TX: 'REJECT', BAD_STATE_ROOT: 'REJECT', BAD_WRITE_SET: 'REJECT', ALREADY_KNOWN: 'IGNORE', FINALIZED_CONFLICT: 'REJECT',
  }
}
