import { decode, encode } from '../../blocks/codec.ts'
import { SignedHeartbeat } from '../../blocks/schema.ts'
import type { NetNode, ValidationResult } from './createNetNode.ts'
import { gossipVerdictOf } from './errors.ts'

/** Takes a heartbeat for the node's pool (Chain.submitHeartbeat): true when it was news; throws why it cannot go on chain. */
export type SubmitHeartbeat = (heartbeat: SignedHeartbeat) => boolean

/**
 * Host heartbeats on the `heartbeats` topic (docs/storage.md "Liveness"): every networked node
 * checks each against its head state, holds it for its blocks and relays only news, so a
 * validator that leaves a heartbeat out of its block cannot keep it from the next proposer.
 */
export function subscribeHeartbeats(net: NetNode, submit: SubmitHeartbeat): void {
  net.subscribe('heartbeats', { validate: (bytes) => acceptHeartbeatGossip(submit, bytes), handle: () => undefined })
}

export function acceptHeartbeatGossip(submit: SubmitHeartbeat, bytes: Uint8Array): ValidationResult {
  try {
    return submit(decode(SignedHeartbeat, bytes)) ? 'accept' : 'ignore'
  } catch (e) {
    return gossipVerdictOf(e, 'heartbeats')
  }
}

/** A host's own heartbeat: taken by its node, then gossiped; the number of peers it went to. */
export async function publishHeartbeat(net: NetNode, submit: SubmitHeartbeat, heartbeat: SignedHeartbeat): Promise<number> {
  submit(heartbeat)
  return net.publish('heartbeats', encode(SignedHeartbeat, heartbeat))
}
