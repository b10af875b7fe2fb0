import { encode } from '../../blocks/codec.ts'
import { Offence } from '../../blocks/schema.ts'
import type { Evidence } from '../../consensus/bft/messages.ts'
import { evidenceOffender } from '../../consensus/evidence.ts'
import { hash, toHex } from '../crypto/index.ts'

/**
 * Offences waiting for a block: validator equivocations (from the consensus driver, gossip or
 * `xsc_submitEvidence`) and hosts' contradicting receipts. The pool only holds and selects;
 * whoever adds checks the offence first (src/node/network/evidenceGossip.ts runs the state's
 * own rules), and the block that carries it is checked by every validator (applyEvidence).
 *
 * One offence per offender is enough (a validator is slashed once; a receipt offence once per
 * execution and host), so later spellings of the same offender's misbehaviour are dropped.
 */
export interface EvidenceSink {
  /** Holds the offence; false when it (or another against the same offender) is already held or the pool is full. */
  add(offence: Offence | Evidence): boolean
  has(offence: Offence | Evidence): boolean
  /** Held offences, oldest first, at most `max`. */
  pending(max?: number): Offence[]
}

/** Offences a pool holds at most (each is a few hundred bytes). */
const DEFAULT_CAPACITY = 4096

/** A BFT Evidence value as the chain's offence. */
export function toOffence(value: Offence | Evidence): Offence {
  return value.type === 'duplicateVote' || value.type === 'duplicateProposal' ? { type: 'equivocation', evidence: value } : value
}

/** The offence's id: hash of its canonical bytes. */
export function offenceId(offence: Offence): string {
  return toHex(hash(encode(Offence, offence)))
}

/** Who is punished, and for what: equal keys are one offence whatever its spelling. */
export function offenceKey(offence: Offence): string {
  if (offence.type === 'equivocation') return `validator:${toHex(evidenceOffender(offence.evidence))}`
  return `receipt:${toHex(offence.receipt.body.executionId)}:${toHex(offence.receipt.body.host)}`
}

export class EvidencePool implements EvidenceSink {
  readonly #byKey = new Map<string, { id: string; offence: Offence }>()
  readonly #capacity: number

  constructor(opts: { capacity?: number } = {}) {
    this.#capacity = opts.capacity ?? DEFAULT_CAPACITY
  }

  get size(): number {
    return this.#byKey.size
  }

  add(value: Offence | Evidence): boolean {
    const offence = toOffence(value)
    const key = offenceKey(offence)
    if (this.#byKey.has(key) || this.#byKey.size >= this.#capacity) return false
    this.#byKey.set(key, { id: offenceId(offence), offence })
    return true
  }

  has(value: Offence | Evidence): boolean {
    const offence = toOffence(value)
    return this.#byKey.get(offenceKey(offence))?.id === offenceId(offence)
  }

  /** Whether an offence against the same offender (same execution for receipts) is held. */
  hasOffender(value: Offence | Evidence): boolean {
    return this.#byKey.has(offenceKey(toOffence(value)))
  }

  pending(max = Number.POSITIVE_INFINITY): Offence[] {
    const out: Offence[] = []
    for (const { offence } of this.#byKey.values()) {
      if (out.length >= max) break
      out.push(offence)
    }
    return out
  }

  /**
   * Drops what a block settled and what can no longer apply: `stillValid` is asked for each held
   * offence after every imported block (the state's check: already slashed, expired, ...).
   */
  prune(stillValid: (offence: Offence) => boolean): void {
    for (const [key, { offence }] of this.#byKey) if (!stillValid(offence)) this.#byKey.delete(key)
  }
}
