import { type Codec, decode } from '../../../blocks/codec.ts'
import { Block, Offence, SignedTx } from '../../../blocks/schema.ts'
import { CommittedBlock, ConsensusMessage, decodeConsensusMessage } from '../../../consensus/bft/messages.ts'
import type { OfferedWrites } from '../../chain/chain.ts'
import { MempoolError } from '../../chain/errors.ts'
import { gossipVerdictOf, type NetNode, type ValidatedTopic, type ValidationResult } from '../../net/index.ts'
import { decodeFeedMessage } from './commitFeedMessages.ts'
import { decodeTxBatch, TxGossipBatch } from './txGossipBatch.ts'
import type { TxRefusalBudget } from './TxRefusalBudget.ts'

/**
 * One table for the gossip this node validates, as Lodestar's network/processor/gossipHandlers:
 * topic → decode → validate → verdict. `validate` returns the verdict of a message it could judge
 * or throws the typed error that says why not; `gossipVerdictOf` maps that error. Accepting
 * IS handling (a tx admitted, a proposal block held, a vote fed to consensus), so gossipsub only forwards.
 */
export interface GossipHandler<T> {
  codec: Codec<T>
  /** Decodes as `decode(codec, bytes)` does, where the topic has a cheaper way to the same checks. */
  decode?: (bytes: Uint8Array) => T
  validate(value: T, bytes: Uint8Array, from: string | undefined): ValidationResult | Promise<ValidationResult>
}

export interface GossipHandlers {
  transactions: GossipHandler<SignedTx[]>
  blocks: GossipHandler<Block>
  consensus: GossipHandler<ConsensusMessage>
  commits: GossipHandler<CommittedBlock>
  evidence: GossipHandler<Offence>
}

export interface GossipHandlerModules {
  /** Admits a gossiped tx (admitAndGossip with source 'gossip'); throws why not. `from`: the peer it came from. */
  admitTx(tx: SignedTx, from: string | undefined): void | Promise<void>
  /** Holds a proposed block for consensus; the verdict, or a throw. */
  processBlock(block: Block, bytes: Uint8Array, from: string | undefined): Promise<ValidationResult>
  /** Feeds a proposal, vote, commit or evidence to consensus: 'accept' when it was news for it; throws why not. */
  handleConsensus(message: ConsensusMessage, from: string | undefined): Promise<ValidationResult>
  /** Feeds a commit with the block it decides (the `commits` topic, a commit feed) to consensus, with its write set when a feed offered one; the verdict, or a throw. */
  handleCommitted(committed: CommittedBlock, from: string | undefined, writes?: OfferedWrites): Promise<ValidationResult>
  /** Per-neighbour cap on consensus messages (true: within it). */
  withinVoteCap(from: string | undefined): boolean
  /** Checks and holds an offence (Chain.submitEvidence): true when new; throws why it does not apply. */
  submitEvidence(offence: Offence): boolean
  /** Per-neighbour cap on evidence (true: within it). */
  withinEvidenceCap(from: string | undefined): boolean
  /** Per-neighbour budget of refused txs (TxRefusalBudget.ts); absent: none. */
  txBudget?: TxRefusalBudget | undefined
}

export function createGossipHandlers(m: GossipHandlerModules): GossipHandlers {
  return {
    transactions: {
      codec: TxGossipBatch,
      decode: decodeTxBatch,
      // Each tx of the batch is admitted in order (a sender's nonces follow each other). One that
      // can never be valid (bad signature, wrong chain) rejects the batch and scores its sender
      // down, the others still admitted here; a batch with nothing new is ignored, not forwarded.
      // A neighbour is charged (txBudget) for the refused txs of a batch it sent that admitted
      // nothing and rejected nothing: no honest relay forwards such a batch (it forwards only what it
      // accepted), so the charge falls on whoever made it; txs already known cost a lookup and
      // are free (honest relays deliver many). Past its budget its tx batches are dropped unread.
      validate: async (txs, _bytes, from): Promise<ValidationResult> => {
        if (txs.length === 0) return 'reject'
        if (from !== undefined && m.txBudget?.judges(from) === false) return 'ignore'
        let admitted = 0
        let refused = 0
        let rejected = false
        for (const tx of txs) {
          try {
            await m.admitTx(tx, from)
            admitted++
          } catch (e) {
            if (gossipVerdictOf(e, 'transactions') === 'reject') rejected = true
            else if (!(e instanceof MempoolError && e.code === 'ALREADY_KNOWN')) refused++
          }
        }
        const verdict = rejected ? 'reject' : admitted > 0 ? 'accept' : 'ignore'
        if (verdict === 'ignore' && refused > 0 && from !== undefined) m.txBudget?.charge(from, refused)
        return verdict
      },
    },
    blocks: { codec: Block, validate: (block, bytes, from) => m.processBlock(block, bytes, from) },
    consensus: {
      codec: ConsensusMessage,
      decode: decodeConsensusMessage,
      // Over its cap a neighbour's messages are dropped unchecked (no penalty: it may relay for many).
      validate: (message, _bytes, from) => (m.withinVoteCap(from) ? m.handleConsensus(message, from) : 'ignore'),
    },
    commits: {
      codec: CommittedBlock,
      validate: (committed, _bytes, from) => (m.withinVoteCap(from) ? m.handleCommitted(committed, from) : 'ignore'),
    },
    evidence: {
      codec: Offence,
      // Over its cap a neighbour's evidence is dropped unchecked (two signature checks each); held already: no news.
      validate: (offence, _bytes, from) => (m.withinEvidenceCap(from) && m.submitEvidence(offence) ? 'accept' : 'ignore'),
    },
  }
}

/** Runs one message through its topic's handler: decode → validate → verdict. `from` is undefined for messages from this process. */
export async function runGossipHandler<K extends ValidatedTopic>(handlers: GossipHandlers, topic: K, bytes: Uint8Array, from?: string): Promise<ValidationResult> {
  const handler = handlers[topic] as GossipHandler<unknown>
  try {
    return await handler.validate(handler.decode === undefined ? decode(handler.codec, bytes) : handler.decode(bytes), bytes, from)
  } catch (e) {
    return gossipVerdictOf(e, topic)
  }
}

/**
 * A commit feed's version-2 message (commitFeedMessages.ts): the `commits` judgement, with the
 * block's write set offered to consensus; `refused` scores its sender when the set proves wrong.
 */
export async function runFeedBlockHandler(m: Pick<GossipHandlerModules, 'handleCommitted' | 'withinVoteCap'>, bytes: Uint8Array, from: string, refused: () => void): Promise<ValidationResult> {
  try {
    const { block, commit, writes } = decodeFeedMessage(bytes)
    if (!m.withinVoteCap(from)) return 'ignore'
    return await m.handleCommitted({ block, commit }, from, writes === undefined ? undefined : { writes, refused })
  } catch (e) {
    return gossipVerdictOf(e, 'commits')
  }
}

/**
 * Subscribes the table's topics; validation does all the work, so `handle` is empty. Proposals,
 * votes (`consensus`), proposed blocks (`blocks`) and pending txs (`transactions`) only reach
 * validators: other nodes (hosts, RPC nodes) learn each block from its commit, which carries the
 * block (`commits`: CommittedBlock), so they no longer
 * check and relay every vote, every proposal (header proofs) and every pending tx (a signature
 * check) for nothing. A tx sent to such a node is admitted there and published to the validators.
 */
export function subscribedTopics(opts: { validator: boolean }): readonly ValidatedTopic[] {
  return opts.validator ? ['transactions', 'blocks', 'consensus', 'evidence'] : ['commits', 'evidence']
}

export function subscribeGossipHandlers(net: NetNode, handlers: GossipHandlers, opts: { validator: boolean }): void {
  for (const topic of subscribedTopics(opts)) subscribeGossipTopic(net, handlers, topic)
}

/** Subscribes one topic of the table (a follower rejoining `commits` when its commit feed ends). */
export function subscribeGossipTopic(net: NetNode, handlers: GossipHandlers, topic: ValidatedTopic): void {
  net.subscribe(topic, { validate: (bytes, from) => runGossipHandler(handlers, topic, bytes, from), handle: () => {} })
}
