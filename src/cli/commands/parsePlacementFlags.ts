import { LIMITS, ROUTE_STRATEGY, type RouteStrategy } from '../../../blocks/schema.ts'
import type { HostSummary } from '../../rpc/backend.ts'
import { CliError } from '../errors.ts'

/** The placement flags deploy and exec share: `--zones a,b` and `--strategy NAME`. */
export const PLACEMENT_FLAG_OPTIONS = {
  zones: { type: 'string' },
  strategy: { type: 'string', default: 'balanced' },
} as const

export interface PlacementFlags {
  /** Hard allow-list of host zones; empty: any zone. */
  zones: string[]
  strategy: RouteStrategy
}

/** `--zones eu-1,eu-2` (a hard allow-list; absent: any zone) and `--strategy nearest|cheapest|reputation|balanced`. */
export function parsePlacementFlags(values: { zones?: string | undefined; strategy?: string | undefined }): PlacementFlags {
  const zones = values.zones === undefined ? [] : values.zones.split(',').map((z) => z.trim())
  if (zones.some((z) => z.length === 0 || z.length > LIMITS.zone)) throw new CliError('USAGE', `--zones takes a comma-separated list of zone names of 1..${LIMITS.zone} characters, got "${values.zones}"`)
  if (new Set(zones).size !== zones.length) throw new CliError('USAGE', `--zones repeats a zone: "${values.zones}"`)
  if (zones.length > LIMITS.zoneAllowList) throw new CliError('USAGE', `--zones allows at most ${LIMITS.zoneAllowList} zones`)
  const strategy = values.strategy ?? 'balanced'
  if (!(strategy in ROUTE_STRATEGY)) throw new CliError('USAGE', `--strategy must be one of ${Object.keys(ROUTE_STRATEGY).join(', ')}, got "${strategy}"`)
  return { zones, strategy: strategy as RouteStrategy }
}

/** The hosts a placement with these flags may use (the router's zone filter, for the CLI's pre-check). */
export function filterAllowedZones(hosts: HostSummary[], zones: readonly string[]): HostSummary[] {
  return zones.length === 0 ? hosts : hosts.filter((h) => zones.includes(h.record.params.zone))
}
