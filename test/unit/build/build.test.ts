// bin/build.mjs, the compiled build bin/xsc.js runs: an edited source is always rebuilt before it
// runs, and only complete builds are ever used. Runs on a small repository in a temporary directory.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from 'vitest'

import { BUILD_DIR, ensureBuild, sourceStamp } from '../../../bin/build.mjs'

let root: string
const write = (path: string, text: string): void => {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), text)
}
/** Runs the compiled main of `dir` on plain node and returns what it printed. */
const run = (dir: string): string => {
  const r = spawnSync(process.execPath, [join(dir, 'src/cli/main.js')], { encoding: 'utf8' })
  expect(r.stderr).toBe('')
  return r.stdout.trim()
}
const builds = (): string[] => readdirSync(join(root, BUILD_DIR)).sort()

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'xsc-build-test-'))
  write('package.json', '{ "type": "module" }')
  write('tsconfig.json', '{ "compilerOptions": { "target": "ES2022", "verbatimModuleSyntax": true } }')
  write('src/value.ts', 'export const value: number = 1\n')
  write('src/worker.ts', 'export {}\n')
  write('src/static/page.txt', 'asset')
  write('src/cli/main.ts', [
    "import { existsSync } from 'node:fs'",
    "import { fileURLToPath } from 'node:url'",
    "import { value } from '../value.ts'",
    "const worker = new URL('../worker.ts', import.meta.url)",
    "const page = new URL('../static/page.txt', import.meta.url)",
    'console.log(value, worker.pathname.endsWith(\'/worker.js\') && existsSync(fileURLToPath(worker)), existsSync(fileURLToPath(page)))',
  ].join('\n'))
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

describe('the compiled build', () => {
  test('runs the sources with their imports, workers and files; a second start reuses it', async () => {
    const dir = await ensureBuild({ root })
    expect(run(dir)).toBe('1 true true')
    expect(await ensureBuild({ root })).toBe(dir)
    expect(builds()).toEqual([dir.slice(dir.lastIndexOf('/') + 1)])
  })

  test('an edited source is compiled again before the next start runs it (same size, new mtime)', async () => {
    const first = await ensureBuild({ root })
    write('src/value.ts', 'export const value: number = 2\n')
    const later = new Date(Date.now() + 2000)
    utimesSync(join(root, 'src/value.ts'), later, later)
    const second = await ensureBuild({ root })
    expect(second).not.toBe(first)
    expect(run(second)).toBe('2 true true')
    // A new file counts too.
    write('src/extra.ts', 'export {}\n')
    expect(await ensureBuild({ root })).not.toBe(second)
  })

  test('a build that fails leaves nothing that could be run, and a leftover temporary copy is never used', async () => {
    write('src/value.ts', 'export const value: number = (\n')
    await expect(ensureBuild({ root })).rejects.toThrow()
    expect(builds()).toEqual([])
    write('src/value.ts', 'export const value: number = 3\n')
    // What a build that died mid-way leaves behind: a temporary directory, never a <stamp> one.
    write(`${BUILD_DIR}/tmp-dead/src/cli/main.js`, 'console.log("stale")')
    const dir = await ensureBuild({ root })
    expect(run(dir)).toBe('3 true true')
  })

  test('starts at once build once: all get the same complete build, no lock or temporary directory stays', async () => {
    const dirs = await Promise.all([1, 2, 3, 4].map(() => ensureBuild({ root })))
    expect(new Set(dirs).size).toBe(1)
    expect(builds()).toEqual([dirs[0]!.slice(dirs[0]!.lastIndexOf('/') + 1)])
    expect(existsSync(join(dirs[0]!, 'src/cli/main.js'))).toBe(true)
  })

  test('a lock left by a build that was killed does not hold up the next start', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!
    write(`${BUILD_DIR}/lock-${sourceStamp(root)}/pid`, String(dead))
    const t0 = Date.now()
    const dir = await ensureBuild({ root })
    expect(Date.now() - t0).toBeLessThan(30_000) // a live holder is waited for up to 60 s
    expect(run(dir)).toBe('1 true true')
    expect(builds()).toEqual([dir.slice(dir.lastIndexOf('/') + 1)])
  })
})
