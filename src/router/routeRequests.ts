import { type Address, CAPABILITY, type DeployPayload, type ExecutePayload } from '../../blocks/schema.ts'
import type { RouteRequest } from './route.ts'

/** The router request for an execute tx: compute hosts (private-capable if private) whose ask per fuel fits the bid. */
export function computeExecutionRequest(payload: Pick<ExecutePayload, 'origin' | 'replicas' | 'bidPerFuel' | 'private'>): RouteRequest {
  return {
    kind: 'compute',
    origin: payload.origin,
    replicas: payload.replicas,
    capabilities: CAPABILITY.compute | (payload.private ? CAPABILITY.private : 0),
    bid: payload.bidPerFuel,
    minFreeBytes: 0n,
  }
}

/**
 * The router request for a deploy tx: k + m distinct storage hosts, each with room for one shard,
 * whose utilization-adjusted storage price fits the bid. For a repair pass `replicas: 1` and the
 * current holders in `exclude`.
 */
export function computeDeploymentRequest(payload: Pick<DeployPayload, 'origin' | 'manifest' | 'bidPerByteEpoch'>, exclude: readonly Address[] = []): RouteRequest {
  return {
    kind: 'storage',
    origin: payload.origin,
    replicas: payload.manifest.k + payload.manifest.m,
    capabilities: CAPABILITY.storage,
    bid: payload.bidPerByteEpoch,
    minFreeBytes: payload.manifest.shardSize,
    exclude,
  }
}
