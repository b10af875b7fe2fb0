import { readdirSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type Client, createClient, getChainStatus, http, RpcClientError, uploadBlob } from '../../../src/client/index.ts'
import { generateKeyPair, hash, toHex } from '../../../src/crypto/index.ts'
import { writeGenesisFile } from '../../../src/node/genesisFile.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { type NodeProcess, startNodeProcess } from '../../support/nodeProcess.ts'

/**
 * A blob flood against a real `xsc node` process: unsigned uploads and uploads signed by fresh
 * (unfunded) keys are refused before anything is stored; a funded account stops at its quota
 * (4 × maxModuleBytes of uploads no deployment names), and the node keeps serving.
 */
const validator = testKey('flood-validator')
const funded = testKey('flood-funded')
const MAX_MODULE = 64 * 1024
const tmp = tempDir('xsc-blob-flood-')
let node: NodeProcess
let client: Client

beforeAll(async () => {
  const base = testGenesis({ validators: [validator], funded: [{ key: funded, amount: 10n ** 12n }], schemes: ['stake'], slotMs: 500, genesisTime: BigInt(Date.now()) })
  const genesisPath = join(tmp.dir, 'genesis.json')
  writeGenesisFile(genesisPath, { ...base, params: { ...base.params, maxModuleBytes: MAX_MODULE } })
  writeKeyFile(join(tmp.dir, 'validator.json'), validator)
  node = await startNodeProcess(['--data', join(tmp.dir, 'data'), '--key', join(tmp.dir, 'validator.json'), '--genesis', genesisPath, '--rpc', '127.0.0.1:0'])
  client = createClient({ transport: http(node.rpc) })
}, 120_000)

afterAll(async () => {
  await client?.close()
  await node?.stop()
  tmp.cleanup()
})

const blobFiles = (): string[] => readdirSync(join(tmp.dir, 'data', 'blobs')).filter((f) => !f.endsWith('.tmp'))

describe('blob flood', () => {
  it('unsigned and unfunded uploads are refused and nothing is stored', async () => {
    const bytes = new Uint8Array(MAX_MODULE).fill(7)
    const unsigned = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${node.rpc}/blob`, { method: 'PUT', body: bytes })).status))
    expect(unsigned.every((s) => s === 401)).toBe(true)
    const reasons = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const err = await uploadBlob(client, { bytes: bytes.map((b) => b ^ i), account: generateKeyPair() }).catch((e: unknown) => e)
      return err instanceof RpcClientError && err.code === 'BLOB_UNAUTHORIZED' ? `${err.code}/${String(err.details.data.reason)}` : String(err)
    }))
    expect(new Set(reasons)).toEqual(new Set(['BLOB_UNAUTHORIZED/BLOB_ACCOUNT_UNFUNDED']))
    expect(blobFiles()).toEqual([])
  }, 60_000)

  it('a funded account is stopped at its quota; the node keeps serving', async () => {
    const accepted: string[] = []
    let refusal: unknown
    for (let i = 0; i < 6 && refusal === undefined; i++) {
      const bytes = new Uint8Array(MAX_MODULE).fill(i + 1)
      try {
        accepted.push(toHex((await uploadBlob(client, { bytes, account: funded })).dataHash))
      } catch (err) {
        refusal = err
      }
    }
    expect(accepted).toHaveLength(4)
    expect(accepted[0]).toBe(toHex(hash(new Uint8Array(MAX_MODULE).fill(1))))
    expect(refusal).toBeInstanceOf(RpcClientError)
    expect((refusal as RpcClientError).code).toBe('BLOB_QUOTA_EXCEEDED')
    expect(blobFiles().filter((f) => !f.endsWith('.meta'))).toHaveLength(4)
    expect((await getChainStatus(client)).chainId).toBe('xsc-test')
  }, 60_000)
})
