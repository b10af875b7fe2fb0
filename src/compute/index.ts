// Public surface of the compute runtime (what src/node and src/state's shell use).
export { type AssetKind, type ComputeJob, type ComputePool, type ComputePoolOpts, createComputePool } from './computePool.ts'
export { computeAppliedState, computeResultHash, computeWriteSet, computeWriteSetHash } from './computeResultHash.ts'
export { BYTES_PER_FUEL_SHIFT, COST, PAGE_FUEL_SHIFT } from './costTable.ts'
export { ComputeError, type ComputeErrorCode } from './errors.ts'
export { type ComponentArtifact, executeComponent, loadComponent, type LoadedComponent, prepareComponent } from './executeComponent.ts'
export {
  type ComputeLimits,
  DEFAULT_LIMITS,
  executeModule,
  type ExecutionResult,
  HOST_API,
  MAX_FUEL_LIMIT,
  type PreparedModule,
  prepareModule,
  type StateReader,
} from './executeModule.ts'
export { DEFAULT_INSTRUMENT_OPTS, type InstrumentedModule, instrumentModule, type InstrumentOpts } from './instrument/instrumentModule.ts'
