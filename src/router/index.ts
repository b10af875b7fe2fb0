export { RouterError, type RouterErrorCode } from './errors.ts'
export { HostIndex, type HostIndexParams, type IndexedHost } from './HostIndex.ts'
export { COST_BASE, COST_WEIGHTS, isEligibleHost, route, routeExhaustive, type RouteRequest, type RouteStats } from './route.ts'
export { computeDeploymentRequest, computeExecutionRequest } from './routeRequests.ts'
