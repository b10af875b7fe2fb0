import { StorageAck } from '../../blocks/schema.ts'
import type { NetNode } from './createNetNode.ts'
import { PROTOCOL_LIMITS, PROTOCOLS, StorageAckRequest } from './messages.ts'
import { requestTyped, serveTyped, type TypedProtocol } from './typedProtocol.ts'

const STORAGE_ACK: TypedProtocol<StorageAckRequest, StorageAck> = { protocol: PROTOCOLS.storageAck, request: StorageAckRequest, response: StorageAck, limits: PROTOCOL_LIMITS.storageAck, what: 'storage ack' }

/** The host's side: its signed ack of a shard it holds (hash-checked), or undefined when it does not hold it. */
export type AnswerStorageAck = (request: StorageAckRequest, peer: string) => Promise<StorageAck | undefined>

export function serveStorageAcks(net: NetNode, answer: AnswerStorageAck): Promise<void> {
  return serveTyped(net, STORAGE_ACK, answer, (req) => `shard ${req.shardIndex} is not stored here`)
}

/** Asks a host for its storage ack; the caller checks the signature and fields (checkStorageAck). */
export function requestStorageAck(net: NetNode, peer: string, request: StorageAckRequest, opts: { timeoutMs?: number } = {}): Promise<StorageAck> {
  return requestTyped(net, peer, STORAGE_ACK, request, opts)
}
