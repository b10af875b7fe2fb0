import { XscError } from '../../blocks/errors.ts'

export type RouterErrorCode = 'BAD_REQUEST' | 'BAD_HOST'

/** A route request or host record the router cannot work with (coordinates off the grid, bad sizes). */
export class RouterError extends XscError<RouterErrorCode> {}
