import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { ACTIVITY_ROLE } from '../../../src/chain/accountActivity.ts'
import { type Client, transfer } from '../../../src/client/index.ts'
import { generateKeyPair, toHex } from '../../../src/crypto/index.ts'
import { type Kit, rpcPost, startKitWithClient } from '../../unit/rpc/rpcTestKit.ts'

let kit: Kit
let client: Client
let close: () => Promise<void>
beforeAll(async () => void ({ kit, client, close } = await startKitWithClient()))
afterAll(() => close())

type Row = { height: number; entry: number; role: number; ref: string; amount: string; aux: number; slot: number }
const activity = async (params: unknown): Promise<{ result?: Row[]; error?: { code: number; data: { reason: string } } }> =>
  (await rpcPost(kit.server.url, { jsonrpc: '2.0', id: 1, method: 'xsc_getActivity', params })).json as never

describe('xsc_getActivity over HTTP', () => {
  it('lists what blocks did to an account, newest first, pages with beforeHeight and limit, and refuses oversized pages', async () => {
    const to = generateKeyPair().publicKey
    const first = await transfer(client, { account: kit.alice, to, amount: 10n, fee: 2n })
    const b1 = kit.backend.produceBlock()
    const second = await transfer(client, { account: kit.alice, to, amount: 20n, fee: 3n })
    const b2 = kit.backend.produceBlock()

    const all = await activity([toHex(to)])
    expect(all.result).toEqual([
      { height: b2.block.header.height, entry: 0, role: ACTIVITY_ROLE.received, ref: toHex(second), amount: '20', aux: 0, slot: b2.block.header.slot },
      { height: b1.block.header.height, entry: 0, role: ACTIVITY_ROLE.received, ref: toHex(first), amount: '10', aux: 0, slot: b1.block.header.slot },
    ])
    const sender = await activity({ subject: toHex(kit.alice.publicKey), limit: 1 })
    expect(sender.result?.map((r) => [r.role, r.ref, r.amount])).toEqual([[ACTIVITY_ROLE.sent, toHex(second), '3']])
    const older = await activity([toHex(to), b2.block.header.height, 10])
    expect(older.result?.map((r) => r.ref)).toEqual([toHex(first)])
    expect((await activity([toHex(generateKeyPair().publicKey)])).result).toEqual([])

    expect((await activity([toHex(to), null, 501])).error).toMatchObject({ code: -32602, data: { reason: 'INVALID_PARAMS' } })
    expect((await activity([toHex(to), null, 0])).error).toMatchObject({ code: -32602 })
    expect((await activity(['0x12'])).error).toMatchObject({ code: -32602 })
  })
})
