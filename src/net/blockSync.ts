import { decode, encode } from '../../blocks/codec.ts'
import type { NetNode } from './createNetNode.ts'
import { NetError } from './errors.ts'
import { BlocksByRangeRequest, BlocksByRangeResponse, ChainStatus, decodePeerAnswer, PROTOCOL_LIMITS, protocolId, PROTOCOLS } from './messages.ts'

const LIMITS = PROTOCOL_LIMITS.blocksByRange

/** The chain's side of range sync: encoded blocks from `fromHeight`, at most `count`, in height order. */
export type GetBlocksByRange = (fromHeight: number, count: number, peer: string) => Promise<Uint8Array[]>

export async function serveBlocksByRange(net: NetNode, getBlocks: GetBlocksByRange): Promise<void> {
  await net.handle(protocolId(net.chainId, PROTOCOLS.blocksByRange), async (request, peer) => {
    const req = decode(BlocksByRangeRequest, request)
    const count = Math.min(req.count, LIMITS.maxBlocks)
    const blocks = await getBlocks(req.fromHeight, count, peer)
    return encode(BlocksByRangeResponse, { blocks: blocks.slice(0, count) })
  }, { maxRequestBytes: LIMITS.maxRequestBytes, maxBodyBytes: 0, timeoutMs: LIMITS.timeoutMs })
}

/** Asks `peer` for up to `count` (<= 64) encoded blocks from `fromHeight`. The caller decodes and verifies them. */
export async function requestBlocksByRange(net: NetNode, peer: string, range: BlocksByRangeRequest, opts: { timeoutMs?: number; maxResponseBytes?: number } = {}): Promise<Uint8Array[]> {
  if (!Number.isInteger(range.count) || range.count < 1 || range.count > LIMITS.maxBlocks) {
    throw new NetError('REQUEST_TOO_LARGE', `count must be 1..${LIMITS.maxBlocks}`, { count: range.count })
  }
  const bytes = await net.request(peer, protocolId(net.chainId, PROTOCOLS.blocksByRange), encode(BlocksByRangeRequest, range), {
    timeoutMs: opts.timeoutMs ?? LIMITS.timeoutMs,
    maxResponseBytes: Math.min(opts.maxResponseBytes ?? LIMITS.maxResponseBytes, LIMITS.maxResponseBytes),
  })
  const res = decodePeerAnswer(BlocksByRangeResponse, bytes, peer, 'blocks-by-range response')
  if (res.blocks.length > range.count) throw new NetError('BAD_MESSAGE', `asked for ${range.count} blocks, got ${res.blocks.length}`, { peer })
  return res.blocks
}

const STATUS = PROTOCOL_LIMITS.status

/** Answers status requests with the chain's current head and finalized block. */
export async function serveStatus(net: NetNode, getStatus: (peer: string) => ChainStatus | Promise<ChainStatus>): Promise<void> {
  await net.handle(protocolId(net.chainId, PROTOCOLS.status), async (_request, peer) => encode(ChainStatus, await getStatus(peer)), {
    maxRequestBytes: STATUS.maxRequestBytes,
    maxBodyBytes: 0,
    timeoutMs: STATUS.timeoutMs,
  })
}

export async function requestStatus(net: NetNode, peer: string, opts: { timeoutMs?: number } = {}): Promise<ChainStatus> {
  const bytes = await net.request(peer, protocolId(net.chainId, PROTOCOLS.status), new Uint8Array(0), {
    timeoutMs: opts.timeoutMs ?? STATUS.timeoutMs,
    maxResponseBytes: STATUS.maxResponseBytes,
  })
  return decodePeerAnswer(ChainStatus, bytes, peer, 'status response')
}
