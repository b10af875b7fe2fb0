/**
 * Golden vectors of the instrumenter: what `instrumentModule` makes of every fixture module (and
 * every core module inside the fixture components), of seeded random damage to them, and of a
 * probe module per opcode. Each outcome is the hash of the instrumented bytes plus the hash of
 * the reported imports/exports, or the typed error. Any change to the meter's output shows up
 * here; regenerate only for an intended change of the instrumented bytes:
 *   npx tsx test/unit/compute/instrument/instrumentVectors.ts --write
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

import { ComputeError } from '../../../../src/compute/errors.ts'
import { DEFAULT_INSTRUMENT_OPTS, instrumentModule, type InstrumentOpts } from '../../../../src/compute/instrument/instrumentModule.ts'
import { hash, toHex, utf8 } from '../../../../src/crypto/index.ts'

export const VECTOR_FILE = new URL('../../../../fixtures/vectors/instrumentedModules.json', import.meta.url)
const WASM_DIR = new URL('../../../../fixtures/wasm/', import.meta.url)

export interface InstrumentVectors {
  /** fixture (or fixture#core-module-index) → opts variant → outcome */
  modules: Record<string, Record<string, string>>
  /** fixture → digest over the outcomes of its seeded mutants */
  mutants: Record<string, string>
  /** opcode (hex, 0xfc sub-opcodes as fc:N) → digest over the outcomes of its probe modules */
  opcodes: Record<string, string>
}

const OPTS_VARIANTS: Record<string, InstrumentOpts> = {
  defined: DEFAULT_INSTRUMENT_OPTS,
  imported: { ...DEFAULT_INSTRUMENT_OPTS, meterGlobals: 'imported' },
  tight: { maxMemoryPages: 2, maxTableElements: 3, maxCallDepth: 7, maxLocalsPerFunction: 12, meterGlobals: 'defined' },
}

const MUTANTS_PER_FIXTURE = 300

/** The instrumented bytes and reported shape as two short hashes, or the typed refusal. */
export function describeOutcome(bytes: Uint8Array, opts: InstrumentOpts): string {
  try {
    const out = instrumentModule(bytes, opts)
    const shape = JSON.stringify({ imports: out.imports, exports: out.exports, funcTypes: [...out.exportedFuncTypes], hasStart: out.hasStart })
    return `${toHex(hash(out.bytes)).slice(0, 18)} ${toHex(hash(utf8(shape))).slice(0, 18)}`
  } catch (e) {
    if (e instanceof ComputeError) return `${e.code}: ${e.message}`
    throw e
  }
}

const digest = (outcomes: string[]): string => toHex(hash(utf8(outcomes.join('\n')))).slice(0, 34)

/** The core modules a component binary embeds (section 1), nested components (section 4) included. */
export function coreModulesOf(component: Uint8Array): Uint8Array[] {
  const found: Uint8Array[] = []
  let pos = 8
  const leb = (): number => {
    let result = 0
    let shift = 0
    for (;;) {
      const b = component[pos++]!
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return result
      shift += 7
    }
  }
  while (pos < component.length) {
    const id = component[pos++]!
    const size = leb()
    const body = component.subarray(pos, pos + size)
    if (id === 1) found.push(body)
    if (id === 4) found.push(...coreModulesOf(body))
    pos += size
  }
  return found
}

/** Deterministic PRNG (mulberry32): the mutants must be the same on every run and machine. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Byte overwrites, insertions, deletions and truncation, as the robustness property test does. */
function mutate(original: Uint8Array, random: () => number): Uint8Array {
  const bytes = [...original]
  const edits = 1 + Math.floor(random() * 4)
  for (let i = 0; i < edits; i++) {
    const p = Math.floor(random() * (bytes.length + 1))
    const value = Math.floor(random() * 256)
    const kind = Math.floor(random() * 4)
    if (kind === 0 && p < bytes.length) bytes[p] = value
    else if (kind === 1) bytes.splice(p, 0, value)
    else if (kind === 2) bytes.splice(p, 1)
    else bytes.length = Math.max(8, p)
  }
  return new Uint8Array(bytes)
}

const uleb = (n: number): number[] => {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

/** A module with one `() -> ()` function whose body is `code` (locals vector included). */
function moduleWithBody(code: number[]): Uint8Array {
  const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body]
  const body = [0x00, ...code] // no locals
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ])
}

// Immediate bytes placed after the probed opcode: zeros, small indices, a v128 block type, a
// multi-memory memarg, a huge LEB, and nothing at all.
const PROBE_FILLERS: number[][] = [
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b],
  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x0b, 0x0b],
  [0x7b, 0x70, 0x6f, 0x40, 0x0b, 0x0b, 0x0b],
  [0x40, 0x01, 0x00, 0x00, 0x0b],
  [0xff, 0xff, 0xff, 0xff, 0x7f, 0x0b],
  [0x0b],
  [],
]
// What comes before the opcode: nothing (the call scan reaches it) or a call (it does not).
const PROBE_PREFIXES: number[][] = [[], [0x10, 0x00], [0x01, 0x02, 0x40]]

function probeOutcomes(opcodeBytes: number[]): string[] {
  const outcomes: string[] = []
  for (const prefix of PROBE_PREFIXES) {
    for (const filler of PROBE_FILLERS) {
      for (const opts of [OPTS_VARIANTS.defined!, OPTS_VARIANTS.imported!]) {
        outcomes.push(describeOutcome(moduleWithBody([...prefix, ...opcodeBytes, ...filler]), opts))
      }
    }
  }
  return outcomes
}

export function computeInstrumentVectors(): InstrumentVectors {
  const files = readdirSync(WASM_DIR).filter((f) => f.endsWith('.wasm')).sort()
  const modules: InstrumentVectors['modules'] = {}
  const mutants: InstrumentVectors['mutants'] = {}
  const cores: [string, Uint8Array][] = []
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(new URL(file, WASM_DIR)))
    if (file.endsWith('.component.wasm')) coreModulesOf(bytes).forEach((core, i) => cores.push([`${file}#${i}`, core]))
    else cores.push([file, bytes])
  }
  cores.forEach(([name, bytes], index) => {
    modules[name] = Object.fromEntries(Object.entries(OPTS_VARIANTS).map(([variant, opts]) => [variant, describeOutcome(bytes, opts)]))
    const random = seededRandom(index + 1)
    const outcomes: string[] = []
    for (let i = 0; i < MUTANTS_PER_FIXTURE; i++) outcomes.push(describeOutcome(mutate(bytes, random), i % 2 === 0 ? OPTS_VARIANTS.defined! : OPTS_VARIANTS.imported!))
    mutants[name] = digest(outcomes)
  })
  const opcodes: InstrumentVectors['opcodes'] = {}
  for (let op = 0; op < 256; op++) opcodes[`0x${op.toString(16).padStart(2, '0')}`] = digest(probeOutcomes([op]))
  for (let sub = 0; sub < 20; sub++) opcodes[`fc:${sub}`] = digest(probeOutcomes([0xfc, ...uleb(sub)]))
  return { modules, mutants, opcodes }
}

export function readInstrumentVectors(): InstrumentVectors {
  return JSON.parse(readFileSync(VECTOR_FILE, 'utf8')) as InstrumentVectors
}

if (process.argv.includes('--write') && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(VECTOR_FILE, `${JSON.stringify(computeInstrumentVectors(), null, 1)}\n`)
  console.log(`wrote ${VECTOR_FILE.pathname}`)
}
