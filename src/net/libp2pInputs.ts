import type { ComponentLogger, Logger, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'

import { NetError } from './errors.ts'

/** What createNetNode hands libp2p: addresses and peer ids parsed with typed errors, mesh bounds, a silent logger. */

export function parseAddr(addr: string): Multiaddr {
  try {
    return multiaddr(addr)
  } catch (cause) {
    throw new NetError('BAD_ADDRESS', `not a multiaddr: ${addr}`, { addr }, { cause })
  }
}

export function parsePeer(peer: string): PeerId {
  try {
    return peerIdFromString(peer)
  } catch (cause) {
    throw new NetError('BAD_ADDRESS', `not a peer id: ${peer}`, { peer }, { cause })
  }
}

/**
 * libp2p's component logger when no `DEBUG` namespace is set: its default creates `debug`
 * instances per stream and connection (each checking the terminal for colours) that print
 * nothing; these print nothing for free. With `DEBUG=libp2p:*` the default logger is kept.
 */
const disabledLog: Logger = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => disabledLog })
export const disabledComponentLogger: ComponentLogger = { forComponent: () => disabledLog }

/** Gossipsub's mesh bounds from D, within its rules (Dout < Dlo, Dout ≤ D/2, Dscore ≤ Dhi). */
export function meshParams(D: number): { D: number; Dlo: number; Dhi: number; Dlazy: number; Dout: number; Dscore: number } {
  if (!Number.isSafeInteger(D) || D < 2) throw new NetError('BAD_CONFIG', `meshDegree must be an integer ≥ 2, got ${D}`, { field: 'meshDegree' })
  return { D, Dlo: D - 1, Dhi: 2 * D, Dlazy: D, Dout: Math.max(1, Math.min(D - 2, Math.floor(D / 2))), Dscore: Math.max(1, D - 1) }
}
