import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { ROUTE_STRATEGY } from '../../../blocks/schema.ts'
import { parsePlacementFlags } from '../../../src/cli/commands/parsePlacementFlags.ts'
import { CliError } from '../../../src/cli/errors.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { type Kit, sampleAsset, sampleHost, startKit } from '../../unit/rpc/rpcTestKit.ts'
import { runCli } from './cliHarness.ts'

/**
 * `xsc exec --zones a,b --strategy NAME --memory BYTES`: the flags reach the execute tx (over real
 * HTTP against the in-memory backend), and the host pre-check counts only hosts in allowed zones.
 */
const tmp = tempDir('xsc-cli-placement-')
let kit: Kit
let keyFile: string
beforeAll(async () => {
  kit = await startKit()
  keyFile = `${tmp.dir}/alice.json`
  writeKeyFile(keyFile, kit.alice)
})
afterAll(async () => {
  await kit.server.close()
  tmp.cleanup()
})

describe('placement flags', () => {
  it('parse zones and strategy, refusing empty, repeated or unknown values', () => {
    expect(parsePlacementFlags({ zones: 'eu-1,us-2', strategy: 'cheapest' })).toEqual({ zones: ['eu-1', 'us-2'], strategy: 'cheapest' })
    expect(parsePlacementFlags({})).toEqual({ zones: [], strategy: 'balanced' })
    for (const bad of [{ zones: 'a,,b' }, { zones: 'a,a' }, { strategy: 'fastest' }, { zones: 'x'.repeat(33) }]) expect(() => parsePlacementFlags(bad)).toThrow(CliError)
  })

  it('exec sends the zones, strategy and memory in the execute tx', async () => {
    const hosts = [sampleHost(), sampleHost()]
    for (const h of hosts) kit.backend.addHost(h)
    const asset = sampleAsset(kit.alice.publicKey, hosts.map((h) => h.address))
    kit.backend.addAsset(asset)
    const run = runCli('exec', toHex(asset.id), 'run', '--key', keyFile, '--input', 'x', '--bid', '2', '--replicas', '1', '--quorum', '1', '--zones', 'eu-1,eu-2', '--strategy', 'reputation', '--memory', '1048576', '--timeout', '2', '--rpc', kit.server.url)
    const tx = await waitFor(async () => kit.backend.mempool.find((t) => t.body.payload.type === 'execute'), 10_000, 'the execute tx')
    const p = tx.body.payload
    if (p.type !== 'execute') throw new Error('unreachable')
    expect(p.zones).toEqual(['eu-1', 'eu-2'])
    expect(p.strategy).toBe(ROUTE_STRATEGY.reputation)
    expect(p.minMemoryBytes).toBe(1_048_576n)
    await run
  })

  it('exec refuses before sending when no host in the allowed zones fits', async () => {
    const asset = sampleAsset(kit.alice.publicKey, [])
    kit.backend.addAsset(asset)
    const run = await runCli('exec', toHex(asset.id), 'run', '--key', keyFile, '--input', 'x', '--bid', '2', '--replicas', '1', '--quorum', '1', '--zones', 'mars-1', '--rpc', kit.server.url, '--json')
    expect(run.code).not.toBe(0)
    expect(JSON.stringify(run.json)).toContain('NO_HOSTS')
  })
})
