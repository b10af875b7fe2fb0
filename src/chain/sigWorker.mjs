// Signature-check worker: plain JS so it runs under any loader (tsx, vitest, plain node).
// Input: one buffer of N records [pub 32 | msg 32 | sig 64]; output: one byte per record.
// The same check as src/crypto/ed25519.ts `verify` (libsodium's rules): a batch gets one verdict
// per signature whichever thread checks it.
import { parentPort } from 'node:worker_threads'
import sodium from 'sodium-native'

parentPort.on('message', ({ id, buf }) => {
  const data = Buffer.from(buf)
  const n = data.length / 128
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const o = i * 128
    out[i] = sodium.crypto_sign_verify_detached(data.subarray(o + 64, o + 128), data.subarray(o + 32, o + 64), data.subarray(o, o + 32)) ? 1 : 0
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
