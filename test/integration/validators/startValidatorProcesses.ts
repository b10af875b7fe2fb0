import { join } from 'node:path'

import { type Client, createClient, getChainStatus, http } from '../../../src/client/index.ts'
import type { KeyPair } from '../../../src/crypto/index.ts'
import { writeGenesisFile } from '../../../src/node/genesisFile.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { type NodeProcess, startNodeProcess } from '../../support/nodeProcess.ts'

/** A network of `xsc node` validator processes on 127.0.0.1, each with its own data dir, all bootstrapping from validator 0. */
export interface ValidatorProcesses {
  dir: string
  genesisPath: string
  keys: KeyPair[]
  nodes: (NodeProcess | undefined)[]
  clients: (Client | undefined)[]
  /** (Re)starts validator i, bootstrapping from the first running node that is not i. */
  start(i: number): Promise<NodeProcess>
  /** SIGKILLs validator i. */
  kill(i: number): Promise<void>
  close(): Promise<void>
}

export async function startValidatorProcesses(opts: { name: string; validators: number; slotMs: number; funded: KeyPair[]; env?: Record<string, string>; envOf?: (i: number) => Record<string, string> }): Promise<ValidatorProcesses> {
  const tmp = tempDir(`xsc-${opts.name}-`)
  const keys = Array.from({ length: opts.validators }, (_, i) => testKey(`${opts.name}-validator-${i}`))
  // Genesis a little in the future so every process is up before slot 1.
  const genesis = testGenesis({ validators: keys, funded: opts.funded.map((key) => ({ key, amount: 1_000_000_000n })), slotMs: opts.slotMs, genesisTime: BigInt(Date.now()) })
  const genesisPath = join(tmp.dir, 'genesis.json')
  writeGenesisFile(genesisPath, genesis)
  keys.forEach((k, i) => writeKeyFile(join(tmp.dir, `validator-${i}.json`), k))
  const nodes: (NodeProcess | undefined)[] = keys.map(() => undefined)
  const clients: (Client | undefined)[] = keys.map(() => undefined)
  const args = (i: number, bootstrap: string[]): string[] => [
    '--data', join(tmp.dir, `data-${i}`),
    '--genesis', genesisPath,
    '--key', join(tmp.dir, `validator-${i}.json`),
    '--rpc', '127.0.0.1:0',
    ...bootstrap.flatMap((b) => ['--bootstrap', b]),
  ]
  const net: ValidatorProcesses = {
    dir: tmp.dir,
    genesisPath,
    keys,
    nodes,
    clients,
    async start(i) {
      const peer = nodes.find((n, j) => n !== undefined && j !== i)
      const node = await startNodeProcess(args(i, peer ? [peer.p2p[0]!] : []), { ...opts.env, ...opts.envOf?.(i) })
      nodes[i] = node
      clients[i] = createClient({ transport: http(node.rpc) })
      return node
    },
    async kill(i) {
      await clients[i]?.close()
      clients[i] = undefined
      await nodes[i]?.kill()
      nodes[i] = undefined
    },
    async close() {
      await Promise.all(clients.map((c) => c?.close()))
      await Promise.all(nodes.map((n) => n?.stop()))
      tmp.cleanup()
    },
  }
  try {
    await net.start(0)
    await Promise.all(keys.slice(1).map((_, i) => net.start(i + 1)))
  } catch (e) {
    await net.close()
    throw e
  }
  return net
}

/** Head and finalized heights of every running node. */
export async function statuses(net: ValidatorProcesses): Promise<{ i: number; head: number; headHash: string; finalized: number; peers: number }[]> {
  const out = []
  for (let i = 0; i < net.clients.length; i++) {
    const c = net.clients[i]
    if (!c) continue
    const s = await getChainStatus(c)
    out.push({ i, head: s.head.height, headHash: Buffer.from(s.head.hash).toString('hex'), finalized: s.finalized.height, peers: s.peers })
  }
  return out
}
