import type { ComponentArtifact } from './executeComponent.ts'
import type { ComputeLimits, ExecutionResult } from './executeModule.ts'

/** Messages between the compute pool and its workers. */
export interface WorkerJob {
  id: number
  assetId: string
  /** prepareComponent: transpile + instrument off the main thread, reply 'prepared' */
  kind: 'module' | 'component' | 'prepareComponent'
  code?: Uint8Array
  artifact?: ComponentArtifact
  fn: string
  input: Uint8Array
  fuelLimit: bigint
  limits: ComputeLimits
}

export type WorkerReply =
  | { type: 'done'; id: number; result: ExecutionResult; retire: boolean }
  | { type: 'prepared'; id: number; artifact: ComponentArtifact }
  | { type: 'error'; id: number; code: string; message: string }
  | { type: 'stateGet'; id: number }
  /** Sent once, when the worker's code has loaded and it takes jobs (booting under load takes seconds). */
  | { type: 'ready' }

/** Layout of the state channel: [flag, length] as Int32, then the key or value bytes. */
export const STATE_HEADER_BYTES = 8
export const STATE_FLAG_WAITING = 0
export const STATE_FLAG_ANSWERED = 1
export const STATE_ABSENT = -1
export const STATE_FAILED = -2

