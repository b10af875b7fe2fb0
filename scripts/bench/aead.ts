/**
 * The node's ChaCha20-Poly1305 (src/net/aead.ts: libsodium below SODIUM_AEAD_BELOW_BYTES,
 * node:crypto above) against what sealed frames and noise used before session 16: the
 * WebAssembly cipher below 512 (sealed frames) or 1,200 bytes (noise) and node:crypto above.
 * Seal and open per message size, the arms alternated round by round in one process; medians of
 * the rounds' per-message µs. The ratio is ours / before (goal: ≤ 1 at every size).
 *
 *   npx tsx scripts/bench/aead.ts [-- --rounds 7]
 *
 * Last line: one JSON object: `{ sizes: { <bytes>: { oursUs, beforeUs, ratio } } }`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'

import { ChaCha20Poly1305, newInstance } from '@chainsafe/as-chacha20poly1305'

import { AEAD_TAG_BYTES, open, sealInto } from '../../src/net/aead.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' } } })
const ROUNDS = Number(values.rounds)
const SIZES = [150, 600, 4096, 16_384, 65_519]
const NOISE_WASM_BELOW = 1200
const wasm = new ChaCha20Poly1305(newInstance())
const key = randomBytes(32)
const nonce = randomBytes(12)
const aad = randomBytes(4)

function before(plaintext: Uint8Array): void {
  let sealed: Uint8Array
  if (plaintext.length < NOISE_WASM_BELOW) sealed = wasm.seal(key, nonce, plaintext, aad)
  else {
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    c.setAAD(aad, { plaintextLength: plaintext.length })
    const body = c.update(plaintext)
    c.final()
    sealed = Buffer.concat([body, c.getAuthTag()])
  }
  const length = sealed.length - 16
  if (length < NOISE_WASM_BELOW) {
    if (wasm.open(key, nonce, sealed, aad) === null) throw new Error('does not open')
    return
  }
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
  d.setAAD(aad, { plaintextLength: length })
  d.setAuthTag(sealed.subarray(length))
  d.update(sealed.subarray(0, length))
  d.final()
}

function ours(plaintext: Uint8Array): void {
  const sealed = new Uint8Array(plaintext.length + AEAD_TAG_BYTES)
  sealInto(key, nonce, aad, plaintext, sealed)
  if (open(key, nonce, aad, sealed) === undefined) throw new Error('does not open')
}

const result: Record<number, { oursUs: number; beforeUs: number; ratio: number }> = {}
for (const size of SIZES) {
  const plaintext = randomBytes(size)
  const calls = Math.max(200, Math.floor(4_000_000 / size))
  const time = (f: (p: Uint8Array) => void): number => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) f(plaintext)
    return Number(process.hrtime.bigint() - start) / calls / 1000
  }
  time(ours)
  time(before)
  const a: number[] = []
  const b: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) a.push(time(ours)), b.push(time(before))
    else b.push(time(before)), a.push(time(ours))
  }
  result[size] = { oursUs: round(median(a), 2), beforeUs: round(median(b), 2), ratio: round(median(a.map((x, i) => x / b[i]!)), 2) }
}
console.log(JSON.stringify({ rounds: ROUNDS, sodiumBelowBytes: 16_384, sizes: result }))
