import { describe, expect, it } from 'vitest'
import { ESLint } from 'eslint'

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
    expect(await ruleIds('src/state/probe.ts', "import { hash } from '../crypto/index.ts'\nimport { encode } from '../../blocks/codec.ts'\nexport const x = [hash, encode]")).toEqual([])
  })

  it('I/O layers may import anything', async () => {
    expect(await ruleIds('src/chain/probe.ts', "import { readFileSync } from 'node:fs'\nexport const x = [readFileSync, Date.now()]")).toEqual([])
  })
})
