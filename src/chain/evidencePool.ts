import { encode } from '../../blocks/codec.ts'
import { Evidence } from '../../consensus/bft/messages.ts'
import { evidenceHeight } from '../../consensus/evidence.ts'
import { hash, toHex } from '../crypto/index.ts'

/**
 * The seam between consensus and slashing. The consensus driver hands every equivocation it
 * sees (its own machine's detection, or verified evidence gossiped by a peer) to `add`; a
 * proposer takes `pending()` into its block (BlockEntry tag 6 `evidence`, the bonds work) and
 * calls `remove` once a block carrying it is applied. Evidence is identified by the hash of its
 * canonical bytes (one equivocation has one form: consensus/bft/messages.ts orders the pair).
 */
export interface EvidencePool {
  /** True when it was news (not held already). */
  add(evidence: Evidence): boolean
  has(evidence: Evidence): boolean
  /** Held evidence, oldest offence first. */
  pending(): Evidence[]
  remove(evidence: Evidence): void
}

/** Evidence held in memory, bounded (oldest offences dropped first when full). */
export class MemoryEvidencePool implements EvidencePool {
  readonly #byId = new Map<string, Evidence>()
  readonly #max: number

  constructor(max = 1_024) {
    this.#max = max
  }

  add(evidence: Evidence): boolean {
    const id = evidenceId(evidence)
    if (this.#byId.has(id)) return false
    if (this.#byId.size >= this.#max) {
      const oldest = this.pending()[0]
      if (oldest !== undefined) this.#byId.delete(evidenceId(oldest))
    }
    this.#byId.set(id, evidence)
    return true
  }

  has(evidence: Evidence): boolean {
    return this.#byId.has(evidenceId(evidence))
  }

  pending(): Evidence[] {
    return [...this.#byId.values()].sort((a, b) => evidenceHeight(a) - evidenceHeight(b))
  }

  remove(evidence: Evidence): void {
    this.#byId.delete(evidenceId(evidence))
  }

  get size(): number {
    return this.#byId.size
  }
}

export function evidenceId(evidence: Evidence): string {
  return toHex(hash(encode(Evidence, evidence)))
}
