// Public surface of the compute runtime (what src/node and src/state's shell use).
export { createComputePool, type ComputePool, type ComputePoolOpts, type ComputeJob, type AssetKind } from './computePool.ts'
export { computeResultHash, computeWriteSetHash, computeWriteSet, computeAppliedState } from './computeResultHash.ts'
export { ComputeError, type ComputeErrorCode } from './errors.ts'
export { COST, BYTES_PER_FUEL_SHIFT, PAGE_FUEL_SHIFT } from './costTable.ts'
export {
  DEFAULT_LIMITS,
  MAX_FUEL_LIMIT,
  HOST_API,
  executeModule,
  prepareModule,
  type ComputeLimits,
  type ExecutionResult,
  type PreparedModule,
  type StateReader,
} from './executeModule.ts'
export { executeComponent, loadComponent, prepareComponent, type ComponentArtifact, type LoadedComponent } from './executeComponent.ts'
export { instrumentModule, DEFAULT_INSTRUMENT_OPTS, type InstrumentOpts, type InstrumentedModule } from './instrument/instrumentModule.ts'
