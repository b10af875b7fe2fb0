import { afterEach, describe, expect, it } from 'vitest'

import { type Client, createClient, getChainStatus, webSocket } from '../../../src/client/index.ts'
import { type Kit, startKit } from '../rpc/rpcTestKit.ts'

/**
 * Calls on one WebSocket are not serialized by the client transport nor by the server: N calls
 * sent together are all running on the server before the first one answers. Checked by order of
 * events, not by time: the server's handler holds every call until N of them have started (or,
 * if they never all start, until a generous deadline, and the order then shows it).
 */
describe('webSocket transport: concurrent calls on one socket', () => {
  let kit: Kit | undefined
  let client: Client | undefined
  afterEach(async () => {
    await client?.close()
    await kit?.server.close()
  })

  it('N calls sent together all reach the handler before any answer comes back', async () => {
    const N = 16
    kit = await startKit()
    const events: string[] = []
    let started = 0
    let release!: () => void
    const allStarted = new Promise<void>((resolve) => (release = resolve))
    const deadline = setTimeout(release, 5_000)
    const real = kit.backend.chainStatus.bind(kit.backend)
    kit.backend.chainStatus = async () => {
      events.push('start')
      if (++started === N) release()
      await allStarted
      return real()
    }
    client = createClient({ transport: webSocket(kit.server.wsUrl) })
    await Promise.all(Array.from({ length: N }, () => getChainStatus(client!).then(() => events.push('answer'))))
    clearTimeout(deadline)
    expect(events.slice(0, N)).toEqual(Array.from({ length: N }, () => 'start'))
    expect(events.filter((e) => e === 'answer')).toHaveLength(N)
  })
})
