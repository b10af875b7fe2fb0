import { type ErrorWithCode, XscError } from '../../blocks/errors.ts'
import { StateError } from '../state/errors.ts'
import type { StreamDiagnostics } from './streamDiagnostics.ts'

export type NetErrorPayloads = {
  NOT_STARTED: {}
  BAD_KEY: {}
  BAD_CONFIG: { field?: string }
  BAD_ADDRESS: { addr?: string; peer?: string }
  DIAL_FAILED: { addr?: string; protocol?: string }
  UNKNOWN_TOPIC: {}
  ALREADY_SUBSCRIBED: {}
  MESSAGE_TOO_LARGE: { topic: string; bytes: number; max: number }
  PUBLISH_FAILED: { topic: string }
  TIMEOUT: { protocol?: string; timeoutMs?: number }
  /** No byte of a transfer moved for `idleMs` (the no-progress watchdog); `stream` is its flow control at that moment. */
  STALLED: { protocol?: string; idleMs?: number; stream?: StreamDiagnostics }
  /** `length`/`max` when a frame of the request was too long (see reqresp). */
  REQUEST_TOO_LARGE: { count?: number; length?: number; max?: number }
  RESPONSE_TOO_LARGE: { protocol: string; max: number }
  FRAME_TOO_LARGE: { length?: number; max?: number }
  MALFORMED_FRAME: { protocol?: string }
  TRUNCATED: { protocol?: string }
  STREAM_FAILED: { protocol?: string }
  /** The code and message the remote handler sent. */
  REMOTE_ERROR: { protocol: string; remoteCode: string; remoteMessage: string }
  BAD_MESSAGE: { peer?: string }
  HASH_MISMATCH: { got?: string; expected?: string; peer?: string }
  NOT_FOUND: {}
  INTERNAL: {}
}
export type NetErrorCode = keyof NetErrorPayloads

/**
 * Every failure of the network layer. A request handler that throws an XscError has its code
 * sent to the requester (as REMOTE_ERROR's `remoteCode`); anything else is sent as `INTERNAL`
 * with no detail (never a stack trace over the wire).
 */
export class NetError extends XscError<NetErrorPayloads> {}

export function isNetError<C extends NetErrorCode = NetErrorCode>(err: unknown, code?: C): err is ErrorWithCode<NetError, C> {
  return err instanceof NetError && (code === undefined || err.code === code)
}

/** The topics whose messages a node validates itself (receipts belong to storage coordination). */
export type ValidatedTopic = 'transactions' | 'blocks' | 'consensus' | 'commits' | 'evidence'

/**
 * The one mapping from a failed gossip validation to libp2p's answer: 'reject' penalises the
 * sender through gossipsub scoring, 'ignore' drops the message quietly. The verdict is the
 * error's own (chosen per code in each domain's errors.ts, or at the throw site), with one rule
 * on top: a block is checked against its parent's state, which every honest node shares, so a
 * state-transition failure inside a block is REJECT even where the same failure of a loose tx is
 * IGNORE (a peer a block ahead or behind may see that tx differently). Anything that is not an
 * XscError is our own failure: IGNORE.
 */
export function gossipVerdictOf(err: unknown, topic: ValidatedTopic | 'executionKeys' | 'heartbeats'): 'reject' | 'ignore' {
  if (!(err instanceof XscError)) return 'ignore'
  if (topic === 'blocks' && err instanceof StateError) return 'reject'
  return err.verdict === 'REJECT' ? 'reject' : 'ignore'
}
