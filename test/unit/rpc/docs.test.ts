import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { RPC_CODES } from '../../../src/rpc/errors.ts'
import { computeUpdatedDoc, DOC_PATH } from '../../../src/rpc/generateDocs.ts'
import { listMethods } from '../../../src/rpc/methods.ts'

describe('docs/rpc.md', () => {
  const doc = readFileSync(DOC_PATH, 'utf8')

  it('is up to date with the method table and the error codes (run `tsx src/rpc/generateDocs.ts`)', () => {
    expect(doc).toBe(computeUpdatedDoc(doc))
  })

  it('lists every method and every error code', () => {
    for (const m of listMethods()) expect(doc).toContain(`### \`${m.method}\``)
    for (const [name, code] of Object.entries(RPC_CODES)) expect(doc).toContain(`| ${code} | \`${name}\` |`)
  })
})
