import { bytes32, type Codec, encode, list, struct, u8, u32 } from '../../blocks/codec.ts'
import type { Address, Hash } from '../../blocks/schema.ts'
import { applyReveal, type BeaconState, computeChainValue, createBeacon, verifyReveal } from '../../consensus/beacon.ts'
import {
  type BftAction,
  type BftInput,
  BftMachine,
  type Commit,
  Evidence,
  type SignedProposal,
  type SignedVote,
  signProposal,
  signVote,
  type TimeoutParams,
  type TimeoutStep,
  verifyCommit,
  VOTE_STEP,
} from '../../consensus/bft/index.ts'
import { evidenceHeight, evidenceOffender, verifyEvidence } from '../../consensus/evidence.ts'
import { applySlashing, createStakeLedger, isSlashed, type SlashingParams, type StakeLedger } from '../../consensus/evidenceSlashing.ts'
import { computeInitialPriorities, computeNextHeightPriorities, type ProposerPriorityState } from '../../consensus/proposerPriority.ts'
import { computeValidatorSet, type ValidatorSet } from '../../consensus/validatorSet.ts'
import { equalBytes, hash, type KeyPair, keyPairFromSecret, toHex, utf8, ZERO_HASH } from '../../src/crypto/index.ts'
import { EventQueue } from './eventQueue.ts'
import { Prng } from './prng.ts'

/**
 * Deterministic simulation of the BFT core (FoundationDB / VOPR style, Byzantine validators as
 * Twins): n validators' pure state machines in one process, a virtual clock, and a seeded network
 * that delays, drops, duplicates, reorders and partitions messages until GST, then delivers
 * every message within DELTA_MS. The chain each node builds is a small block type carrying the
 * proposer's beacon reveal and evidence; committing a block applies its evidence with
 * applySlashing, the reveal with applyReveal and advances the proposer priorities, exactly as a
 * node will.
 *
 * Adversaries (Byzantine stake always < 1/3 of the total):
 * - twins: two instances with one key, each running the honest code, on opposite sides of every
 *   partition, with different block contents: they equivocate as soon as they diverge;
 * - withholder: never sends its proposals or precommits, never helps a peer catch up;
 * - splitter: answers peers differently: to half of its peers it sends, instead of its real vote
 *   or proposal, a conflicting one signed with its key.
 *
 * Invariants, checked after every step: no two honest nodes commit different blocks at one
 * height; every commit verifies (>2/3 stake of valid precommits); no honest validator is ever
 * slashed. After the last partition heals (GST): every honest node commits LIVENESS_HEIGHTS new
 * heights within LIVENESS_BOUND_MS of virtual time, and every validator whose equivocation an
 * honest node saw is slashed exactly once on every honest node's chain.
 */

export type AdversaryKind = 'twins' | 'withholder' | 'splitter'

export interface SimOptions {
  seed: number
  validators: number
  /** TEST ONLY: run every machine with the lock rules disabled (must produce safety violations). */
  unsafeIgnoreLocks?: boolean
  /** Disable all Byzantine validators (still lossy network and partitions). */
  honestOnly?: boolean
}

export interface SimResult {
  seed: number
  validators: number
  adversaries: { validator: number; kind: AdversaryKind }[]
  safetyViolations: string[]
  livenessFailures: string[]
  slashingFailures: string[]
  /** Offenders slashed on chain (on the honest chains, once each). */
  slashedEquivocations: number
  /** Heights decided by the network (the highest honest chain). */
  committedHeights: number
  virtualMs: number
  events: number
  gstMs: number
  /** Where each instance ended: for reading a failing seed. */
  finalStates: { index: number; validator: number; kind: string; height: number; round: number; step: string; lockedRound: number; validRound: number }[]
}

export const SIM_TIMEOUTS: TimeoutParams = {
  proposeMs: 300,
  proposeDeltaMs: 100,
  prevoteMs: 150,
  prevoteDeltaMs: 50,
  precommitMs: 150,
  precommitDeltaMs: 50,
}

const CHAIN_ID = 'xsc-sim'
const DELTA_MS = 50
const TICK_MS = 250
const LIVENESS_HEIGHTS = 3
const LIVENESS_BOUND_MS = 120_000
const MAX_EVENTS = 3_000_000
const BEACON_CHAIN_LENGTH = 512
/** Pause between a commit and the next height (CometBFT's timeout_commit): blocks are not free. */
const COMMIT_DELAY_MS = 200
const SLASHING: SlashingParams = { slashShareBps: 5_000, unbondingHeights: 1_000 }

/** The simulated block: just enough to carry what consensus and accountability need. */
interface SimBlock {
  height: number
  parent: Hash
  proposer: Address
  reveal: Hash
  salt: number
  evidence: Evidence[]
}
const SimBlockCodec: Codec<SimBlock> = struct('SimBlock', {
  height: u32,
  parent: bytes32,
  proposer: bytes32,
  reveal: bytes32,
  salt: u8,
  evidence: list(Evidence, 64),
})

type SimMessage =
  | { type: 'proposal'; proposal: SignedProposal; block: SimBlock }
  | { type: 'vote'; vote: SignedVote }
  | { type: 'commit'; commit: Commit; block: SimBlock }
  | { type: 'evidence'; evidence: Evidence }

type SimEvent =
  | { type: 'deliver'; to: number; from: number; message: SimMessage }
  | { type: 'timeout'; node: number; step: TimeoutStep; height: number; round: number }
  | { type: 'tick'; node: number }
  | { type: 'startHeight'; node: number; height: number }

interface Phase { start: number; end: number; side: number[] }

interface SimNode {
  index: number
  validator: number
  kind: 'honest' | AdversaryKind
  salt: number
  key: KeyPair
  address: string
  machine: BftMachine
  /** committed blocks, index = height − 1 */
  chain: SimBlock[]
  chainIds: Hash[]
  commits: Commit[]
  blocks: Map<string, SimBlock>
  pending: Set<string>
  ledger: StakeLedger
  /** validator set of height h at index h */
  sets: ValidatorSet[]
  priorities: ProposerPriorityState
  beacon: BeaconState
  ownReveals: number
  pool: Map<string, Evidence>
  seen: Set<string>
  lastCatchup: Map<number, number>
  roundHelp: Map<number, number>
  heightAtGst: number
}

// Keys and beacon chains are the same for every seed: derive them once per process.
const keyCache: KeyPair[] = []
const chainCache: Hash[][] = []
function validatorKey(i: number): KeyPair {
  while (keyCache.length <= i) keyCache.push(keyPairFromSecret(hash(utf8(`xsc-sim-validator-${keyCache.length}`))))
  return keyCache[i]!
}
function beaconChain(i: number): Hash[] {
  while (chainCache.length <= i) {
    const seed = hash(utf8(`xsc-sim-beacon-${chainCache.length}`))
    const values: Hash[] = [computeChainValue(seed, 0)]
    for (let k = 1; k <= BEACON_CHAIN_LENGTH; k++) values.push(hash(values[k - 1]!))
    chainCache.push(values)
  }
  return chainCache[i]!
}

const blockIds = new WeakMap<SimBlock, Hash>()
function simBlockId(block: SimBlock): Hash {
  let id = blockIds.get(block)
  if (id === undefined) {
    id = hash(encode(SimBlockCodec, block))
    blockIds.set(block, id)
  }
  return id
}

function sigKey(signature: Uint8Array): string {
  return Buffer.from(signature.buffer, signature.byteOffset, signature.length).toString('latin1')
}

export function replayCommand(seed: number, validators: number, unsafe = false): string {
  return `npm run sim:consensus -- --seeds 1 --seed ${seed} --validators ${validators}${unsafe ? ' --unsafe-ignore-locks' : ''}`
}

export function runConsensusSim(opts: SimOptions): SimResult {
  const rng = new Prng(opts.seed * 7919 + opts.validators)
  const n = opts.validators
  const keys = Array.from({ length: n }, (_, i) => validatorKey(i))
  const stakes = Array.from({ length: n }, () => BigInt(rng.range(1, 8)))
  const total = stakes.reduce((a, b) => a + b, 0n)

  // Byzantine validators: random ones while their stake stays below 1/3.
  const adversaries: { validator: number; kind: AdversaryKind }[] = []
  if (!opts.honestOnly) {
    let byzStake = 0n
    const wanted = rng.range(1, Math.max(1, Math.floor((n - 1) / 3)))
    for (const v of rng.shuffle([...Array(n).keys()])) {
      if (adversaries.length >= wanted) break
      if (3n * (byzStake + stakes[v]!) >= total) continue
      byzStake += stakes[v]!
      const roll = rng.int(10)
      adversaries.push({ validator: v, kind: roll < 6 ? 'twins' : roll < 8 ? 'withholder' : 'splitter' })
    }
  }
  const kindOf = new Map(adversaries.map((a) => [a.validator, a.kind]))

  const genesisValidators = keys.map((k, i) => ({ address: k.publicKey, stake: stakes[i]! }))
  const genesisSet = computeValidatorSet(genesisValidators)
  const genesisLedger = createStakeLedger(genesisValidators)
  const genesisPriorities = computeInitialPriorities(genesisValidators)
  const genesisBeacon = createBeacon(ZERO_HASH, keys.map((k, i) => ({ address: k.publicKey, commitment: beaconChain(i)[BEACON_CHAIN_LENGTH]! })))
  const validatorIndexByAddress = new Map<string, number>(keys.map((k, i) => [toHex(k.publicKey), i]))

  // Instances: one per validator, two for twins.
  const nodes: SimNode[] = []
  const makeNode = (validator: number, kind: SimNode['kind'], salt: number): void => {
    const key = keys[validator]!
    nodes.push({
      index: nodes.length,
      validator,
      kind,
      salt,
      key,
      address: toHex(key.publicKey),
      machine: new BftMachine({ chainId: CHAIN_ID, secretKey: key.secretKey, timeouts: SIM_TIMEOUTS, unsafeIgnoreLocks: opts.unsafeIgnoreLocks === true }),
      chain: [],
      chainIds: [],
      commits: [],
      blocks: new Map(),
      pending: new Set(),
      ledger: genesisLedger,
      sets: [genesisSet, genesisSet],
      priorities: genesisPriorities,
      beacon: genesisBeacon,
      ownReveals: 0,
      pool: new Map(),
      seen: new Set(),
      lastCatchup: new Map(),
      roundHelp: new Map(),
      heightAtGst: 0,
    })
  }
  for (let v = 0; v < n; v++) {
    const kind = kindOf.get(v)
    if (kind === 'twins') {
      makeNode(v, 'twins', 1)
      makeNode(v, 'twins', 2)
    } else {
      makeNode(v, kind ?? 'honest', kind === 'splitter' ? 3 : 0)
    }
  }
  const honest = nodes.filter((x) => x.kind === 'honest')
  const honestValidators = new Set(honest.map((x) => x.address))

  // Network schedule: partitions (twins on opposite sides), lossy links, then GST.
  const phases: Phase[] = []
  let t = 0
  const phaseCount = rng.int(7)
  for (let p = 0; p < phaseCount; p++) {
    const start = t + rng.range(0, 600)
    const end = start + rng.range(200, 3000)
    const side = nodes.map(() => rng.int(2))
    for (const a of adversaries) {
      if (a.kind !== 'twins') continue
      const pair = nodes.filter((x) => x.validator === a.validator)
      const first = rng.int(2)
      side[pair[0]!.index] = first
      side[pair[1]!.index] = 1 - first
    }
    phases.push({ start, end, side })
    t = end
  }
  const gstMs = t + rng.range(0, 1000)
  const dropPercent = rng.range(0, 30)
  const duplicatePercent = rng.range(0, 10)
  const maxDelayBeforeGst = rng.range(10, 400)
  // Relaying what we receive (gossip) makes loss less harmful; some seeds run without it.
  const fanoutRoll = rng.int(3)
  const fanout = fanoutRoll === 0 ? 0 : fanoutRoll === 1 ? 2 : n <= 10 ? n : 3

  const queue = new EventQueue<SimEvent>()
  let now = 0
  let events = 0
  const safetyViolations: string[] = []
  const livenessFailures: string[] = []
  const slashingFailures: string[] = []
  const decided = new Map<number, string>()
  const detectedOffenders = new Set<string>()
  let verifiedCommitHeights = 0
  /** Set by commits and new detections: the end condition is only re-evaluated then. */
  let progressed = false

  // Before GST the network may also cut off a node right after it commits (the adversarial
  // schedule that makes a lost commit most dangerous: the others must not decide otherwise).
  const isolatedUntil = nodes.map(() => 0)
  const isolatePercent = rng.range(0, 50)
  const partitioned = (a: number, b: number): boolean => {
    if (isolatedUntil[a]! > now || isolatedUntil[b]! > now) return true
    for (const p of phases) if (now >= p.start && now < p.end) return p.side[a] !== p.side[b]
    return false
  }

  const send = (from: number, to: number, message: SimMessage): void => {
    if (from === to) return
    if (partitioned(from, to)) return
    const beforeGst = now < gstMs
    if (beforeGst && rng.chance(dropPercent)) return
    const delay = beforeGst ? rng.range(1, maxDelayBeforeGst) : rng.range(1, DELTA_MS)
    queue.push(now + delay, { type: 'deliver', to, from, message })
    if (rng.chance(duplicatePercent)) queue.push(now + (beforeGst ? rng.range(1, maxDelayBeforeGst) : rng.range(1, DELTA_MS)), { type: 'deliver', to, from, message })
  }

  /** An instance's outgoing message, through its adversary behaviour. */
  const broadcast = (node: SimNode, message: SimMessage): void => {
    if (node.kind === 'withholder') {
      if (message.type === 'proposal') return
      if (message.type === 'vote' && message.vote.body.step === VOTE_STEP.precommit) return
    }
    let alternative: SimMessage | undefined
    if (node.kind === 'splitter') alternative = splitAlternative(node, message)
    for (const peer of nodes) {
      if (peer.index === node.index) continue
      send(node.index, peer.index, alternative !== undefined && (peer.index + now) % 2 === 1 ? alternative : message)
    }
  }

  /** One message to one peer, through the sender's adversary behaviour (tick gossip). */
  const sendAs = (node: SimNode, peer: number, message: SimMessage): void => {
    if (node.kind === 'withholder') {
      if (message.type === 'proposal') return
      if (message.type === 'vote' && message.vote.body.step === VOTE_STEP.precommit) return
    }
    const alternative = node.kind === 'splitter' && (peer + now) % 2 === 1 ? splitAlternative(node, message) : undefined
    send(node.index, peer, alternative ?? message)
  }

  const splitAlternative = (node: SimNode, message: SimMessage): SimMessage | undefined => {
    if (message.type === 'vote') {
      const body = message.vote.body
      const other = body.blockId === undefined ? hash(utf8(`phantom-${body.height}-${body.round}`)) : undefined
      return { type: 'vote', vote: signVote({ ...body, blockId: other }, node.key.secretKey) }
    }
    if (message.type === 'proposal') {
      const block: SimBlock = { ...message.block, salt: 4 }
      node.blocks.set(toHex(simBlockId(block)), block)
      const proposal = signProposal({ ...message.proposal.body, blockId: simBlockId(block), validRound: -1 }, node.key.secretKey)
      return { type: 'proposal', proposal, block }
    }
    return undefined
  }

  const relay = (node: SimNode, from: number, message: SimMessage): void => {
    if ((node.kind !== 'honest' && node.kind !== 'twins') || fanout === 0) return
    if (fanout >= nodes.length - 1) {
      for (const peer of nodes) if (peer.index !== node.index && peer.index !== from) send(node.index, peer.index, message)
      return
    }
    for (let k = 0; k < fanout; k++) {
      const peer = rng.int(nodes.length)
      if (peer !== node.index && peer !== from) send(node.index, peer, message)
    }
  }

  const currentHeight = (node: SimNode): number => node.chain.length + 1

  const validateBlock = (node: SimNode, block: SimBlock): boolean => {
    const h = currentHeight(node)
    if (block.height !== h) return false
    const parent = h === 1 ? ZERO_HASH : node.chainIds[h - 2]!
    if (!equalBytes(block.parent, parent)) return false
    const set = node.sets[h]!
    if ((set.byAddress.get(toHex(block.proposer)) ?? 0n) === 0n) return false
    try {
      verifyReveal(node.beacon, block.proposer, block.reveal)
    } catch {
      return false
    }
    const offenders = new Set<string>()
    for (const ev of block.evidence) {
      const offender = toHex(evidenceOffender(ev))
      if (offenders.has(offender)) return false
      offenders.add(offender)
      if (isSlashed(node.ledger, evidenceOffender(ev))) return false
      const eh = evidenceHeight(ev)
      const atHeight = node.sets[eh]
      if (atHeight === undefined) return false
      try {
        verifyEvidence(ev, { chainId: CHAIN_ID, validatorsAtHeight: atHeight, currentHeight: h, maxAgeHeights: SLASHING.unbondingHeights })
      } catch {
        return false
      }
    }
    return true
  }

  const learnBlock = (node: SimNode, block: SimBlock): void => {
    const key = toHex(simBlockId(block))
    if (!node.blocks.has(key)) node.blocks.set(key, block)
    if (node.pending.delete(key)) {
      feed(node, { type: 'verdict', height: currentHeight(node), blockId: simBlockId(block), valid: validateBlock(node, block) })
    }
  }

  const addEvidence = (node: SimNode, evidence: Evidence): boolean => {
    const offender = evidenceOffender(evidence)
    const hex = toHex(offender)
    if (node.pool.has(hex) || isSlashed(node.ledger, offender)) return false
    const atHeight = node.sets[evidenceHeight(evidence)]
    if (atHeight === undefined) return false
    try {
      verifyEvidence(evidence, { chainId: CHAIN_ID, validatorsAtHeight: atHeight, currentHeight: currentHeight(node), maxAgeHeights: SLASHING.unbondingHeights })
    } catch {
      return false
    }
    node.pool.set(hex, evidence)
    if (node.kind === 'honest') detectedOffenders.add(hex)
    progressed = true
    return true
  }

  const commitBlock = (node: SimNode, block: SimBlock, commit: Commit): void => {
    const h = currentHeight(node)
    const id = simBlockId(block)
    progressed = true
    let ledger = node.ledger
    for (const ev of block.evidence) {
      ledger = applySlashing(ledger, ev, { chainId: CHAIN_ID, params: SLASHING, currentHeight: h, validatorsAtHeight: node.sets[evidenceHeight(ev)]! }).ledger
    }
    node.ledger = ledger
    node.beacon = applyReveal(node.beacon, block.proposer, block.reveal)
    if (toHex(block.proposer) === node.address) node.ownReveals++
    node.chain.push(block)
    node.chainIds.push(id)
    node.commits.push(commit)
    node.sets.push(computeValidatorSet(ledger.validators))
    node.priorities = computeNextHeightPriorities(node.priorities, ledger.validators)
    for (const offender of [...node.pool.keys()]) {
      const v = validatorIndexByAddress.get(offender)!
      if (isSlashed(ledger, keys[v]!.publicKey)) node.pool.delete(offender)
    }
    node.seen = new Set()
    node.pending = new Set()
    node.roundHelp = new Map()
    // Safety: one block per height among honest nodes; the commit proves itself.
    if (node.kind === 'honest') {
      const idHex = toHex(id)
      const first = decided.get(h)
      if (first === undefined) {
        decided.set(h, idHex)
        try {
          verifyCommit(commit, { chainId: CHAIN_ID, validators: node.sets[h]!, height: h, blockId: id })
          verifiedCommitHeights++
        } catch (error) {
          safetyViolations.push(`height ${h}: node ${node.index} decided with an invalid commit (${String(error)})`)
        }
      } else if (first !== idHex) {
        safetyViolations.push(`height ${h}: node ${node.index} committed ${idHex.slice(0, 18)}, another honest node ${first.slice(0, 18)}`)
      }
      for (const s of ledger.slashed) {
        if (honestValidators.has(toHex(s.address))) safetyViolations.push(`height ${h}: honest validator ${toHex(s.address).slice(0, 18)} slashed`)
      }
    }
    if (now < gstMs && rng.chance(isolatePercent)) isolatedUntil[node.index] = Math.min(gstMs, now + rng.range(100, 3000))
    queue.push(now + COMMIT_DELAY_MS, { type: 'startHeight', node: node.index, height: h + 1 })
  }

  const startHeight = (node: SimNode, height: number): void => {
    if (height !== currentHeight(node)) return
    run(node, node.machine.startHeight({ height, validators: node.sets[height]!, priorities: node.priorities }))
  }

  const buildBlock = (node: SimNode, height: number): SimBlock => {
    const chainValues = beaconChain(node.validator)
    if (node.ownReveals >= BEACON_CHAIN_LENGTH) throw new Error(`validator ${node.validator} exhausted its beacon chain of ${BEACON_CHAIN_LENGTH} reveals`)
    const evidence = [...node.pool.values()].filter((ev) => evidenceHeight(ev) <= height).slice(0, 16)
    return {
      height,
      parent: height === 1 ? ZERO_HASH : node.chainIds[height - 2]!,
      proposer: node.key.publicKey,
      reveal: chainValues[BEACON_CHAIN_LENGTH - 1 - node.ownReveals]!,
      salt: node.salt,
      evidence,
    }
  }

  const run = (node: SimNode, actions: BftAction[]): void => {
    for (const action of actions) {
      switch (action.type) {
        case 'broadcast': {
          const m = action.message
          if (m.type === 'proposal') {
            const block = node.blocks.get(toHex(m.proposal.body.blockId))
            if (block !== undefined) broadcast(node, { type: 'proposal', proposal: m.proposal, block })
          } else if (m.type === 'vote') {
            broadcast(node, { type: 'vote', vote: m.vote })
          }
          break
        }
        case 'scheduleTimeout':
          queue.push(now + action.delayMs, { type: 'timeout', node: node.index, step: action.step, height: action.height, round: action.round })
          break
        case 'validate': {
          const key = toHex(action.blockId)
          const block = node.blocks.get(key)
          if (block === undefined) node.pending.add(key)
          else feed(node, { type: 'verdict', height: action.height, blockId: action.blockId, valid: validateBlock(node, block) })
          break
        }
        case 'buildProposal': {
          const block = buildBlock(node, action.height)
          node.blocks.set(toHex(simBlockId(block)), block)
          feed(node, { type: 'proposalValue', height: action.height, round: action.round, blockId: simBlockId(block) })
          break
        }
        case 'decide': {
          const block = node.blocks.get(toHex(action.blockId))
          if (block === undefined) throw new Error(`node ${node.index} decided a block it does not hold`)
          commitBlock(node, block, action.commit)
          break
        }
        case 'evidence':
          if (addEvidence(node, action.evidence)) broadcast(node, { type: 'evidence', evidence: action.evidence })
          break
      }
    }
  }

  const feed = (node: SimNode, input: BftInput): void => {
    let actions: BftAction[]
    try {
      actions = node.machine.handle(input)
    } catch {
      return // an invalid message: a node would REJECT its sender
    }
    run(node, actions)
  }

  const deliver = (node: SimNode, from: number, message: SimMessage): void => {
    const h = currentHeight(node)
    switch (message.type) {
      case 'proposal':
      case 'vote': {
        const signed = message.type === 'proposal' ? message.proposal : message.vote
        const mh = signed.body.height
        if (mh < h) {
          // A peer behind us: help it catch up with the commit of its height (rate-limited).
          if (node.kind === 'withholder') return
          const last = node.lastCatchup.get(from) ?? -Infinity
          if (now - last >= TICK_MS && mh >= 1) {
            node.lastCatchup.set(from, now)
            send(node.index, from, { type: 'commit', commit: node.commits[mh - 1]!, block: node.chain[mh - 1]! })
          }
          return
        }
        if (mh === h && signed.body.round < node.machine.round && node.kind !== 'withholder') {
          // A peer in an earlier round of our height: send it our own messages of its round.
          const key = from * 1_000_000 + signed.body.round
          const last = node.roundHelp.get(key) ?? -Infinity
          if (now - last >= TICK_MS) {
            node.roundHelp.set(key, now)
            for (const m of node.machine.ownMessagesForRound(signed.body.round)) {
              if (m.type === 'vote') send(node.index, from, { type: 'vote', vote: m.vote })
              else if (m.type === 'proposal') {
                const block = node.blocks.get(toHex(m.proposal.body.blockId))
                if (block !== undefined) send(node.index, from, { type: 'proposal', proposal: m.proposal, block })
              }
            }
          }
        }
        const k = sigKey(signed.signature)
        if (node.seen.has(k)) return
        node.seen.add(k)
        if (message.type === 'proposal') {
          if (!equalBytes(simBlockId(message.block), message.proposal.body.blockId)) return
          learnBlock(node, message.block)
          feed(node, { type: 'proposal', proposal: message.proposal })
        } else {
          feed(node, { type: 'vote', vote: message.vote })
        }
        if (currentHeight(node) === h) relay(node, from, message)
        return
      }
      case 'commit': {
        if (message.commit.height !== h || !equalBytes(simBlockId(message.block), message.commit.blockId)) return
        learnBlock(node, message.block)
        feed(node, { type: 'commit', commit: message.commit })
        return
      }
      case 'evidence':
        addEvidence(node, message.evidence)
    }
  }

  // Re-sending to every peer every tick costs n² messages; with many validators each tick goes to
  // a random few peers instead (every peer is reached within a few ticks).
  const tickFanout = n <= 10 ? nodes.length : 6
  const tick = (node: SimNode): void => {
    const out: SimMessage[] = []
    for (const m of node.machine.gossipSnapshot()) {
      if (m.type === 'proposal') {
        const block = node.blocks.get(toHex(m.proposal.body.blockId))
        if (block !== undefined) out.push({ type: 'proposal', proposal: m.proposal, block })
      } else if (m.type === 'vote') {
        out.push({ type: 'vote', vote: m.vote })
      }
    }
    for (const ev of node.pool.values()) out.push({ type: 'evidence', evidence: ev })
    if (tickFanout >= nodes.length) {
      for (const m of out) broadcast(node, m)
    } else {
      for (let k = 0; k < tickFanout; k++) {
        const peer = rng.int(nodes.length)
        if (peer !== node.index) for (const m of out) sendAs(node, peer, m)
      }
    }
    queue.push(now + TICK_MS + rng.int(50), { type: 'tick', node: node.index })
  }

  const allSlashed = (): boolean => {
    for (const offender of detectedOffenders) {
      const v = validatorIndexByAddress.get(offender)!
      for (const node of honest) if (!isSlashed(node.ledger, keys[v]!.publicKey)) return false
    }
    return true
  }

  // ---- run ----
  for (const node of nodes) {
    run(node, node.machine.startHeight({ height: 1, validators: genesisSet, priorities: genesisPriorities }))
    queue.push(rng.int(TICK_MS), { type: 'tick', node: node.index })
  }
  let gstSeen = false
  progressed = true
  const deadline = gstMs + LIVENESS_BOUND_MS
  let finished = false
  while (!finished) {
    const next = queue.pop()
    if (next === undefined) break
    now = next.time
    if (!gstSeen && now >= gstMs) {
      gstSeen = true
      for (const node of honest) node.heightAtGst = node.chain.length
    }
    if (now > deadline) break
    if (++events > MAX_EVENTS) {
      livenessFailures.push(`event budget of ${MAX_EVENTS} exhausted at ${now} ms`)
      break
    }
    const ev = next.item
    const node = nodes[ev.type === 'deliver' ? ev.to : ev.node]!
    if (ev.type === 'deliver') {
      if (!partitioned(ev.from, ev.to)) deliver(node, ev.from, ev.message) // a partition also cuts messages in flight
    }
    else if (ev.type === 'timeout') feed(node, { type: 'timeout', step: ev.step, height: ev.height, round: ev.round })
    else if (ev.type === 'startHeight') startHeight(node, ev.height)
    else tick(node)
    if (safetyViolations.length > 0) break
    if (gstSeen && progressed) {
      progressed = false
      if (honest.every((x) => x.chain.length >= x.heightAtGst + LIVENESS_HEIGHTS) && allSlashed()) finished = true
    }
  }

  if (safetyViolations.length === 0 && !finished) {
    for (const node of honest) {
      if (node.chain.length < node.heightAtGst + LIVENESS_HEIGHTS) {
        livenessFailures.push(`node ${node.index} committed ${node.chain.length - node.heightAtGst} heights in ${LIVENESS_BOUND_MS} ms after GST (needs ${LIVENESS_HEIGHTS})`)
      }
    }
    if (livenessFailures.length === 0 && !allSlashed()) {
      slashingFailures.push(`an equivocation seen by an honest node was not slashed on every honest chain within ${LIVENESS_BOUND_MS} ms after GST`)
    }
  }
  // Exactly once: no offender has two tombstones and the chain never carried a second evidence for it.
  let slashedEquivocations = 0
  const longest = honest.reduce((a, b) => (b.chain.length > a.chain.length ? b : a), honest[0]!)
  for (const node of honest) {
    const perOffender = new Map<string, number>()
    for (const block of node.chain) for (const ev of block.evidence) {
      const k = toHex(evidenceOffender(ev))
      perOffender.set(k, (perOffender.get(k) ?? 0) + 1)
    }
    for (const [offender, count] of perOffender) if (count !== 1) slashingFailures.push(`node ${node.index}: ${offender.slice(0, 18)} slashed ${count} times`)
    if (node === longest) slashedEquivocations = node.ledger.slashed.length
  }
  if (verifiedCommitHeights !== decided.size) safetyViolations.push('a decided height lacks a verified commit')

  return {
    seed: opts.seed,
    validators: n,
    adversaries,
    safetyViolations,
    livenessFailures,
    slashingFailures,
    slashedEquivocations,
    committedHeights: longest?.chain.length ?? 0,
    virtualMs: now,
    events,
    gstMs,
    finalStates: nodes.map((x) => ({ index: x.index, validator: x.validator, kind: x.kind, height: currentHeight(x), round: x.machine.round, step: x.machine.step, lockedRound: x.machine.lockedRound, validRound: x.machine.validRound })),
  }
}

export interface SimSummary {
  seeds: number
  safetyViolations: number
  livenessFailures: number
  slashingFailures: number
  slashedEquivocations: number
  committedHeights: number
  failingSeeds: { seed: number; validators: number; replay: string; reasons: string[] }[]
  wallMs: number
}

/** Runs seeds [first, first + count) for each validator count, alternating. */
export function runConsensusSims(opts: { first: number; count: number; validators: number[]; unsafeIgnoreLocks?: boolean; clock: () => number }): SimSummary {
  const start = opts.clock()
  const summary: SimSummary = { seeds: 0, safetyViolations: 0, livenessFailures: 0, slashingFailures: 0, slashedEquivocations: 0, committedHeights: 0, failingSeeds: [], wallMs: 0 }
  for (let i = 0; i < opts.count; i++) {
    const seed = opts.first + i
    const validators = opts.validators[i % opts.validators.length]!
    const r = runConsensusSim({ seed, validators, unsafeIgnoreLocks: opts.unsafeIgnoreLocks })
    summary.seeds++
    summary.safetyViolations += r.safetyViolations.length > 0 ? 1 : 0
    summary.livenessFailures += r.livenessFailures.length > 0 ? 1 : 0
    summary.slashingFailures += r.slashingFailures.length > 0 ? 1 : 0
    summary.slashedEquivocations += r.slashedEquivocations
    summary.committedHeights += r.committedHeights
    const reasons = [...r.safetyViolations, ...r.livenessFailures, ...r.slashingFailures]
    if (reasons.length > 0) summary.failingSeeds.push({ seed, validators, replay: replayCommand(seed, validators, opts.unsafeIgnoreLocks), reasons })
  }
  summary.wallMs = opts.clock() - start
  return summary
}
