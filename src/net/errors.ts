import { XscError } from '../../blocks/errors.ts'

export type NetErrorCode =
  | 'NOT_STARTED'
  | 'BAD_KEY'
  | 'BAD_ADDRESS'
  | 'DIAL_FAILED'
  | 'UNKNOWN_TOPIC'
  | 'ALREADY_SUBSCRIBED'
  | 'MESSAGE_TOO_LARGE'
  | 'PUBLISH_FAILED'
  | 'TIMEOUT'
  | 'REQUEST_TOO_LARGE'
  | 'RESPONSE_TOO_LARGE'
  | 'FRAME_TOO_LARGE'
  | 'MALFORMED_FRAME'
  | 'TRUNCATED'
  | 'STREAM_FAILED'
  | 'REMOTE_ERROR'
  | 'BAD_MESSAGE'
  | 'HASH_MISMATCH'
  | 'NOT_FOUND'
  | 'INTERNAL'

/**
 * Every failure of the network layer. `REMOTE_ERROR` carries the code the remote handler sent in
 * `details.remoteCode`; a handler that throws an XscError has its code sent, anything else is
 * sent as `INTERNAL` with no detail (never a stack trace over the wire).
 */
export class NetError extends XscError<NetErrorCode> {}

export function isNetError(err: unknown, code?: NetErrorCode): err is NetError {
  return err instanceof NetError && (code === undefined || err.code === code)
}
