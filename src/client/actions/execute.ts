import { type Coord, type Hash, ROUTE_STRATEGY, type RouteStrategy } from '../../../blocks/schema.ts'
import type { Client } from '../createClient.ts'
import { type SenderParameters, sendPayload } from './signAndSend.ts'

export interface ExecuteParameters extends SenderParameters {
  asset: Hash
  fn: string
  input?: Uint8Array
  fuelLimit: bigint
  bidPerFuel: bigint
  replicas?: number
  quorum?: number
  private?: boolean
  deadlineSlots?: number
  origin?: Coord
  /** Hard allow-list of host zones (default: any zone). */
  zones?: readonly string[]
  /** How the router ranks the band the assignment is drawn from (default balanced). */
  strategy?: RouteStrategy
  /** Memory the guest may need; only hosts declaring at least this much are assigned (default 0). */
  minMemoryBytes?: bigint
}
/** The execution id, which is the execute tx's id. */
export type ExecuteReturnType = Hash

/** Sends an execute tx (defaults: 1 replica, quorum 1, public, 20-slot deadline, origin 0,0,0); follow it with waitForExecution. */
export function execute(client: Client, p: ExecuteParameters): Promise<ExecuteReturnType> {
  const replicas = p.replicas ?? 1
  return sendPayload(client, p, {
    type: 'execute',
    asset: p.asset,
    fn: p.fn,
    input: p.input ?? new Uint8Array(0),
    fuelLimit: p.fuelLimit,
    bidPerFuel: p.bidPerFuel,
    replicas,
    quorum: p.quorum ?? replicas,
    private: p.private ?? false,
    deadlineSlots: p.deadlineSlots ?? 20,
    origin: p.origin ?? { x: 0, y: 0, z: 0 },
    zones: [...(p.zones ?? [])],
    strategy: ROUTE_STRATEGY[p.strategy ?? 'balanced'],
    minMemoryBytes: p.minMemoryBytes ?? 0n,
  })
}
