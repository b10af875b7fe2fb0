import { XscError } from '../../../blocks/errors.ts'

export type StateTreeErrorPayloads = {
  /**
   * A tree node the update or proof needs is not in the node cache (`root` is the tree it was
   * read in), or a state value of a table served from disk is not in the value cache (`root`
   * undefined: the head's values): the caller loads `keys` (async, from disk) and runs again.
   * Our own condition, never the block's fault.
   */
  NOT_LOADED: { root: Uint8Array | undefined; keys: Uint8Array[] }
  /** A table served from disk (accounts) is read by key only: no block or query may walk it. */
  NOT_SCANNABLE: { prefix: number }
  /** Stored node bytes that do not parse as a node. */
  CORRUPT_NODE: { hash: string }
  /** A proof that does not reach the root it is checked against (or is malformed). */
  BAD_PROOF: { key?: string; reason: string }
}
export type StateTreeErrorCode = keyof StateTreeErrorPayloads

export class StateTreeError extends XscError<StateTreeErrorPayloads> {}
