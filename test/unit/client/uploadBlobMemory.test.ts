import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { uploadBlob } from '../../../src/client/actions/uploadBlob.ts'
import { createClient, http } from '../../../src/client/index.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'

/**
 * A streamed upload (what `xsc deploy` sends for a file) holds a few chunks, not the blob: this
 * process's peak RSS grows by far less than the bytes sent. (fetch with a ReadableStream body
 * held the whole upload: +270 MiB for 256 MiB.) The receiving server runs in its own process so
 * its buffers are not counted here.
 */
const MIB = 1 << 20
const SENT_MIB = 192
const BOUND_MIB = 64

let server: ChildProcess
let url: string

beforeAll(async () => {
  const code = `const s = require('node:http').createServer((req, res) => { let n = 0; req.on('data', (d) => (n += d.length)); req.on('end', () => res.end(JSON.stringify({ dataHash: '0x' + '00'.repeat(32), size: n }))) }); s.listen(0, '127.0.0.1', () => console.log(s.address().port))`
  server = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<string>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())))
  url = `http://127.0.0.1:${port}`
})

afterAll(() => {
  server?.kill()
})

const peakRssMiB = (): number => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024
const rssMiB = (): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024

describe('uploadBlob streams a large body with bounded memory', () => {
  it(`${SENT_MIB} MiB sent, peak RSS grows by less than ${BOUND_MIB} MiB`, async () => {
    const chunk = new Uint8Array(MIB).fill(7)
    let sentChunks = 0
    const bytes = {
      size: SENT_MIB * MIB,
      async *open(): AsyncGenerator<Uint8Array> {
        // A fresh buffer per chunk, as a file read gives: a sender that keeps them grows by the blob.
        for (let i = 0; i < SENT_MIB; i++, sentChunks++) yield chunk.slice()
      },
    }
    const client = createClient({ transport: http(url) })
    writeFileSync('/proc/self/clear_refs', '5')
    const before = rssMiB()
    const r = await uploadBlob(client, { bytes, dataHash: new Uint8Array(32), account: generateKeyPair(), chainId: 'memory-test' })
    const grown = peakRssMiB() - before
    expect(r.size).toBe(SENT_MIB * MIB)
    expect(sentChunks).toBe(SENT_MIB)
    expect(grown).toBeLessThan(BOUND_MIB)
    await client.close()
  }, 60_000)
})
