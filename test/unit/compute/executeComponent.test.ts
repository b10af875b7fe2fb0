import { beforeAll, describe, expect, test } from 'vitest'

import { OUTCOME } from '../../../blocks/schema.ts'
import { computeAppliedState } from '../../../src/compute/computeResultHash.ts'
import { executeComponent, findComponentAsync, loadComponent, type LoadedComponent, prepareComponent } from '../../../src/compute/executeComponent.ts'
import { DEFAULT_LIMITS } from '../../../src/compute/executeModule.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { loadFixture } from './computeFixtures.ts'

let calc: LoadedComponent
let tally: LoadedComponent
beforeAll(async () => {
  calc = await loadComponent(await prepareComponent(loadFixture('calc.component')))
  tally = await loadComponent(await prepareComponent(loadFixture('tally.component')))
})

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

  test('result<T, E>: the ok case is the value, the err case is {"err": E}; kebab and camel names both work', async () => {
    expect(new TextDecoder().decode((await call('checked-div', [84, 2])).output)).toBe('42')
    expect(new TextDecoder().decode((await call('checkedDiv', [84, 2])).output)).toBe('42')
    const err = await call('checked-div', [1, 0])
    expect(err.outcome).toBe(OUTCOME.ok)
    expect(new TextDecoder().decode(err.output)).toBe('{"err":"division by zero"}')
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

  test('the async component ABI is detected in WIT (refused at deploy), sync WIT is not', () => {
    expect(findComponentAsync('world w {\n  export run: async func() -> u32;\n}')).toMatch(/async/)
    expect(findComponentAsync('world w {\n  export run: func(s: stream<u8>);\n}')).toBe('stream<')
    expect(findComponentAsync('world w {\n  export run: func() -> future<u32>;\n}')).toBe('future<')
    expect(findComponentAsync('world w {\n  export asynchronous: func(async-mode: u32) -> u32;\n}')).toBeUndefined()
  })

  test('a component importing anything but xsc:host/state is refused at deploy, naming the import', async () => {
    await expect(prepareComponent(loadFixture('clocked.component'))).rejects.toMatchObject({ code: 'UNSUPPORTED_IMPORT', message: expect.stringMatching(/xsc:fixtures\/clock/) })
  })
})

describe('component asset state (xsc:host/state)', () => {
  const key = toHex(new TextEncoder().encode('tally'))
  const bump = (step: number, state: Map<string, Uint8Array>, fuelLimit = 100_000n) =>
    executeComponent(tally, { fn: 'bump', input: json([step]), fuelLimit, state: (k) => state.get(toHex(k)) })

  test('the tally persists across executions when each write set is applied', async () => {
    let state = new Map<string, Uint8Array>()
    const first = await bump(3, state)
    expect(new TextDecoder().decode(first.output)).toBe('3')
    expect(first.writeSet).toEqual([{ key: new TextEncoder().encode('tally'), value: new Uint8Array([3, 0, 0, 0]) }])
    state = computeAppliedState(state, first.writeSet)
    const second = await bump(4, state)
    expect(new TextDecoder().decode(second.output)).toBe('7')
    state = computeAppliedState(state, second.writeSet)
    expect(state.get(key)).toEqual(new Uint8Array([7, 0, 0, 0]))
    const cleared = await executeComponent(tally, { fn: 'clear', input: json([]), fuelLimit: 100_000n, state: (k) => state.get(toHex(k)) })
    expect(computeAppliedState(state, cleared.writeSet).has(key)).toBe(false)
  })

  test('fuel across the three core modules and the host calls is identical across runs', async () => {
    const state = new Map([[key, new Uint8Array([1, 0, 0, 0])]])
    const runs = [await bump(2, state), await bump(2, state), await bump(2, state)]
    for (const r of runs) {
      expect(r.fuelUsed).toBe(runs[0]!.fuelUsed)
      expect(r.writeSetHash).toEqual(runs[0]!.writeSetHash)
    }
  })

  test('running out of fuel inside a host call ends outOfFuel with no writes', async () => {
    const r = await bump(1, new Map(), 60n)
    expect(r.outcome).toBe(OUTCOME.outOfFuel)
    expect(r.fuelUsed).toBe(60n)
    expect(r.writeSet).toEqual([])
  })
})
