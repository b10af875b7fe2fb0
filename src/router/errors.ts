import { XscError } from '../../blocks/errors.ts'
import type { Coord } from '../../blocks/schema.ts'

export type RouterErrorPayloads = {
  BAD_REQUEST: { gridSize?: number }
  BAD_HOST: { coord?: Coord }
}
export type RouterErrorCode = keyof RouterErrorPayloads

/** A route request or host record the router cannot work with (coordinates off the grid, bad sizes). */
export class RouterError extends XscError<RouterErrorPayloads> {}
