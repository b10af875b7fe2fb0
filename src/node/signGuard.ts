import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

import { encode } from '../../blocks/codec.ts'
import { XscError } from '../../blocks/errors.ts'
import { type ConsensusMessage, SignedProposal, SignedVote, VOTE_STEP } from '../../consensus/bft/messages.ts'
import { hash, toHex } from '../crypto/index.ts'

/**
 * Double-sign protection on disk, as CometBFT's priv_validator_state.json: the height, round and
 * step this validator last signed, and the hash of what it signed, are written and fsynced
 * BEFORE a signed proposal or vote leaves the process. After a crash and restart the consensus
 * machine has forgotten what it signed; this file has not, so the node refuses to send anything
 * below that position, or anything different at it (the same message again is fine: re-gossip).
 */
export type SignGuardErrorPayloads = {
  /** The position and hash on disk, and the refused message's. */
  CONFLICTING_SIGNATURE: { last: string; got: string }
  REGRESSION: { last: string; got: string }
  CORRUPT_STATE: { file: string }
}

export class SignGuardError extends XscError<SignGuardErrorPayloads> {
  static override readonly verdicts = { CONFLICTING_SIGNATURE: 'IGNORE', REGRESSION: 'IGNORE', CORRUPT_STATE: 'IGNORE' } as const
}

/** Steps in signing order within a round: the proposal comes before the two votes. */
export const SIGN_STEP = { propose: 0, prevote: VOTE_STEP.prevote, precommit: VOTE_STEP.precommit } as const

export interface SignedPosition {
  height: number
  round: number
  step: number
  /** sha256 of the signed message's canonical bytes (hex). */
  signedHash: string
}

function positionOf(message: ConsensusMessage): SignedPosition | undefined {
  if (message.type === 'vote') {
    const b = message.vote.body
    return { height: b.height, round: b.round, step: b.step, signedHash: toHex(hash(encode(SignedVote, message.vote))) }
  }
  if (message.type === 'proposal') {
    const b = message.proposal.body
    return { height: b.height, round: b.round, step: SIGN_STEP.propose, signedHash: toHex(hash(encode(SignedProposal, message.proposal))) }
  }
  return undefined
}

function compare(a: SignedPosition, b: SignedPosition): number {
  return a.height - b.height || a.round - b.round || a.step - b.step
}

function show(p: SignedPosition): string {
  return `${p.height}/${p.round}/${p.step}`
}

export class SignGuard {
  readonly #file: string
  #last: SignedPosition | undefined

  private constructor(file: string, last: SignedPosition | undefined) {
    this.#file = file
    this.#last = last
  }

  /** Opens (or starts) the state file; a file that cannot be read is an error, never a fresh start. */
  static open(file: string): SignGuard {
    mkdirSync(dirname(file), { recursive: true })
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new SignGuard(file, undefined)
      throw e
    }
    const parsed = JSON.parse(text) as Partial<SignedPosition>
    const ok = [parsed.height, parsed.round, parsed.step].every((n) => Number.isSafeInteger(n) && n! >= 0) && typeof parsed.signedHash === 'string'
    if (!ok) throw new SignGuardError('CORRUPT_STATE', `sign state ${file} is unreadable: refusing to sign (restore it or remove it knowingly)`, { file })
    return new SignGuard(file, parsed as SignedPosition)
  }

  get last(): SignedPosition | undefined {
    return this.#last
  }

  /**
   * Call before a message of ours leaves the process. Commits and evidence pass (they carry
   * others' signatures). Throws SignGuardError for a conflicting or regressing signature;
   * otherwise the new position is on disk (fsynced) when it returns.
   */
  admit(message: ConsensusMessage): void {
    const next = positionOf(message)
    if (next === undefined) return
    const last = this.#last
    if (last !== undefined) {
      const order = compare(next, last)
      if (order < 0) throw new SignGuardError('REGRESSION', `refusing to sign ${show(next)}: already signed ${show(last)}`, { last: show(last), got: show(next) })
      if (order === 0) {
        if (next.signedHash === last.signedHash) return
        throw new SignGuardError('CONFLICTING_SIGNATURE', `refusing to sign a different message at ${show(next)}`, { last: `${show(last)} ${last.signedHash}`, got: `${show(next)} ${next.signedHash}` })
      }
    }
    this.#persist(next)
    this.#last = next
  }

  /** Write to a temp file, fsync it, rename over the state, fsync the directory: never a torn or lost state. */
  #persist(position: SignedPosition): void {
    const tmp = `${this.#file}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      writeSync(fd, JSON.stringify(position))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.#file)
    const dir = openSync(dirname(this.#file), 'r')
    try {
      fsyncSync(dir)
    } finally {
      closeSync(dir)
    }
  }
}
