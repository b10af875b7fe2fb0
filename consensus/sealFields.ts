import type { SealFields } from '../blocks/schema.ts'

/**
 * Exactly the header fields every proof and the proposer's signature commit to, copied out of a
 * larger object (a full header or a draft): extra fields must never leak into a commitment.
 */
export function computeSealFields(header: SealFields): SealFields {
  return {
    chainId: header.chainId,
    height: header.height,
    prevHash: header.prevHash,
    kind: header.kind,
    slot: header.slot,
    timestamp: header.timestamp,
    proposer: header.proposer,
    bodyRoot: header.bodyRoot,
    stateRoot: header.stateRoot,
    baseFee: header.baseFee,
    txBytes: header.txBytes,
    round: header.round,
    beaconReveal: header.beaconReveal,
  }
}
