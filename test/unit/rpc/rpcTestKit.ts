import type { Address, Hash, Manifest } from '../../../blocks/schema.ts'
import { type Client, createClient, http } from '../../../src/client/index.ts'
import { generateKeyPair, hash, type KeyPair, utf8 } from '../../../src/crypto/index.ts'
import type { AssetInfo, ExecutionInfo, HostInfo } from '../../../src/rpc/backend.ts'
import { type RpcServer, type RpcServerOpts, startRpcServer } from '../../../src/rpc/server.ts'
import { MemoryBackend } from './memoryBackend.ts'

/** A running RPC server on 127.0.0.1 over a MemoryBackend with two funded accounts. */
export interface Kit { server: RpcServer; backend: MemoryBackend; alice: KeyPair; bob: KeyPair }

export async function startKit(opts: Partial<RpcServerOpts> = {}): Promise<Kit> {
  const alice = generateKeyPair()
  const bob = generateKeyPair()
  const backend = new MemoryBackend({ allocations: [{ address: alice.publicKey, balance: 1_000_000_000_000_000_000_000n }, { address: bob.publicKey, balance: 5n }] })
  const server = await startRpcServer({ ...opts }, { backend })
  return { server, backend, alice, bob }
}

/** A kit and a typed client on it; `close` stops both. */
export async function startKitWithClient(opts: Partial<RpcServerOpts> = {}): Promise<{ kit: Kit; client: Client; close: () => Promise<void> }> {
  const kit = await startKit(opts)
  const client = createClient({ transport: http(kit.server.url) })
  return { kit, client, close: async () => { await client.close(); await kit.server.close() } }
}

export async function rpcPost(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) }
}

export function sampleManifest(data: Uint8Array): Manifest {
  return {
    size: BigInt(data.length),
    dataHash: hash(data),
    k: 4,
    m: 2,
    segmentSize: 1 << 20,
    shardSize: 1024n,
    chunkSize: 256,
    shardHashes: Array.from({ length: 6 }, (_, i) => hash(new Uint8Array([i]))),
    chunkRoots: Array.from({ length: 6 }, (_, i) => hash(new Uint8Array([i, 1]))),
  }
}

export function sampleHost(address: Address = generateKeyPair().publicKey): HostInfo {
  return {
    address,
    record: {
      params: { coord: { x: 1, y: 2, z: 3 }, zone: 'eu-1', capacityBytes: 1n << 40n, capabilities: 3, askPerFuel: 2n, askPerByteEpoch: 1n, peerId: '12D3KooWtest', memoryBytes: 16n << 20n, encryptionKey: undefined },
      reputation: 5000,
      status: 0,
      usedBytes: 123n,
      joinedHeight: 1,
      failedAudits: 0, bond: 0n, passedChecks: 0,
    },
    events: [{ height: 1, cause: 0, before: 5000, after: 5100, subject: hash(utf8('audit')) }],
  }
}

export function sampleAsset(owner: Address, hosts: Address[]): AssetInfo {
  const data = utf8('hello asset')
  const id = hash(utf8('deploy tx'))
  return {
    id,
    record: {
      owner,
      kind: 1,
      manifest: sampleManifest(data),
      placement: hosts,
      shardFailures: hosts.map(() => 0),
      deposit: 10n ** 30n,
      bidPerByteEpoch: 3n,
      createdHeight: 1,
      status: 0,
      exhaustedEpoch: undefined, zones: [],
      rentEpoch: undefined, acked: [], ackDeadline: undefined,
    },
    shards: hosts.map((host, index) => ({ index, host, failures: 0, lastAuditHeight: index === 0 ? undefined : 7, healthy: true })),
  }
}

export function sampleExecution(client: Address, asset: Hash, hosts: Address[], completed: boolean): ExecutionInfo {
  const id = hash(utf8(`execute ${completed}`))
  return {
    id,
    record: {
      client,
      asset,
      fn: 'run',
      input: utf8('input'),
      fuelLimit: 1_000_000n,
      bidPerFuel: 2n,
      replicas: 2,
      quorum: 2,
      private: false,
      assignment: hosts,
      escrow: 2_000_000n,
      startSlot: 3,
      deadlineSlot: 13,
      status: completed ? 1 : 0,
      origin: { x: 0, y: 0, z: 0 },
      seq: 0n,
      agreed: undefined,
    },
    scheduled: { height: 1, hash: hash(utf8('b1')) },
    completion: completed
      ? {
          block: { height: 2, hash: hash(utf8('b2')) },
          entry: {
            type: 'completion',
            executionId: id,
            status: 0,
            outcome: 0,
            resultHash: hash(utf8('out')),
            fuelUsed: 4242n,
            output: utf8('out'),
            writeSet: [{ key: utf8('k'), value: utf8('v') }, { key: utf8('gone'), value: undefined }],
            receipts: [],
            payouts: hosts.map((to) => ({ to, amount: 4242n })),
            refund: 100n,
            burn: 1n,
            reputation: [],
          },
        }
      : undefined,
  }
}
