import type { ConsensusConfig } from '../blocks/schema.ts'
import { ConsensusError } from './errors.ts'

/** Shared by the schemes' checkConfig: an integer field of the consensus config inside [min, max]. */
export function checkIntField(scheme: string, config: ConsensusConfig, field: keyof ConsensusConfig, min: number, max: number): number {
  const value = config[field]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConsensusError('BAD_CONFIG', `${scheme}: ${field} must be an integer in [${min}, ${max}]`, { scheme, field, got: value, min, max })
  }
  return value
}
