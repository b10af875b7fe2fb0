import { decode, encode } from '../../blocks/codec.ts'
import { StorageAck } from '../../blocks/schema.ts'
import type { NetNode } from './createNetNode.ts'
import { NetError } from './errors.ts'
import { decodePeerAnswer, PROTOCOL_LIMITS, protocolId, PROTOCOLS, StorageAckRequest } from './messages.ts'

const LIMITS = PROTOCOL_LIMITS.storageAck

/** The host's side: its signed ack of a shard it holds (hash-checked), or undefined when it does not hold it. */
export type AnswerStorageAck = (request: StorageAckRequest, peer: string) => Promise<StorageAck | undefined>

export async function serveStorageAcks(net: NetNode, answer: AnswerStorageAck): Promise<void> {
  await net.handle(protocolId(net.chainId, PROTOCOLS.storageAck), async (request, peer) => {
    const req = decode(StorageAckRequest, request)
    const ack = await answer(req, peer)
    if (ack === undefined) throw new NetError('NOT_FOUND', `shard ${req.shardIndex} is not stored here`)
    return encode(StorageAck, ack)
  }, { maxRequestBytes: LIMITS.maxRequestBytes, maxBodyBytes: 0, timeoutMs: LIMITS.timeoutMs })
}

/** Asks a host for its storage ack; the caller checks the signature and fields (checkStorageAck). */
export async function requestStorageAck(net: NetNode, peer: string, request: StorageAckRequest, opts: { timeoutMs?: number } = {}): Promise<StorageAck> {
  const bytes = await net.request(peer, protocolId(net.chainId, PROTOCOLS.storageAck), encode(StorageAckRequest, request), {
    timeoutMs: opts.timeoutMs ?? LIMITS.timeoutMs,
    maxResponseBytes: LIMITS.maxResponseBytes,
  })
  return decodePeerAnswer(StorageAck, bytes, peer, 'storage ack')
}
