import { type Address, CAPABILITY, type DeployPayload, type ExecutePayload, ROUTE_STRATEGY } from '../../blocks/schema.ts'
import type { RouteRequest } from './route.ts'

/**
 * The router request for an execute tx: compute hosts (private-capable if private) whose ask per
 * fuel fits the bid, in the allowed zones, with the memory the guest may need.
 */
export function computeExecutionRequest(payload: Pick<ExecutePayload, 'origin' | 'replicas' | 'bidPerFuel' | 'private' | 'zones' | 'strategy' | 'minMemoryBytes'>): RouteRequest {
  return {
    kind: 'compute',
    origin: payload.origin,
    replicas: payload.replicas,
    capabilities: CAPABILITY.compute | (payload.private ? CAPABILITY.private : 0),
    bid: payload.bidPerFuel,
    minFreeBytes: 0n,
    zones: payload.zones,
    strategy: payload.strategy,
    minMemoryBytes: payload.minMemoryBytes,
  }
}

/**
 * The router request for a deploy tx: k + m distinct storage hosts, each with room for one shard,
 * whose utilization-adjusted storage price fits the bid, in the allowed zones. For a repair pass
 * `replicas: 1` and the current holders in `exclude` (the deploy's zones still bind).
 */
export function computeDeploymentRequest(payload: Pick<DeployPayload, 'origin' | 'manifest' | 'bidPerByteEpoch' | 'zones' | 'strategy'>, exclude: readonly Address[] = []): RouteRequest {
  return {
    kind: 'storage',
    origin: payload.origin,
    replicas: payload.manifest.k + payload.manifest.m,
    capabilities: CAPABILITY.storage,
    bid: payload.bidPerByteEpoch,
    minFreeBytes: payload.manifest.shardSize,
    exclude,
    zones: payload.zones,
    strategy: payload.strategy,
  }
}

/**
 * What is wrong with a payload's placement constraints, if anything: an unknown strategy, or an
 * empty or repeated zone in the allow-list. Txs carrying one are invalid (checked at admission and
 * in the block), so the router never sees them.
 */
export function findPlacementConstraintError(p: Pick<DeployPayload, 'zones' | 'strategy'>): { field: string; reason: string } | undefined {
  if (!(Object.values(ROUTE_STRATEGY) as number[]).includes(p.strategy)) return { field: 'strategy', reason: `must be one of ${Object.entries(ROUTE_STRATEGY).map(([k, v]) => `${v} (${k})`).join(', ')}` }
  if (p.zones.some((z) => z.length === 0)) return { field: 'zones', reason: 'must not contain an empty zone' }
  if (new Set(p.zones).size !== p.zones.length) return { field: 'zones', reason: 'must not repeat a zone' }
  return undefined
}
