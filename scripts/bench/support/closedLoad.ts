import { setTimeout as sleep } from 'node:timers/promises'

import { type BatchAnswer, type Client, getNonce, RpcClientError } from '../../../src/client/index.ts'
import { type KeyPair, toHex } from '../../../src/crypto/index.ts'

export interface ClosedLoadOpts {
  senders: KeyPair[]
  /** sender j sends to clients[j mod clients.length] */
  clients: Client[]
  seconds: number
  /** most txs of one sender not yet `isDone` */
  inflight: number
  isDone(id: string): boolean
  send(c: Client, s: KeyPair, nonce: number): Promise<Uint8Array>
  /**
   * With `batch` > 1: sends a sender's next `nonces` in one round trip (sendTransactions, a
   * JSON-RPC batch), each answered on its own; used instead of `send`.
   */
  sendBatch?(c: Client, s: KeyPair, nonces: number[]): Promise<BatchAnswer<Uint8Array>[]>
  batch?: number
}

export interface ClosedLoadResult {
  /** hex ids of every tx accepted, in sending order per sender */
  ids: string[]
  /** error code (RPC code or error name) → count */
  errors: Record<string, number>
  start: number
  end: number
}

/**
 * Closed-loop load: each sender sends its own nonce chain (sequentially, so its txs arrive in
 * order; with `batch`, up to that many per round trip) to one validator, keeping at most
 * `inflight` txs not yet done, for `seconds`.
 */
export async function closedLoad(o: ClosedLoadOpts): Promise<ClosedLoadResult> {
  const ids: string[] = []
  const errors: Record<string, number> = {}
  const start = Date.now()
  const end = start + o.seconds * 1000
  await Promise.all(o.senders.map(async (s, j) => {
    const c = o.clients[j % o.clients.length]!
    let nonce = await getNonce(c, { address: s.publicKey })
    let open: string[] = []
    while (Date.now() < end) {
      if (open.length >= o.inflight) {
        open = open.filter((id) => !o.isDone(id))
        if (open.length >= o.inflight) await sleep(20)
        continue
      }
      try {
        const k = o.sendBatch === undefined ? 1 : Math.max(1, Math.min(o.batch ?? 1, o.inflight - open.length))
        const answers = o.sendBatch === undefined ? [{ ok: true as const, value: await o.send(c, s, nonce) }] : await o.sendBatch(c, s, Array.from({ length: k }, (_, i) => nonce + i))
        for (const a of answers) {
          // The first refused tx of a batch: handled as a refused single send (its successors were refused for the gap).
          if (!a.ok) throw a.error
          const id = toHex(a.value)
          nonce++
          ids.push(id)
          open.push(id)
        }
      } catch (err) {
        const code = err instanceof RpcClientError ? err.code : (err as Error).name
        errors[code] = (errors[code] ?? 0) + 1
        // Resent after a resync and still pending there: it is in flight, move on.
        if (code === 'ALREADY_KNOWN') {
          nonce++
          continue
        }
        const expected = err instanceof RpcClientError && (err.code === 'NONCE_TOO_LOW' || err.code === 'NONCE_TOO_HIGH') ? err.details.data.expected : undefined
        await sleep(100)
        nonce = typeof expected === 'number' ? expected : typeof expected === 'string' ? Number(expected) : await getNonce(c, { address: s.publicKey })
      }
    }
  }))
  return { ids, errors, start, end }
}
