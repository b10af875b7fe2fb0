import { ComputeError } from '../errors.ts'
import { METER_MODULE } from './meterGlobals.ts'
import { unsupported } from './meterRefusals.ts'
import { WasmReader } from './wasmBytes.ts'
import { SECTION, type Section } from './wasmSections.ts'
import { checkValType, EXTERNAL_KIND, EXTERNAL_KIND_NAMES, type ExternalKindName, FUNC_TYPE_FORM, type FuncType, readLimits } from './wasmTypes.ts'

export interface ModuleImport { module: string; name: string; kind: ExternalKindName; type?: FuncType }

/** What the rewrite needs to know before it touches any section. */
export interface ModuleDeclarations {
  types: FuncType[]
  imports: ModuleImport[]
  /** type index of every function, imported ones first */
  funcTypeIdx: number[]
  importedFuncs: number
  importedGlobals: number
  definedGlobals: number
  startFunc: number | undefined
}

/** First pass: reads types, imports, function and global counts and the start function. */
export function readDeclarations(sections: Section[]): ModuleDeclarations {
  const types: FuncType[] = []
  const imports: ModuleImport[] = []
  const funcTypeIdx: number[] = []
  let importedGlobals = 0
  let definedGlobals = 0
  let importedFuncs = 0
  let startFunc: number | undefined
  const importTypeIdx = new Map<number, number>() // import position → type index

  for (const s of sections) {
    const r = new WasmReader(s.body)
    if (s.id === SECTION.type) {
      const n = r.u32()
      for (let i = 0; i < n; i++) {
        const form = r.u8()
        if (form !== FUNC_TYPE_FORM) unsupported('GC types', `type form 0x${form.toString(16)}`)
        const params: number[] = []
        const results: number[] = []
        for (let k = r.u32(); k > 0; k--) { const t = r.u8(); checkValType(t, 'a function type'); params.push(t) }
        for (let k = r.u32(); k > 0; k--) { const t = r.u8(); checkValType(t, 'a function type'); results.push(t) }
        types.push({ params, results })
      }
    } else if (s.id === SECTION.import) {
      const n = r.u32()
      for (let i = 0; i < n; i++) {
        const module = r.name()
        const name = r.name()
        const kind = r.u8()
        if (kind === EXTERNAL_KIND.tag) unsupported('exception handling', `tag import ${module}.${name}`)
        if (kind > EXTERNAL_KIND.global) r.fail(`import kind ${kind}`)
        if (module === METER_MODULE) throw new ComputeError('UNSUPPORTED_IMPORT', `module may not import from the reserved ${METER_MODULE} namespace`)
        imports.push({ module, name, kind: EXTERNAL_KIND_NAMES[kind]! })
        if (kind === EXTERNAL_KIND.func) {
          const typeIdx = r.u32()
          funcTypeIdx.push(typeIdx)
          importedFuncs++
          importTypeIdx.set(imports.length - 1, typeIdx)
        } else if (kind === EXTERNAL_KIND.table) {
          checkValType(r.u8(), 'a table')
          readLimits(r, 'table')
        } else if (kind === EXTERNAL_KIND.memory) {
          readLimits(r, 'memory')
        } else {
          checkValType(r.u8(), 'a global')
          r.u8() // mutability
          importedGlobals++
        }
      }
    } else if (s.id === SECTION.function) {
      for (let n = r.u32(); n > 0; n--) funcTypeIdx.push(r.u32())
    } else if (s.id === SECTION.memory) {
      if (r.u32() > 1) unsupported('multi-memory', 'more than one memory')
    } else if (s.id === SECTION.global) {
      definedGlobals = r.u32()
    } else if (s.id === SECTION.start) {
      startFunc = r.u32()
    } else if (s.id === SECTION.tag) {
      unsupported('exception handling', 'tag section')
    }
  }
  for (const t of funcTypeIdx) if (types[t] === undefined) throw new ComputeError('MALFORMED_WASM', `function type index ${t} out of range`)
  for (const [i, t] of importTypeIdx) imports[i]!.type = types[t]
  return { types, imports, funcTypeIdx, importedFuncs, importedGlobals, definedGlobals, startFunc }
}
