import { beforeAll, describe, expect, test } from 'vitest'
import { OUTCOME } from '../../../blocks/schema.ts'
import { executeComponent, loadComponent, prepareComponent, type LoadedComponent } from '../../../src/compute/executeComponent.ts'
import { DEFAULT_LIMITS } from '../../../src/compute/executeModule.ts'
import { loadFixture } from './computeFixtures.ts'

let calc: LoadedComponent
beforeAll(async () => { calc = await loadComponent(await prepareComponent(loadFixture('calc.component'))) })

const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
const call = (fn: string, args: unknown, fuelLimit = 1_000_000n) => executeComponent(calc, { fn, input: json(args), fuelLimit })
const collatz = (n: number): number => { let s = 0; while (n > 1) { n = n % 2 ? 3 * n + 1 : n / 2; s++ } return s }

describe('components through jco', () => {
  test('WIT-typed calls with JSON arguments return JSON results', async () => {
    expect(new TextDecoder().decode((await call('add', [40, 2])).output)).toBe('42')
    expect(new TextDecoder().decode((await call('add', [0xffff_ffff, 1])).output)).toBe('0')
    expect(new TextDecoder().decode((await call('greet', ['wörld'])).output)).toBe('"hello, wörld!"')
    for (const n of [1, 27, 97, 871]) expect(JSON.parse(new TextDecoder().decode((await call('collatz', [n])).output))).toBe(collatz(n))
  })

  test('fuel is metered inside the core module and identical across 3 runs', async () => {
    const runs = [await call('collatz', [871]), await call('collatz', [871]), await call('collatz', [871])]
    expect(runs[0]!.fuelUsed).toBeGreaterThan((await call('collatz', [27])).fuelUsed)
    for (const r of runs) expect(r.fuelUsed).toBe(runs[0]!.fuelUsed)
  })

  test('a component runs out of fuel with used = limit', async () => {
    const r = await call('collatz', [871], 300n)
    expect(r.outcome).toBe(OUTCOME.outOfFuel)
    expect(r.fuelUsed).toBe(300n)
  })

  test('wrong argument types, unknown functions and non-JSON input are invalid, not crashes', async () => {
    expect((await call('greet', [5])).outcome).toBe(OUTCOME.invalid)
    expect((await call('nope', [])).outcome).toBe(OUTCOME.invalid)
    expect((await executeComponent(calc, { fn: 'add', input: new TextEncoder().encode('{oops'), fuelLimit: 100n })).outcome).toBe(OUTCOME.invalid)
    expect((await call('add', { a: 1 })).outcome).toBe(OUTCOME.invalid)
  })

  test('a core module passed as a component is refused at deploy', async () => {
    await expect(prepareComponent(loadFixture('sha256'))).rejects.toMatchObject({ code: 'MALFORMED_WASM' })
  })

  test('a component above the size limit is refused at deploy', async () => {
    await expect(prepareComponent(loadFixture('calc.component'), { ...DEFAULT_LIMITS, maxModuleBytes: 64 })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' })
  })
})
