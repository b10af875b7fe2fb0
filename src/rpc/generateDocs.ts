import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { RPC_CODE_DESCRIPTIONS, RPC_CODES, type RpcCodeName } from './errors.ts'
import { RpcEvent } from './formats.ts'
import { listMethods } from './methods.ts'
import type { JsonSchema } from './wire.ts'

/**
 * Generates the method list and the error-code table of docs/rpc.md from the method table and
 * the code table, between marker comments. `tsx src/rpc/generateDocs.ts` rewrites the file;
 * test/unit/rpc/docs.test.ts fails when the committed doc is stale.
 */
export const DOC_PATH = fileURLToPath(new URL('../../docs/rpc.md', import.meta.url))
export const BEGIN = '<!-- generated:begin (tsx src/rpc/generateDocs.ts) -->'
export const END = '<!-- generated:end -->'

/** A short human name for a wire schema. */
export function describeSchema(s: JsonSchema): string {
  if (Array.isArray(s.oneOf)) {
    const alts = s.oneOf as JsonSchema[]
    const nonNull = alts.filter((a) => a.type !== 'null')
    if (nonNull.length < alts.length && nonNull.length === 1) return `${describeSchema(nonNull[0]!)} \\| null`
    if (typeof s.title === 'string') return s.title
    return alts.map(describeSchema).join(' \\| ')
  }
  if (typeof s.title === 'string') return s.title
  switch (s.type) {
    case 'integer':
      return `integer ≤ ${String(s.maximum)}`
    case 'string': {
      if (Array.isArray(s.enum)) return (s.enum as string[]).map((e) => `"${e}"`).join(' \\| ')
      if (typeof s.description === 'string' && s.description.includes('decimal')) return s.description
      const p = typeof s.pattern === 'string' ? s.pattern : ''
      const exact = /\{(\d+)\}\$$/.exec(p)
      if (p.startsWith('^0x') && exact !== null) return `hex, ${Number(exact[1]) / 2} bytes`
      if (p.startsWith('^0x')) return typeof s.maxLength === 'number' ? `hex, ≤ ${(s.maxLength - 2) / 2} bytes` : 'hex'
      return 'string'
    }
    case 'array':
      return `${describeSchema(s.items as JsonSchema)}[]`
    default:
      return String(s.type ?? 'value')
  }
}

export function computeGeneratedSection(): string {
  const lines: string[] = [BEGIN, '', '## Methods', '']
  for (const m of listMethods()) {
    lines.push(`### \`${m.method}\``, '', m.summary, '')
    if (m.params.length > 0) {
      lines.push('| # | param | type | required | description |', '| - | - | - | - | - |')
      m.params.forEach((p, i) => {
        const optional = Array.isArray(p.wire.schema.oneOf) && (p.wire.schema.oneOf as JsonSchema[]).some((a) => a.type === 'null')
        lines.push(`| ${i} | \`${p.name}\` | ${describeSchema(p.wire.schema)} | ${optional ? 'no' : 'yes'} | ${p.description} |`)
      })
      lines.push('')
    } else lines.push('No params.', '')
    lines.push(`Result \`${m.result.name}\`: ${describeSchema(m.result.wire.schema)}. ${m.result.description}`, '')
  }
  lines.push('## Types', '')
  for (const [title, schema] of collectTypes()) {
    if (Array.isArray(schema.oneOf)) {
      lines.push(`### ${title}`, '', `One of: ${(schema.oneOf as JsonSchema[]).map((v) => `\`${String(v.title)}\``).join(', ')}. The \`type\` field says which.`, '')
      continue
    }
    lines.push(`### ${title}`, '', '| field | type |', '| - | - |')
    for (const [name, f] of Object.entries(schema.properties as Record<string, JsonSchema>)) lines.push(`| \`${name}\` | ${describeSchema(f)} |`)
    lines.push('')
  }
  lines.push('## Error codes', '', '| code | name (`data.reason`) | meaning |', '| - | - | - |')
  for (const [name, code] of Object.entries(RPC_CODES)) lines.push(`| ${code} | \`${name}\` | ${RPC_CODE_DESCRIPTIONS[name as RpcCodeName]} |`)
  lines.push('', END)
  return lines.join('\n')
}

/** Every titled object or union reachable from the table, in first-seen order. */
function collectTypes(): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>()
  const visit = (s: unknown): void => {
    if (typeof s !== 'object' || s === null) return
    const schema = s as JsonSchema
    if (typeof schema.title === 'string') {
      if (out.has(schema.title)) return
      out.set(schema.title, schema)
    }
    if (Array.isArray(schema.oneOf)) for (const a of schema.oneOf) visit(a)
    if (schema.items !== undefined) visit(schema.items)
    if (typeof schema.properties === 'object' && schema.properties !== null) for (const p of Object.values(schema.properties)) visit(p)
  }
  for (const m of listMethods()) {
    for (const p of m.params) visit(p.wire.schema)
    visit(m.result.wire.schema)
  }
  visit(RpcEvent.schema) // subscription notifications' `result`
  return out
}

/** The doc with its generated section replaced by the current one. */
export function computeUpdatedDoc(doc: string): string {
  const a = doc.indexOf(BEGIN)
  const b = doc.indexOf(END)
  if (a < 0 || b < a) throw new Error(`${DOC_PATH}: generated-section markers missing`)
  return doc.slice(0, a) + computeGeneratedSection() + doc.slice(b + END.length)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const doc = readFileSync(DOC_PATH, 'utf8')
  writeFileSync(DOC_PATH, computeUpdatedDoc(doc))
  console.log(`updated ${DOC_PATH}`)
}
