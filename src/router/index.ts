export { HostIndex, type HostIndexParams, type IndexedHost } from './HostIndex.ts'
export { route, routeExhaustive, isEligibleHost, COST_BASE, COST_WEIGHTS, type RouteRequest, type RouteStats } from './route.ts'
export { computeExecutionRequest, computeDeploymentRequest } from './routeRequests.ts'
export { RouterError, type RouterErrorCode } from './errors.ts'
