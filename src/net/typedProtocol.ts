import { type Codec, decode, encode } from '../../blocks/codec.ts'
import type { NetNode } from './createNetNode.ts'
import { NetError } from './errors.ts'
import { decodePeerAnswer, protocolId, type ProtocolName } from './messages.ts'

/** A small request → answer protocol with one codec each way and fixed limits (audits, storage acks). */
export interface TypedProtocol<Req, Res> {
  protocol: ProtocolName
  request: Codec<Req>
  response: Codec<Res>
  limits: { maxRequestBytes: number; maxResponseBytes: number; timeoutMs: number }
  /** What the answer is called in errors ("audit response"). */
  what: string
}

/** Serves `p`: `answer` undefined means "not held here" (NOT_FOUND to the asker, `missing(req)` says what). */
export async function serveTyped<Req, Res>(net: NetNode, p: TypedProtocol<Req, Res>, answer: (req: Req, peer: string) => Promise<Res | undefined>, missing: (req: Req) => string): Promise<void> {
  await net.handle(protocolId(net.chainId, p.protocol), async (bytes, peer) => {
    const req = decode(p.request, bytes)
    const res = await answer(req, peer)
    if (res === undefined) throw new NetError('NOT_FOUND', missing(req))
    return encode(p.response, res)
  }, { maxRequestBytes: p.limits.maxRequestBytes, maxBodyBytes: 0, timeoutMs: p.limits.timeoutMs })
}

/** Asks `peer` over `p`; the decoded answer, still to be checked by the caller. */
export async function requestTyped<Req, Res>(net: NetNode, peer: string, p: TypedProtocol<Req, Res>, req: Req, opts: { timeoutMs?: number } = {}): Promise<Res> {
  const bytes = await net.request(peer, protocolId(net.chainId, p.protocol), encode(p.request, req), {
    timeoutMs: opts.timeoutMs ?? p.limits.timeoutMs,
    maxResponseBytes: p.limits.maxResponseBytes,
  })
  return decodePeerAnswer(p.response, bytes, peer, p.what)
}
