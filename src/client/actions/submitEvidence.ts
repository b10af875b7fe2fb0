import type { Offence } from '../../../blocks/schema.ts'
import type { Evidence } from '../../../consensus/bft/messages.ts'
import type { Client } from '../createClient.ts'

export interface SubmitEvidenceParameters {
  /** A validator's equivocation (consensus/evidence.ts `detectEquivocation`) or a host's contradicting receipt. */
  offence: Offence | Evidence
}
/** true when the node newly holds it; false when it already held an offence against the same offender. */
export type SubmitEvidenceReturnType = boolean

/** Submits proof of misbehaviour; rejects with RpcClientError (NOT_EQUIVOCATION, EVIDENCE_EXPIRED, ALREADY_SLASHED, ...) when it does not apply. */
export function submitEvidence(client: Client, params: SubmitEvidenceParameters): Promise<SubmitEvidenceReturnType> {
  const o = params.offence
  const offence: Offence = o.type === 'duplicateVote' || o.type === 'duplicateProposal' ? { type: 'equivocation', evidence: o } : o
  return client.request('xsc_submitEvidence', [offence])
}
