import { computeSlotStart } from '../../../consensus/slot.ts'
import type { Chain, CheckedBlock } from '../../chain/chain.ts'
import type { Logger } from '../logger.ts'

/**
 * Longest a proposer waiting for its slot sleeps before it looks again (the clock may be a test's;
 * work normally wakes it at once, through Chain's 'work' event).
 */
const MAX_WORK_SLEEP_MS = 200
/**
 * An early block (work waiting) comes at least slotMs / EARLY_BLOCKS_PER_SLOT after its parent:
 * every block costs every node a fixed amount (votes, commit, sign-guard write), whatever it
 * carries. Fees do not rely on it: their target is per unit of time (state/fees.ts), so spam
 * spread over many small blocks still raises the base fee (feeSpam.test.ts passes without it).
 */
const EARLY_BLOCKS_PER_SLOT = 4
/**
 * Least time between two early builds that came out empty (each asks the hosts of waiting
 * placements for acks): txs arriving for a nonce gap must not make the proposer rebuild every poll.
 */
const EMPTY_BUILD_RETRY_MS = 50
/** Gathering (audit answers, storage acks) that took this long before a proposal is logged. */
const SLOW_GATHER_MS = 200

export interface ProposalSchedulerModules {
  chain: Chain
  log: Logger
  now: () => number
}

/** When a proposer builds its block (docs/consensus.md "Block timing"), and the build itself. */
export class ProposalScheduler {
  readonly #m: ProposalSchedulerModules
  /** Proposers waiting for their slot (#sleepUntil): woken early by a new height or stop. */
  readonly #wake = new Set<() => void>()

  constructor(modules: ProposalSchedulerModules) {
    this.#m = modules
  }

  /** Wakes every waiting proposer (a new height, or stop): each looks at `isCurrent` again. */
  wakeAll(): void {
    for (const wake of [...this.#wake]) wake()
  }

  /**
   * With work in the pools (txs, receipts, offences) the proposer builds at once, after its
   * parent's timestamp, in the parent's slot if need be: a chain with work moves at the speed of
   * its rounds (CometBFT's timeout_commit ~0). At most EARLY_BLOCKS_PER_SLOT early blocks a slot
   * (each at least slotMs / 4 after its parent). An idle chain keeps the slot cadence: the block
   * is built once the slot after the parent's has started, so empty blocks never come faster than
   * one a slot. An early build whose block would carry nothing (txs not yet includable, a receipt
   * short of quorum) is dropped; the proposer tries again when new work arrives, or at the slot.
   * `isCurrent`: false once the height moved on; `isStopped`: the driver stopped.
   */
  async buildWhenDue(round: number, isCurrent: () => boolean, isStopped: () => boolean): Promise<CheckedBlock | undefined> {
    const chain = this.#m.chain
    const genesis = chain.genesis
    const parent = chain.store.head.header
    const slotDue = Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, parent.slot + 1))
    const earliest = Number(parent.timestamp) + Math.floor(genesis.slotMs / EARLY_BLOCKS_PER_SLOT)
    let triedWork: string | undefined
    let triedAt = Number.NEGATIVE_INFINITY
    for (;;) {
      if (isStopped() || !isCurrent()) return undefined
      const now = this.#m.now()
      if (now >= slotDue) break
      const work = chain.pendingWorkKey()
      if (work !== undefined && work !== triedWork && now >= earliest && now - triedAt >= EMPTY_BUILD_RETRY_MS) {
        triedWork = work
        triedAt = now
        const early = await this.#buildAt(this.#m.now(), round, true, isStopped)
        if (early !== undefined) return early
        continue
      }
      // Untried work waits for the earliest early build; otherwise sleep until the slot or new
      // work (Chain 'work'), whichever comes first: no timer wake-ups on an idle chain.
      const untried = work !== undefined && work !== triedWork
      await this.#sleepUntil(untried ? Math.min(slotDue, Math.max(earliest, triedAt + EMPTY_BUILD_RETRY_MS)) : slotDue, !untried)
    }
    return this.#buildAt(this.#m.now(), round, false, isStopped)
  }

  /** Resolves at `wakeAt` (our clock), on wakeAll, or (with `onWork`) when the chain gets new work. */
  #sleepUntil(wakeAt: number, onWork: boolean): Promise<void> {
    const chain = this.#m.chain
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        chain.off('work', done)
        this.#wake.delete(done)
        resolve()
      }
      const timer = setTimeout(done, Math.min(MAX_WORK_SLEEP_MS, Math.max(1, wakeAt - this.#m.now() + 1)))
      if (onWork) chain.on('work', done)
      this.#wake.add(done)
    })
  }

  /** Gathers what the block needs from the network (audit answers, storage acks), then builds it on the head. */
  async #buildAt(now: number, round: number, onlyWithEntries: boolean, isStopped: () => boolean): Promise<CheckedBlock | undefined> {
    const chain = this.#m.chain
    const prepared = await chain.prepareProposal(chain.currentSlot(now))
    const gatheredMs = this.#m.now() - now
    if (gatheredMs >= SLOW_GATHER_MS) this.#m.log.info({ gatheredMs, audit: prepared.auditAnswers !== undefined, acks: prepared.storageAcks?.length ?? 0 }, 'slow proposal gathering')
    if (isStopped()) return undefined
    return chain.buildProposal(this.#m.now(), prepared, round, { onlyWithEntries })
  }
}
