/**
 * The one signature verifier and signer (src/crypto/ed25519.ts, libsodium) against node:crypto
 * (OpenSSL 3 with cached KeyObjects, the verifier before session 16), alternated round by round
 * in one process over the same 64 keys and 150-byte messages (a transfer's signing bytes are
 * ~130). Medians of the rounds' per-call µs; the ratio is ours / node:crypto (goal: < 1, the
 * reason for the choice).
 *
 *   npm run bench:signatures [-- --rounds 9 --calls 3000]
 *
 * Last line: one JSON object.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { parseArgs } from 'node:util'

import { generateKeyPair, sign, verify } from '../../src/crypto/index.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, calls: { type: 'string', default: '3000' } } })
const ROUNDS = Number(values.rounds)
const CALLS = Number(values.calls)

const keys = Array.from({ length: 64 }, () => generateKeyPair())
const messages = keys.map((_, i) => new Uint8Array(150).fill(i))
const signatures = keys.map((k, i) => sign(k.secretKey, messages[i]!))
const publicObjects = keys.map((k) => createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), k.publicKey]), format: 'der', type: 'spki' }))
const secretObjects = keys.map((k) => createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), k.secretKey]), format: 'der', type: 'pkcs8' }))

/** µs per call of `f` over CALLS calls cycling through the 64 keys. */
function perCallUs(f: (i: number) => void): number {
  const start = process.hrtime.bigint()
  for (let n = 0; n < CALLS; n++) f(n & 63)
  return Number(process.hrtime.bigint() - start) / CALLS / 1000
}

const arms = {
  verify: (i: number) => {
    if (!verify(keys[i]!.publicKey, messages[i]!, signatures[i]!)) throw new Error('verify failed')
  },
  verifyNodeCrypto: (i: number) => {
    if (!nodeVerify(null, messages[i]!, publicObjects[i]!, signatures[i]!)) throw new Error('node:crypto verify failed')
  },
  sign: (i: number) => void sign(keys[i]!.secretKey, messages[i]!),
  signNodeCrypto: (i: number) => void nodeSign(null, messages[i]!, secretObjects[i]!),
}
type Arm = keyof typeof arms
const samples: Record<Arm, number[]> = { verify: [], verifyNodeCrypto: [], sign: [], signNodeCrypto: [] }
for (const arm of Object.keys(arms) as Arm[]) perCallUs(arms[arm]) // warm-up
for (let r = 0; r < ROUNDS; r++) {
  const order = (r % 2 === 0 ? ['verify', 'verifyNodeCrypto', 'sign', 'signNodeCrypto'] : ['verifyNodeCrypto', 'verify', 'signNodeCrypto', 'sign']) as Arm[]
  for (const arm of order) samples[arm].push(perCallUs(arms[arm]))
}
const m = (arm: Arm) => round(median(samples[arm]), 1)
console.log(JSON.stringify({
  rounds: ROUNDS,
  callsPerRound: CALLS,
  verifyUs: m('verify'),
  verifyUsNodeCrypto: m('verifyNodeCrypto'),
  verifyRatio: round(median(samples.verify.map((x, i) => x / samples.verifyNodeCrypto[i]!)), 2),
  signUs: m('sign'),
  signUsNodeCrypto: m('signNodeCrypto'),
  signRatio: round(median(samples.sign.map((x, i) => x / samples.signNodeCrypto[i]!)), 2),
}))
