import { XscError } from '../../blocks/errors.ts'

/** A string that is not 0x-prefixed hex with an even number of digits, or not of the expected byte length. */
export class HexError extends XscError<{ BAD_HEX: { expected?: number; got?: number } }> {}

/** A key of the wrong length or one that cannot be used (e.g. a low-order X25519 point). */
export class CryptoError extends XscError<{ BAD_KEY: { got?: number } }> {}
