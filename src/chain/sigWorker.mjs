// Signature-check worker: plain JS so it runs under any loader (tsx, vitest, plain node).
// Input: one buffer of N records [pub 32 | msg 32 | sig 64]; output: one byte per record.
import { parentPort } from 'node:worker_threads'
import { createPublicKey, verify } from 'node:crypto'

const SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const keys = new Map()

function keyOf(pub) {
  const id = pub.toString('latin1')
  let k = keys.get(id)
  if (k === undefined) {
    k = createPublicKey({ key: Buffer.concat([SPKI, pub]), format: 'der', type: 'spki' })
    if (keys.size > 65536) keys.clear()
    keys.set(id, k)
  }
  return k
}

parentPort.on('message', ({ id, buf }) => {
  const data = Buffer.from(buf)
  const n = data.length / 128
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const o = i * 128
    try {
      out[i] = verify(null, data.subarray(o + 32, o + 64), keyOf(data.subarray(o, o + 32)), data.subarray(o + 64, o + 128)) ? 1 : 0
    } catch {
      out[i] = 0
    }
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
