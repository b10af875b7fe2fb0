import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

import type { StaticFile, StaticRoute } from '../rpc/server.ts'

/**
 * The block explorer's files, served by every node on its RPC port. The table is built once at
 * start from the files in ./static (hand-written ES modules, no build step) and an allow-list of
 * three.js module files from node_modules; a request path is looked up exactly, as sent (never
 * decoded, never joined to a directory), so `..` in any spelling cannot leave the table.
 */
const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static')

/** URL → file inside the `three` package: the only vendor files served. */
const VENDOR_FILES: Record<string, string> = {
  '/vendor/three.module.js': 'build/three.module.js',
  '/vendor/three.core.js': 'build/three.core.js',
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
}

/** The page may talk only to the node that served it: no CDN, no fonts, no inline script. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

function toStaticFile(body: Buffer, ext: string, cacheControl: string): StaticFile {
  const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`
  const headers: Record<string, string> = ext === '.html' ? { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' } : {}
  return { body, contentType: CONTENT_TYPES[ext]!, etag, cacheControl, headers }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    return statSync(full).isDirectory() ? listFiles(full) : [full]
  })
}

function findThreeDir(): string | undefined {
  try {
    // The package's CommonJS entry is build/three.cjs: its package root is one level up.
    return dirname(dirname(createRequire(import.meta.url).resolve('three')))
  } catch {
    return undefined
  }
}

/** Builds the explorer's route table. Pages revalidate by ETag (no fingerprinted names without a build); three.js is cached for a day. */
export function createExplorerRoute(): StaticRoute {
  const table = new Map<string, StaticFile>()
  for (const file of listFiles(STATIC_DIR)) {
    const ext = extname(file)
    if (CONTENT_TYPES[ext] === undefined) continue
    const url = '/' + relative(STATIC_DIR, file).split(sep).join('/')
    table.set(url, toStaticFile(readFileSync(file), ext, 'no-cache'))
  }
  const index = table.get('/index.html')
  if (index !== undefined) table.set('/', index)
  const three = findThreeDir()
  for (const [url, path] of Object.entries(VENDOR_FILES)) {
    const full = three && join(three, path)
    if (full && existsSync(full)) table.set(url, toStaticFile(readFileSync(full), '.js', 'public, max-age=86400'))
  }
  return (path) => table.get(path)
}
