import { XscError } from '../../../blocks/errors.ts'

export type StateTreeErrorPayloads = {
  /**
   * A tree node the update or proof needs is not in the node cache: the caller loads the paths
   * of `keys` (async, from disk) and runs again. Our own condition, never the block's fault.
   */
  NOT_LOADED: { root: Uint8Array; keys: Uint8Array[] }
  /** Stored node bytes that do not parse as a node. */
  CORRUPT_NODE: { hash: string }
  /** A proof that does not reach the root it is checked against (or is malformed). */
  BAD_PROOF: { key?: string; reason: string }
}
export type StateTreeErrorCode = keyof StateTreeErrorPayloads

export class StateTreeError extends XscError<StateTreeErrorPayloads> {}
