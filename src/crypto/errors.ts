import { XscError } from '../../blocks/errors.ts'

/** A string that is not 0x-prefixed hex with an even number of digits, or not of the expected byte length. */
export class HexError extends XscError<{ BAD_HEX: { expected?: number; got?: number } }> {}
