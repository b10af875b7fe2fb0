import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

// The import-direction rule is part of `npm test` (npm run lint); this proves it bites.
const eslint = new ESLint({ cwd: process.cwd() })

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return result!.messages.map((m) => m.ruleId ?? m.message)
}

describe('pure core import rule', () => {
  for (const dir of ['blocks', 'consensus', 'src/state', 'src/router']) {
    it(`${dir}/ may not import I/O, the I/O layers, clocks or randomness`, async () => {
      expect(await ruleIds(`${dir}/probe.ts`, "import { readFileSync } from 'node:fs'\nexport const x = readFileSync")).toContain('no-restricted-imports')
      expect(await ruleIds(`${dir}/probe.ts`, "import { ClassicLevel } from 'classic-level'\nexport const x = ClassicLevel")).toContain('no-restricted-imports')
      expect(await ruleIds(`${dir}/probe.ts`, "import { createLibp2p } from 'libp2p'\nexport const x = createLibp2p")).toContain('no-restricted-imports')
      expect(await ruleIds(`${dir}/probe.ts`, "export const t = Date.now()")).toContain('no-restricted-properties')
      expect(await ruleIds(`${dir}/probe.ts`, "export const r = Math.random()")).toContain('no-restricted-properties')
      expect(await ruleIds(`${dir}/probe.ts`, "export const h = setTimeout(() => 1, 1)")).toContain('no-restricted-globals')
    })
  }

  it('the pure core may import src/crypto and itself', async () => {
    expect(await ruleIds('src/state/probe.ts', "import { encode } from '../../blocks/codec.ts'\nimport { hash } from '../crypto/index.ts'\nexport const x = [hash, encode]")).toEqual([])
  })

  it('I/O layers may import anything', async () => {
    expect(await ruleIds('src/chain/probe.ts', "import { readFileSync } from 'node:fs'\nexport const x = [readFileSync, Date.now()]")).toEqual([])
  })
})

describe('import rules', () => {
  it('one import statement per module (a type-only import may stand apart)', async () => {
    const twice = "import { a } from './m.ts'\nimport { b } from './m.ts'\nexport const x = [a, b]"
    expect(await ruleIds('src/chain/probe.ts', twice)).toContain('no-duplicate-imports')
    const typeApart = "import type { A } from './m.ts'\nimport { b } from './m.ts'\nexport const x: A = b"
    expect(await ruleIds('src/chain/probe.ts', typeApart)).not.toContain('no-duplicate-imports')
  })

  it('imports stand in one order', async () => {
    const unsorted = "import { b } from './b.ts'\nimport { a } from './a.ts'\nexport const x = [a, b]"
    expect(await ruleIds('src/chain/probe.ts', unsorted)).toContain('simple-import-sort/imports')
    const sorted = "import { a } from './a.ts'\nimport { b } from './b.ts'\nexport const x = [a, b]"
    expect(await ruleIds('src/chain/probe.ts', sorted)).toEqual([])
  })
})
