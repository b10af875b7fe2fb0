import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { ASSET_KIND } from '../../../blocks/schema.ts'
import { formatTokens } from '../../../src/cli/commands/balance.ts'
import { computeDefaultDeposit, detectAssetKind } from '../../../src/cli/commands/deploy.ts'
import { describeOutput } from '../../../src/cli/commands/describeOutput.ts'
import { computeCallInput } from '../../../src/cli/commands/exec.ts'
import { explainError } from '../../../src/cli/commands/explainError.ts'
import { parseCapabilities } from '../../../src/cli/commands/host.ts'
import { computeNetworkUtilizationBp, filterEligibleHosts } from '../../../src/cli/commands/listHosts.ts'
import { parseAmount, parseCoord, parseCount } from '../../../src/cli/commands/parseOptions.ts'
import { createProgressBar } from '../../../src/cli/commands/progressBar.ts'
import { CliError, CommandError } from '../../../src/cli/errors.ts'
import { RpcClientError } from '../../../src/client/index.ts'
import { utf8 } from '../../../src/crypto/index.ts'
import type { HostSummary } from '../../../src/rpc/backend.ts'
import { HOST_STATUS } from '../../../src/state/records.ts'
import { computeManifest } from '../../../src/storage/encodeAsset.ts'

const usage = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(CliError)
    expect((e as CliError).code).toBe('USAGE')
    return (e as Error).message
  }
  throw new Error('expected a usage error')
}

describe('CLI flag parsing', () => {
  it('amounts are whole base units: negatives, fractions, exponents and junk are usage errors naming the flag', () => {
    expect(parseAmount('0', '--fee')).toBe(0n)
    expect(parseAmount('340282366920938463463374607431768211455', '--deposit')).toBe((1n << 128n) - 1n)
    expect(usage(() => parseAmount('-1', '--deposit'))).toMatch(/--deposit cannot be negative/)
    expect(usage(() => parseAmount('1.5', '--amount'))).toMatch(/--amount is in whole base units .*1500000000/)
    expect(usage(() => parseAmount('.5', '--amount'))).toMatch(/whole base units/)
    for (const bad of ['1e9', '0x10', '', ' 1', '1 ', 'ten']) expect(usage(() => parseAmount(bad, '--bid'))).toMatch(/--bid must be a whole number/)
  })

  it('coordinates, counts and capabilities', () => {
    expect(parseCoord('1, 2,3', '--origin')).toEqual({ x: 1, y: 2, z: 3 })
    expect(usage(() => parseCoord('1,2', '--coord'))).toMatch(/x,y,z/)
    expect(usage(() => parseCoord('1,-2,3', '--coord'))).toMatch(/x,y,z/)
    expect(usage(() => parseCoord('1,2,4294967296', '--coord'))).toMatch(/u32/)
    expect(parseCount('3', '--replicas', 255, 1)).toBe(3)
    expect(usage(() => parseCount('0', '--replicas', 255, 1))).toMatch(/1\.\.255/)
    expect(parseCapabilities('storage,compute')).toBe(3)
    expect(parseCapabilities('private, compute')).toBe(6)
    expect(usage(() => parseCapabilities('gpu'))).toMatch(/storage, compute, private/)
    expect(usage(() => parseCapabilities(','))).toMatch(/at least one/)
  })
})

describe('deploy helpers', () => {
  it('detects core modules, components and blobs from the header', () => {
    expect(detectAssetKind(new Uint8Array(readFileSync('fixtures/wasm/fib.wasm')))).toBe('module')
    expect(detectAssetKind(new Uint8Array(readFileSync('fixtures/wasm/calc.component.wasm')))).toBe('component')
    expect(detectAssetKind(utf8('hello world, not wasm'))).toBe('blob')
    expect(detectAssetKind(new Uint8Array([0, 0x61, 0x73, 0x6d]))).toBe('blob')
  })

  it('the default deposit covers ten epochs of rent for every shard at the bid', () => {
    const m = computeManifest(new Uint8Array(10_000))
    expect(computeDefaultDeposit(m, 3n)).toBe(3n * m.shardSize * 6n * 10n)
  })
})

describe('host eligibility (the CLI pre-check mirrors the router filter)', () => {
  const host = (n: number, over: { capabilities?: number; status?: number; usedBytes?: bigint; askPerByteEpoch?: bigint; askPerFuel?: bigint } = {}): HostSummary => ({
    address: new Uint8Array(32).fill(n),
    record: {
      params: { coord: { x: n, y: 0, z: 0 }, zone: 'z', capacityBytes: 1000n, capabilities: over.capabilities ?? 3, askPerFuel: over.askPerFuel ?? 5n, askPerByteEpoch: over.askPerByteEpoch ?? 2n, peerId: '', memoryBytes: 16n << 20n, encryptionKey: undefined },
      reputation: 5000, status: over.status ?? HOST_STATUS.active, usedBytes: over.usedBytes ?? 0n, joinedHeight: 1, failedAudits: 0, bond: 0n, passedChecks: 0,
    },
  })

  it('storage is priced at the ask raised by network utilization; compute at the ask', () => {
    const hosts = [host(1, { usedBytes: 500n }), host(2, { usedBytes: 500n })]
    expect(computeNetworkUtilizationBp(hosts)).toBe(5000)
    // 2 × (1 + 1.0 × 0.5) = 3 per byte-epoch at slope 10000 bp.
    expect(filterEligibleHosts(hosts, { capabilities: 1, bid: 2n, ask: 'byteEpoch', storageUtilizationSlopeBp: 10_000 })).toHaveLength(0)
    expect(filterEligibleHosts(hosts, { capabilities: 1, bid: 3n, ask: 'byteEpoch', storageUtilizationSlopeBp: 10_000 })).toHaveLength(2)
    expect(filterEligibleHosts(hosts, { capabilities: 2, bid: 4n, ask: 'fuel' })).toHaveLength(0)
    expect(filterEligibleHosts(hosts, { capabilities: 2, bid: 5n, ask: 'fuel' })).toHaveLength(2)
  })

  it('inactive hosts, missing capabilities and too little free space are not eligible', () => {
    const hosts = [host(1), host(2, { status: HOST_STATUS.suspended }), host(3, { capabilities: 2 }), host(4, { usedBytes: 990n })]
    expect(filterEligibleHosts(hosts, { capabilities: 1, bid: 100n, ask: 'byteEpoch', minFreeBytes: 20n }).map((h) => h.address[0])).toEqual([1])
    expect(filterEligibleHosts(hosts, { capabilities: 2 | 4, bid: 100n, ask: 'fuel' })).toHaveLength(0)
  })
})

describe('exec helpers', () => {
  it('component args become a UTF-8 JSON array (JSON where it parses, strings otherwise)', () => {
    const input = computeCallInput(ASSET_KIND.component, ['2', 'alice', '[1,2]', 'true', '"x"'], {})
    expect(JSON.parse(new TextDecoder().decode(input))).toEqual([2, 'alice', [1, 2], true, 'x'])
    expect(computeCallInput(ASSET_KIND.component, [], {})).toEqual(new Uint8Array(0))
  })

  it('modules take raw bytes; input sources are exclusive', () => {
    expect(computeCallInput(ASSET_KIND.module, [], { inputHex: '0x0a000000' })).toEqual(new Uint8Array([10, 0, 0, 0]))
    expect(computeCallInput(ASSET_KIND.module, [], { input: 'hé' })).toEqual(utf8('hé'))
    expect(usage(() => computeCallInput(ASSET_KIND.module, ['5'], {}))).toMatch(/raw input/)
    expect(usage(() => computeCallInput(ASSET_KIND.component, ['5'], { inputHex: '0x00' }))).toMatch(/one way/)
    expect(usage(() => computeCallInput(ASSET_KIND.module, [], { inputHex: '0x0' }))).toMatch(/even number/)
    expect(() => computeCallInput(ASSET_KIND.module, [], { inputFile: '/nonexistent/input.bin' })).toThrow(CommandError)
  })

  it('outputs show as hex, as text when printable, and as u32 LE when 4 bytes', () => {
    expect(describeOutput(new Uint8Array([55, 0, 0, 0]))).toEqual({ hex: '0x37000000', utf8: null, u32: 55 })
    expect(describeOutput(utf8('"hi"'))).toEqual({ hex: '0x22686922', utf8: '"hi"', u32: 0x22696822 })
    expect(describeOutput(utf8('line\nnext'))).toMatchObject({ utf8: 'line\nnext', u32: null })
    expect(describeOutput(new Uint8Array([0xff, 0xfe]))).toEqual({ hex: '0xfffe', utf8: null, u32: null })
    expect(describeOutput(new Uint8Array(0))).toEqual({ hex: '0x', utf8: null, u32: null })
  })

  it('formats token amounts exactly', () => {
    expect(formatTokens(1_500_000_000n, 9)).toBe('1.5')
    expect(formatTokens(1n, 9)).toBe('0.000000001')
    expect(formatTokens(0n, 9)).toBe('0')
    expect(formatTokens(123n, 0)).toBe('123')
  })
})

describe('advice', () => {
  it('maps node codes, state reasons and client codes to what to do; own advice wins', () => {
    expect(explainError(new RpcClientError('INSUFFICIENT_FUNDS', 'x', { rpcCode: -32012, data: { reason: 'INSUFFICIENT_FUNDS' } }))).toMatch(/fund the account or lower --deposit/)
    expect(explainError(new RpcClientError('INVALID_TX', 'x', { rpcCode: -32018, data: { reason: 'HOST_EXISTS' } }))).toMatch(/already a host/)
    expect(explainError(new RpcClientError('TRANSPORT_FAILED', 'x'))).toMatch(/xsc node/)
    expect(explainError(new CommandError('NO_HOSTS', 'x', 'do this', { eligible: 0, needed: 3, bid: 1n }))).toBe('do this')
    expect(explainError(new Error('plain'))).toBeUndefined()
  })
})

describe('progress bar', () => {
  const fakeStream = (isTTY: boolean) => {
    const writes: string[] = []
    return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream }
  }

  it('draws on a TTY, redrawing the line in place, and ends it', () => {
    const { writes, stream } = fakeStream(true)
    const bar = createProgressBar({ label: 'upload', enabled: true, stream, width: 10 })
    bar.update(512 * 1024, 2 << 20)
    bar.update(2 << 20, 2 << 20)
    bar.done()
    expect(writes[0]).toContain('upload [###-------]  25% 0.5/2.0 MiB')
    expect(writes[1]).toContain('[##########] 100%')
    expect(writes.every((w, i) => i === writes.length - 1 || w.startsWith('\r'))).toBe(true)
    expect(writes.at(-1)).toBe('\n')
  })

  it('stays silent when not a TTY or when disabled (--json)', () => {
    for (const [isTTY, enabled] of [[false, true], [true, false]] as const) {
      const { writes, stream } = fakeStream(isTTY)
      const bar = createProgressBar({ label: 'upload', enabled, stream })
      bar.update(1, 2)
      bar.done('ok')
      expect(writes).toEqual([])
    }
  })
})
