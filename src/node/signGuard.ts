import { closeSync, constants, fdatasync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, write, writeSync } from 'node:fs'
import { dirname } from 'node:path'

import { encode } from '../../blocks/codec.ts'
import { XscError } from '../../blocks/errors.ts'
import { type ConsensusMessage, SignedProposal, SignedVote, VOTE_STEP } from '../../consensus/bft/messages.ts'
import { hash, toHex, utf8 } from '../crypto/index.ts'

/**
 * Double-sign protection on disk, as CometBFT's priv_validator_state.json: the height, round and
 * step this validator last signed, and the hash of what it signed, are written and fsynced
 * BEFORE a signed proposal or vote leaves the process (format: `SignGuard`). After a crash and restart the consensus
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

/** The position a message signs and the hash the guard keeps of it (undefined for commits). */
export function positionOf(message: ConsensusMessage): SignedPosition | undefined {
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

/** Bytes per slot of the state file; two slots, written alternately. */
const SLOT_BYTES = 256

interface Slot extends SignedPosition {
  /** Write counter: the slot with the higher one is the current state. */
  seq: number
  /** First 16 hex digits of sha256 over the slot's other fields: a torn write fails it. */
  check: string
}

function checkOf(p: SignedPosition, seq: number): string {
  return toHex(hash(utf8(`${p.height}/${p.round}/${p.step}/${p.signedHash}/${seq}`))).slice(2, 18)
}

function isPosition<T extends Partial<SignedPosition>>(p: T): p is T & SignedPosition {
  return [p.height, p.round, p.step].every((n) => Number.isSafeInteger(n) && n! >= 0) && typeof p.signedHash === 'string'
}

function encodeSlot(p: SignedPosition, seq: number): Uint8Array {
  const slot: Slot = { height: p.height, round: p.round, step: p.step, signedHash: p.signedHash, seq, check: checkOf(p, seq) }
  const out = new Uint8Array(SLOT_BYTES).fill(0x20)
  const text = utf8(JSON.stringify(slot))
  if (text.length >= SLOT_BYTES) throw new RangeError('sign state slot overflow')
  out.set(text)
  out[SLOT_BYTES - 1] = 0x0a
  return out
}

/** A slot's position when it is whole (parses, its check matches), else undefined. */
function decodeSlot(bytes: Uint8Array): Slot | undefined {
  try {
    const s = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Slot>
    if (!isPosition(s) || s.seq === undefined || !Number.isSafeInteger(s.seq) || s.check !== checkOf(s, s.seq)) return undefined
    return { height: s.height, round: s.round, step: s.step, signedHash: s.signedHash, seq: s.seq, check: s.check }
  } catch {
    return undefined
  }
}

/**
 * What a state file holds: undefined when there is none; throws CORRUPT_STATE when it cannot be
 * read (no whole slot, or an earlier-format file that does not parse).
 */
function readSignStateFile(file: string): { format: 'slots' | 'json'; last: SignedPosition | undefined; seq: number } | undefined {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  const corrupt = (): SignGuardError => new SignGuardError('CORRUPT_STATE', `sign state ${file} is unreadable: refusing to sign (restore it or remove it knowingly)`, { file })
  if (bytes.length !== 2 * SLOT_BYTES) {
    // The earlier format: one JSON object.
    let parsed: Partial<SignedPosition>
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<SignedPosition>
    } catch {
      throw corrupt()
    }
    if (!isPosition(parsed)) throw corrupt()
    return { format: 'json', last: { height: parsed.height, round: parsed.round, step: parsed.step, signedHash: parsed.signedHash }, seq: 0 }
  }
  const slots = [decodeSlot(bytes.subarray(0, SLOT_BYTES)), decodeSlot(bytes.subarray(SLOT_BYTES))].filter((s) => s !== undefined)
  if (slots.length === 0) throw corrupt()
  const current = slots.reduce((a, b) => (b.seq > a.seq ? b : a))
  // An empty hash: the file was started and nothing was signed yet.
  const last = current.signedHash === '' ? undefined : { height: current.height, round: current.round, step: current.step, signedHash: current.signedHash }
  return { format: 'slots', last, seq: current.seq }
}

/** The last signed position in a state file, read only (tests, diagnostics); undefined when there is none yet. */
export function readSignState(file: string): SignedPosition | undefined {
  return readSignStateFile(file)?.last
}

/**
 * O_DSYNC: each write returns once its data is on stable storage (POSIX synchronized I/O data
 * integrity completion: what a write followed by fdatasync gives). One trip through libuv's thread
 * pool per signing step instead of two (scripts/bench/signGuardWrite.ts: wall 95 us against 254 per
 * durable write, CPU 35 us against 45, load 57). Platforms without it (Windows) fdatasync after each write.
 */
const SYNCED_WRITES = typeof constants.O_DSYNC === 'number'
function openForSlots(file: string): number {
  return openSync(file, SYNCED_WRITES ? constants.O_RDWR | constants.O_DSYNC : constants.O_RDWR)
}

/**
 * The state file holds two fixed-size slots written alternately in place: one synchronized pwrite
 * per signing step (O_DSYNC; a pwrite and an fdatasync where the platform has none; the file's size
 * never changes), instead of a temp file, a rename and two fsyncs. A write torn by a crash spoils
 * only the slot being written, whose message was never sent; the other slot still holds the
 * position before it. A file in the earlier format (one JSON object) is read and rewritten in this
 * one when opened.
 */
export class SignGuard {
  readonly #fd: number
  #last: SignedPosition | undefined
  #seq: number
  /** The last queued asynchronous write (admitAllDurably): writes land one after another, in order. */
  #writes: Promise<void> = Promise.resolve()

  private constructor(fd: number, last: SignedPosition | undefined, seq: number) {
    this.#fd = fd
    this.#last = last
    this.#seq = seq
  }

  /** Opens (or starts) the state file; a file that cannot be read is an error, never a fresh start. */
  static open(file: string): SignGuard {
    mkdirSync(dirname(file), { recursive: true })
    const read = readSignStateFile(file)
    if (read === undefined) return SignGuard.#create(file, undefined)
    if (read.format === 'json') return SignGuard.#create(file, read.last)
    return new SignGuard(openForSlots(file), read.last, read.seq)
  }

  /** A new state file (both slots written, then renamed into place and the directory synced), opened for in-place writes. */
  static #create(file: string, last: SignedPosition | undefined): SignGuard {
    const tmp = `${file}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      const empty = last ?? { height: 0, round: 0, step: 0, signedHash: '' }
      writeSync(fd, encodeSlot(empty, 0))
      writeSync(fd, encodeSlot(empty, 0))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
    const dir = openSync(dirname(file), 'r')
    try {
      fsyncSync(dir)
    } finally {
      closeSync(dir)
    }
    return new SignGuard(openForSlots(file), last, 0)
  }

  get last(): SignedPosition | undefined {
    return this.#last
  }

  /**
   * Call before a message of ours leaves the process. Commits and evidence pass (they carry
   * others' signatures). Throws SignGuardError for a conflicting or regressing signature;
   * otherwise the new position is on disk (synced) when it returns.
   */
  admit(message: ConsensusMessage): void {
    const { refused } = this.admitAll([message])
    if (refused.length > 0) throw refused[0]!.error
  }

  /**
   * `admit` for the messages one consensus step sends together (a proposal and its prevote):
   * each is checked against the position of the ones before it, and the last admitted position
   * is written with ONE synced write before any of them is returned. Persisting only the highest
   * position is enough: everything below it is refused after a restart anyway.
   */
  admitAll(messages: readonly ConsensusMessage[]): { admitted: ConsensusMessage[]; refused: { message: ConsensusMessage; error: SignGuardError }[] } {
    const verdict = this.#judge(messages)
    if (verdict.moved !== undefined) this.#persist(verdict.moved)
    return { admitted: verdict.admitted, refused: verdict.refused }
  }

  /**
   * `admitAll` without blocking the event loop on the disk: the verdicts are final at once (the
   * position in memory moves now, so a later call is judged against it), and the new position is
   * written and fdatasynced in the background, after every write queued before it. The caller
   * sends the admitted messages only once `durable` resolves: nothing leaves the process before
   * its position is on disk, so a crash still cannot make the node sign twice. A re-admitted
   * message (same position, same hash) also waits for the writes in flight. When a write fails,
   * `durable` rejects and those messages must never be sent (the position in memory stays
   * ahead of the disk, which only refuses more).
   */
  admitAllDurably(messages: readonly ConsensusMessage[]): { admitted: ConsensusMessage[]; refused: { message: ConsensusMessage; error: SignGuardError }[]; durable: Promise<void> } {
    const verdict = this.#judge(messages)
    if (verdict.moved !== undefined) {
      const seq = ++this.#seq
      const bytes = encodeSlot(verdict.moved, seq)
      this.#writes = this.#writes.then(() => writeSlot(this.#fd, bytes, (seq % 2) * SLOT_BYTES))
    }
    return { admitted: verdict.admitted, refused: verdict.refused, durable: this.#writes }
  }

  /** Resolves once every position admitted so far is on disk (rejects if a write failed). */
  whenDurable(): Promise<void> {
    return this.#writes
  }

  /** Verdicts against the position in memory, which moves to the last admitted new position (`moved`). */
  #judge(messages: readonly ConsensusMessage[]): { admitted: ConsensusMessage[]; refused: { message: ConsensusMessage; error: SignGuardError }[]; moved: SignedPosition | undefined } {
    const admitted: ConsensusMessage[] = []
    const refused: { message: ConsensusMessage; error: SignGuardError }[] = []
    let last = this.#last
    let moved = false
    for (const message of messages) {
      const next = positionOf(message)
      if (next === undefined) {
        admitted.push(message)
        continue
      }
      if (last !== undefined) {
        const order = compare(next, last)
        if (order < 0) {
          refused.push({ message, error: new SignGuardError('REGRESSION', `refusing to sign ${show(next)}: already signed ${show(last)}`, { last: show(last), got: show(next) }) })
          continue
        }
        if (order === 0) {
          if (next.signedHash === last.signedHash) admitted.push(message)
          else refused.push({ message, error: new SignGuardError('CONFLICTING_SIGNATURE', `refusing to sign a different message at ${show(next)}`, { last: `${show(last)} ${last.signedHash}`, got: `${show(next)} ${next.signedHash}` }) })
          continue
        }
      }
      last = next
      moved = true
      admitted.push(message)
    }
    if (moved && last !== undefined) this.#last = last
    return { admitted, refused, moved: moved ? last : undefined }
  }

  /** The next slot in place, durable when the write returns (the size never changes, so no metadata needs syncing). */
  #persist(position: SignedPosition): void {
    const seq = this.#seq + 1
    writeSync(this.#fd, encodeSlot(position, seq), 0, SLOT_BYTES, (seq % 2) * SLOT_BYTES)
    if (!SYNCED_WRITES) fdatasyncSync(this.#fd)
    this.#seq = seq
  }
}

/** One slot written at `offset` and on disk, on libuv's thread pool. */
function writeSlot(fd: number, bytes: Uint8Array, offset: number): Promise<void> {
  return new Promise((resolve, reject) => {
    write(fd, bytes, 0, bytes.length, offset, (err) => {
      if (err) return reject(err)
      if (SYNCED_WRITES) return resolve()
      fdatasync(fd, (syncErr) => (syncErr ? reject(syncErr) : resolve()))
    })
  })
}
