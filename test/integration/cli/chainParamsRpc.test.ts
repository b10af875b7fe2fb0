import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createClient, getChainParams, http } from '../../../src/client/index.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../../src/state/genesisJson.ts'
import { type Kit, rpcPost, startKit } from '../../unit/rpc/rpcTestKit.ts'

/** xsc_getChainParams on the wire (the deploy command's source for k, m, segment and chunk size). */
let kit: Kit
beforeAll(async () => {
  kit = await startKit()
})
afterAll(async () => {
  await kit.server.close()
})

describe('xsc_getChainParams over HTTP', () => {
  it('answers the genesis parameters with u64/u128 values as decimal strings', async () => {
    const { json } = await rpcPost(kit.server.url, { jsonrpc: '2.0', id: 1, method: 'xsc_getChainParams', params: [] })
    const r = (json as { result: Record<string, unknown> }).result
    expect(r).toMatchObject({ chainId: 'xsc-test', tokenSymbol: 'XSC', tokenDecimals: 9, slotMs: 1000, genesisTime: '1700000000000' })
    expect(r.params).toMatchObject({ dataShards: DEFAULT_PARAMS.dataShards, parityShards: DEFAULT_PARAMS.parityShards, segmentSize: DEFAULT_PARAMS.segmentSize, chunkSize: DEFAULT_PARAMS.chunkSize, minStake: String(DEFAULT_PARAMS.minStake), maxFuelLimit: '1000000000' })
    expect(r.consensus).toEqual(DEFAULT_CONSENSUS)
  })

  it('the client action parses it back to domain values; params by name or none work, extra params are refused', async () => {
    const client = createClient({ transport: http(kit.server.url) })
    const p = await getChainParams(client)
    await client.close()
    expect(p.genesisTime).toBe(1_700_000_000_000n)
    expect(p.params).toEqual({ ...DEFAULT_PARAMS, maxFuelLimit: 1_000_000_000n })
    const named = await rpcPost(kit.server.url, { jsonrpc: '2.0', id: 2, method: 'xsc_getChainParams', params: {} })
    expect((named.json as { result: unknown }).result).toBeDefined()
    const extra = await rpcPost(kit.server.url, { jsonrpc: '2.0', id: 3, method: 'xsc_getChainParams', params: [1] })
    expect((extra.json as { error: { code: number } }).error.code).toBe(-32602)
  })

  it('rpc.discover documents it with the ChainParamsInfo result schema', async () => {
    const { json } = await rpcPost(kit.server.url, { jsonrpc: '2.0', id: 1, method: 'rpc.discover' })
    const m = (json as { result: { methods: { name: string; result: { schema: { title?: string; required?: string[] } } }[] } }).result.methods.find((x) => x.name === 'xsc_getChainParams')
    expect(m?.result.schema.title).toBe('ChainParamsInfo')
    expect(m?.result.schema.required).toEqual(['chainId', 'tokenSymbol', 'tokenDecimals', 'slotMs', 'genesisTime', 'params', 'consensus'])
  })
})
