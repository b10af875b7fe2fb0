import { WasmReader, WasmWriter } from './wasmBytes.ts'

/** Section ids of the WASM core binary format. */
export const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const

// The order the spec requires of non-custom sections (tag sits between memory and global).
const SECTION_ORDER: readonly number[] = [
  SECTION.type, SECTION.import, SECTION.function, SECTION.table, SECTION.memory, SECTION.tag, SECTION.global,
  SECTION.export, SECTION.start, SECTION.element, SECTION.dataCount, SECTION.code, SECTION.data,
]

const MAGIC = [0x00, 0x61, 0x73, 0x6d] // "\0asm"
const CORE_VERSION = [0x01, 0x00, 0x00, 0x00]
/** The first version byte of a component binary (layer 1, version 0x0d). */
const COMPONENT_VERSION_BYTE = 0x0d
/** Magic and version: the module header the output copies. */
export const HEADER_BYTES = 8

export interface Section { id: number; body: Uint8Array }

/** Splits a core module into its sections, refusing anything that is not a core module. */
export function readSections(bytes: Uint8Array): Section[] {
  const r = new WasmReader(bytes)
  const magic = r.bytes(4)
  if (MAGIC.some((b, i) => magic[i] !== b)) r.fail('bad magic (a component? use kind "component")')
  const version = r.bytes(4)
  if (CORE_VERSION.some((b, i) => version[i] !== b)) {
    r.fail(version[0] === COMPONENT_VERSION_BYTE ? 'this is a component, not a core module' : 'unknown binary version')
  }
  const sections: Section[] = []
  while (!r.done) {
    const id = r.u8()
    const size = r.u32()
    sections.push({ id, body: r.bytes(size) })
  }
  return sections
}

/** Adds a section the module lacks where the spec's order puts it (custom sections are skipped over). */
export function insertSection(sections: Section[], id: number, body: Uint8Array): void {
  const rank = SECTION_ORDER.indexOf(id)
  const at = sections.findIndex((s) => s.id !== SECTION.custom && SECTION_ORDER.indexOf(s.id) > rank)
  sections.splice(at < 0 ? sections.length : at, 0, { id, body })
}

/** The module bytes: the original header, then each section as id, size, body. */
export function encodeModule(header: Uint8Array, sections: Section[]): Uint8Array {
  const w = new WasmWriter().bytes(header)
  for (const s of sections) w.u8(s.id).u32(s.body.length).bytes(s.body)
  return w.finish().slice()
}
