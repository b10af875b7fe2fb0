import { LIMITS } from '../../blocks/schema.ts'

/** The gossip topics of a chain. Names carry the chain id and a version: `/xsc/<chainId>/<topic>/<version>`. */
export const GOSSIP_TOPICS = ['transactions', 'blocks', 'consensus', 'commits', 'receipts', 'evidence', 'executionKeys', 'heartbeats'] as const
export type GossipTopic = (typeof GOSSIP_TOPICS)[number]

const KiB = 1024
const MiB = 1024 * KiB

/**
 * Per-topic size caps (bytes of the gossiped message). A tx or a receipt may carry up to 1 MiB of
 * input/output (LIMITS.input/output) plus its fixed fields; consensus messages are small but a commit grows with the set; blocks are
 * capped like Ethereum's GOSSIP_MAX_SIZE (10 MiB). Bigger data moves over request/response.
 */
export const GOSSIP_MAX_BYTES: Readonly<Record<GossipTopic, number>> = {
  transactions: LIMITS.input + 64 * KiB,
  blocks: 10 * MiB,
  consensus: 256 * KiB, // BFT proposals and votes (~200 bytes): validators only
  // A commit (~100 bytes per signer) with the block it decides: nodes without a vote learn blocks from it.
  commits: 10 * MiB + 256 * KiB,
  receipts: LIMITS.output + 64 * KiB,
  // Two signed votes/proposals (~400 bytes) or one receipt with its output.
  evidence: LIMITS.output + 64 * KiB,
  // A private execution's wrapped keys: ~90 bytes per assigned host, at most LIMITS.shards hosts.
  executionKeys: 32 * KiB,
  // A host's heartbeat: epoch, host and signature (~110 bytes).
  heartbeats: 1 * KiB,
}

export function isGossipTopic(topic: unknown): topic is GossipTopic {
  return typeof topic === 'string' && (GOSSIP_TOPICS as readonly string[]).includes(topic)
}

/**
 * A topic's message format version. A new format gets a new topic name, so nodes of two builds do not
 * share a mesh whose messages they would refuse (and score each other down for): 2 = `transactions`
 * carries batches of txs (TxGossipBatch).
 */
const TOPIC_VERSION: Readonly<Partial<Record<GossipTopic, number>>> = { transactions: 2, receipts: 2 }

export function topicName(chainId: string, topic: GossipTopic): string {
  return `/xsc/${chainId}/${topic}/${TOPIC_VERSION[topic] ?? 1}`
}
