// Compiles the TypeScript of blocks/, consensus/ and src/ to JavaScript for `bin/xsc.js`, so a node
// process starts on plain Node instead of through tsx's loader hooks (docs/devnet.md, Known
// problems 5). Plain JS so that it runs before anything is compiled.
//
// - Output: .build/<stamp>/{blocks,consensus,src}/…, one .js (+ .js.map) per .ts, same layout, so
//   import.meta.url-relative files (explorer static files, sigWorker.mjs, the gf256 wasm) are
//   copied beside them and node_modules resolves from the repository root as before.
// - The stamp is a hash of every source file's path, size and mtime (and of this file,
//   tsconfig.json and the esbuild version): an edited source has a new stamp, so the next start
//   builds again (~0.3 s) and never runs old code.
// - A build is written to a temporary directory and renamed into place: a half-written build is
//   never used, and processes building at once each rename a complete copy (the first wins).
// - `node bin/build.mjs` (npm run build) builds now; `ensureBuild()` is what bin/xsc.js calls.
import { createHash, randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const SELF = fileURLToPath(import.meta.url)
/** The repository root. */
export const ROOT = dirname(dirname(SELF))
/** Builds, under the root: <stamp>/ (complete), tmp-* (being written), lock-<stamp>/ (a process is building). */
export const BUILD_DIR = '.build'
const SOURCE_DIRS = ['blocks', 'consensus', 'src']
/** Files besides the sources whose change changes the output (this file's too). */
const INPUTS = ['tsconfig.json']
/** `new URL('<relative path>.ts', import.meta.url)`: a module loaded at run time by its URL. */
const WORKER_URL = /(?<=new URL\()(['"])(\.\.?\/[^'"]+)\.ts\1(?=, import\.meta\.url\))/g
/** A build no process has started from for this long is removed by the next build. */
const UNUSED_MS = 24 * 3600_000
/** A temporary directory this old was left by a build that died. */
const STALE_TMP_MS = 10 * 60_000
/** How long a process waits for another that is building the same sources. */
const LOCK_WAIT_MS = 60_000

/** Every file under the source directories, relative to root, sorted. */
function sourceFiles(root) {
  const out = []
  for (const dir of SOURCE_DIRS) {
    if (!existsSync(join(root, dir))) continue
    for (const e of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (e.isFile()) out.push(relative(root, join(e.parentPath ?? e.path, e.name)))
    }
  }
  return out.sort()
}

/** Hash of what the build depends on: cheap (stat only, ~350 files). */
export function sourceStamp(root = ROOT, files = sourceFiles(root)) {
  const h = createHash('sha256')
  const esbuildVersion = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('esbuild/package.json'), 'utf8')).version
  h.update(`node ${process.versions.node.split('.')[0]} esbuild ${esbuildVersion}\n`)
  for (const f of [SELF, ...INPUTS, ...files]) {
    const s = statSync(resolve(root, f))
    h.update(`${f === SELF ? 'bin/build.mjs' : f} ${s.size} ${s.mtimeMs}\n`)
  }
  return h.digest('hex').slice(0, 16)
}

/** Compiles the sources into a temporary directory, renames it to .build/<stamp> and returns that. */
async function compile(root, files, stamp) {
  const { build } = await import('esbuild')
  const tmp = join(root, BUILD_DIR, `tmp-${stamp}-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    await build({
      absWorkingDir: root,
      entryPoints: files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
      outdir: tmp,
      outbase: '.',
      // bundle only so that the plugin sees every import: each file stays its own module.
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      sourcesContent: false,
      tsconfig: join(root, 'tsconfig.json'),
      logLevel: 'silent',
      plugins: [{
        name: 'relative-imports-external',
        setup(b) {
          // Our own imports stay imports, of the compiled file (what tsc's rewriteRelativeImportExtensions does).
          b.onResolve({ filter: /^\.\.?\// }, (a) => a.kind === 'entry-point' ? undefined : { path: a.path.replace(/\.ts$/, '.js'), external: true })
          // So do files named for a worker: new URL('./computeWorker.ts', import.meta.url).
          b.onLoad({ filter: /\.ts$/ }, (a) => ({ contents: readFileSync(a.path, 'utf8').replace(WORKER_URL, '$1$2.js$1'), loader: 'ts' }))
        },
      }],
    })
    for (const f of files) {
      if (f.endsWith('.ts')) continue
      mkdirSync(join(tmp, dirname(f)), { recursive: true })
      copyFileSync(join(root, f), join(tmp, f))
    }
    const out = join(root, BUILD_DIR, stamp)
    try {
      renameSync(tmp, out)
    } catch (e) {
      // Another process renamed the same build first: use theirs.
      if (!existsSync(join(out, 'src', 'cli', 'main.js'))) throw e
      rmSync(tmp, { recursive: true, force: true })
    }
    return out
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
}

/** Removes builds unused for a day, and the temporary directories and locks of builds that died. */
function prune(buildRoot, keep) {
  const now = Date.now()
  for (const name of readdirSync(buildRoot)) {
    if (name === keep) continue
    const p = join(buildRoot, name)
    try {
      const age = now - statSync(p).mtimeMs
      if (age > (/^(tmp|lock)-/.test(name) ? STALE_TMP_MS : UNUSED_MS)) rmSync(p, { recursive: true, force: true })
    } catch {
      // removed by another process meanwhile
    }
  }
}

/** Whether the process that took `lock` still runs (a killed build leaves its lock behind). */
function holderAlive(lock) {
  let pid
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'))
  } catch {
    // Taken but its pid not written yet, or released meanwhile.
    try {
      return Date.now() - statSync(lock).mtimeMs < 5_000
    } catch {
      return false
    }
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return e?.code === 'EPERM'
  }
}

/** Waits for the process holding `lock` to rename its build to `dir`; undefined if it failed or died. */
async function awaitOtherBuild(dir, lock) {
  for (const until = Date.now() + LOCK_WAIT_MS; Date.now() < until; await sleep(25)) {
    if (existsSync(dir)) return dir
    if (!existsSync(lock)) return existsSync(dir) ? dir : undefined // released: built, or failed
    if (!holderAlive(lock)) {
      rmSync(lock, { recursive: true, force: true })
      return undefined
    }
  }
  return undefined
}

/**
 * The directory of a build of the current sources, compiling one when there is none. Processes
 * starting at once (a test network, the devnet) build once: the others wait for the first.
 * Throws when it cannot build (bin/xsc.js then runs the sources through tsx).
 */
export async function ensureBuild({ root = ROOT } = {}) {
  const files = sourceFiles(root)
  const stamp = sourceStamp(root, files)
  const buildRoot = join(root, BUILD_DIR)
  const dir = join(buildRoot, stamp)
  if (existsSync(dir)) {
    // Marks the build as in use (prune keeps it); a read-only checkout still runs it.
    try {
      const now = new Date()
      utimesSync(dir, now, now)
    } catch {
      // not ours to touch
    }
    return dir
  }
  mkdirSync(buildRoot, { recursive: true })
  const lock = join(buildRoot, `lock-${stamp}`)
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(process.pid))
      break
    } catch (e) {
      if (e?.code !== 'EEXIST') throw e
      const theirs = await awaitOtherBuild(dir, lock)
      if (theirs !== undefined) return theirs
      // Theirs failed or died: take the lock and build (after a few tries, without the lock:
      // the rename still keeps builds whole).
      if (attempt === 2) return compile(root, files, stamp)
    }
  }
  try {
    const out = await compile(root, files, stamp)
    prune(buildRoot, stamp)
    return out
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = performance.now()
  const dir = await ensureBuild()
  console.log(`${relative(ROOT, dir).split(sep).join('/')} (${Math.round(performance.now() - t)} ms)`)
}
