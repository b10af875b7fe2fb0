import type { AuditEntry } from '../../../blocks/schema.ts'
import { toHex } from '../../crypto/index.ts'
import { computeAuditBlockEntry, computeAuditInput, isAuditDue } from '../../state/applyAudit.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import type { StateReader } from '../../state/stateView.ts'
import { computeAuditChallenges } from '../../state/storage/computeAuditEntry.ts'
import type { ChunkProof } from '../../state/storage/computeChunkLeaves.ts'
import type { AuditChallenge } from '../../state/storage/deriveAuditChallenges.ts'

/** Asks the hosts for the epoch's audit chunks; returns what they answered (missing = no answer). */
export type AuditResponder = (challenges: AuditChallenge[]) => Promise<Map<AuditChallenge, ChunkProof>>

/** The hosts' answers to one epoch's challenges, by challenge. */
export type AuditAnswers = ReadonlyMap<string, ChunkProof>

function challengeKey(c: AuditChallenge): string {
  return `${toHex(c.asset)}/${c.shardIndex}/${c.chunkIndex}`
}

/**
 * When the block at `ctx` is due to carry an audit, asks the hosts for the challenged chunks.
 * This waits on the network (up to the responder's timeout), so the proposer calls it before
 * taking the chain's lock; the answers are bound to the head `ctx` builds on. Undefined when no
 * audit is due.
 */
export async function gatherAuditAnswers(state: StateReader, ctx: ApplyContext, responder: AuditResponder): Promise<AuditAnswers | undefined> {
  if (!isAuditDue(state, ctx.slot, ctx.genesis.params.auditEpochSlots)) return undefined
  const challenges = computeAuditChallenges(computeAuditInput(state, ctx))
  const answers = await responder(challenges)
  return new Map([...answers].map(([c, p]) => [challengeKey(c), p]))
}

/** The audit entry from the gathered answers: pass, fail or no answer per challenge, repairs, rent. */
export function buildAuditEntry(state: StateReader, ctx: ApplyContext, answers: AuditAnswers): AuditEntry {
  return computeAuditBlockEntry(state, ctx, (c) => answers.get(challengeKey(c))).entry
}
