import { createWriteStream, renameSync, rmSync } from 'node:fs'
import type { Writable } from 'node:stream'

import { getAssetDataHostsStream } from '../../client/actions/getAssetDataHosts.ts'
import { type GetAssetDataStream, getAssetDataStream } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { BlobError } from '../../storage/errors.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { loadKeyFile } from '../passphrase.ts'
import { parseHash, withClient } from './parseOptions.ts'
import { createProgressBar, isInteractive } from './progressBar.ts'

export interface GetResult {
  assetId: string
  out: string
  /** Bytes written to `out` (plaintext for a decrypted blob). */
  bytes: number
  /** Bytes the hosts store (ciphertext for a private blob). */
  storedBytes: number
  encrypted: boolean
  dataHash: string
  /** Read straight from the hosts (--direct), the manifest proven against a finalized block. */
  direct: boolean
  /**
   * Where the bytes came from: `hosts` (the default: the hosts' shard HTTP servers, the manifest
   * proven against a finalized block), `node` (--via-node, or the fallback when the hosts could
   * not give k good shards), `hosts+node` (the node took over mid-read), `libp2p` (--direct).
   */
  via: 'hosts' | 'node' | 'hosts+node' | 'libp2p'
}

async function write(stream: Writable, chunk: Uint8Array): Promise<void> {
  if (stream.write(chunk)) return
  await new Promise<void>((resolve, reject) => {
    // Both listeners go once either fires: a read yields thousands of chunks.
    const onDrain = (): void => {
      stream.off('error', onError)
      resolve()
    }
    const onError = (err: Error): void => {
      stream.off('drain', onDrain)
      reject(err)
    }
    stream.once('drain', onDrain)
    stream.once('error', onError)
  })
}

async function closeStream(stream: Writable): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject)
    stream.end(() => resolve())
  })
}

export const getCommand: Command = {
  name: 'get',
  summary: 'read a stored asset back from its hosts (decrypting a private blob with the owner\'s key)',
  usage: '<asset-id> [--out FILE] [--key FILE] [--passphrase-file FILE] [--via-node | --direct] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      out: { type: 'string' },
      key: { type: 'string' },
      'passphrase-file': { type: 'string' },
      // Through the node's GET /assets/<id> (the node reads the hosts), instead of the hosts' HTTP servers.
      'via-node': { type: 'boolean', default: false },
      // Straight from the hosts over libp2p (the client runs its own libp2p node); the node only proves the manifest and placement.
      direct: { type: 'boolean', default: false },
      rpc: { type: 'string', default: DEFAULT_RPC },
    })
    if (positionals.length !== 1) throw new CliError('USAGE', `give exactly one asset id\nusage: xsc get ${this.usage}`)
    if (values['via-node'] === true && values.direct === true) throw new CliError('USAGE', '--via-node and --direct are two different paths: give one')
    const id = parseHash(positionals[0]!, 'the asset id')
    const out = values.out ?? toHex(id)
    const key = values.key === undefined ? undefined : await loadKeyFile(values.key, { file: values['passphrase-file'] })
    const bar = createProgressBar({ label: 'get', enabled: isInteractive(ctx.json) })
    // Written beside the target and renamed only once every byte checked out: a failed read never leaves a file that looks complete.
    const part = `${out}.part`
    const result = await withClient(values.rpc, async (client) => {
      const params = { id, ...(key ? { key } : {}), onProgress: (n: number, total: number) => bar.update(n, total) }
      // --direct is loaded only when asked: it brings libp2p, which the other paths do not need.
      const open = async (): Promise<GetAssetDataStream & { via?: () => GetResult['via']; close?: () => Promise<void> }> => {
        if (values.direct === true) return (await import('../../client/actions/getAssetDataDirect.ts')).getAssetDataDirectStream(client, params)
        if (values['via-node'] === true) return getAssetDataStream(client, params)
        return getAssetDataHostsStream(client, params)
      }
      const asset = await open().catch((err: unknown) => {
        if (err instanceof Error && 'code' in err && err.code === 'UNKNOWN_ASSET') throw new CommandError('NOT_FOUND', `no asset ${toHex(id)} on this node`, 'check the id (xsc deploy printed it); a deleted or expired asset is gone', { asset: toHex(id) })
        throw err
      })
      const file = createWriteStream(part)
      let bytes = 0
      try {
        // A direct read stops its libp2p node when `data` ends; this covers an early exit.
        for await (const chunk of asset.data) {
          if (asset.encrypted() === true && key === undefined) {
            throw new CommandError('KEY_REQUIRED', `asset ${toHex(id)} is an encrypted blob`, 'pass --key FILE with the key of the account that deployed it', { asset: toHex(id) })
          }
          bytes += chunk.length
          await write(file, chunk)
        }
        await closeStream(file)
        renameSync(part, out)
      } catch (err) {
        file.destroy()
        rmSync(part, { force: true })
        if (err instanceof BlobError && err.code === 'AUTH_FAILED') throw new CommandError('DECRYPT_FAILED', `asset ${toHex(id)} did not decrypt: ${err.message}`, 'use the key of the account that deployed it', { asset: toHex(id) })
        if (err instanceof BlobError && (err.code === 'VERIFY_FAILED' || err.code === 'TRUNCATED')) throw new CommandError('VERIFY_FAILED', `asset ${toHex(id)}: ${err.message}`, 'a host or the node sent wrong bytes; retry (the node tries other hosts) or use another --rpc node', { asset: toHex(id) })
        throw err
      } finally {
        bar.done()
        await asset.close?.()
      }
      const via: GetResult['via'] = values.direct === true ? 'libp2p' : values['via-node'] === true ? 'node' : (asset.via?.() ?? 'hosts')
      const r: GetResult = { assetId: toHex(id), out, bytes, storedBytes: Number(asset.manifest.size), encrypted: asset.encrypted() === true, dataHash: toHex(asset.manifest.dataHash), direct: values.direct === true, via }
      return r
    })
    const from = { hosts: "from the hosts' HTTP servers", node: 'through the node', 'hosts+node': 'from the hosts, the node taking over', libp2p: 'directly from the hosts over libp2p' }[result.via]
    print(ctx, result, `wrote ${result.bytes} bytes to ${result.out}${result.encrypted ? ' (decrypted)' : ''}, verified against data hash ${result.dataHash} (read ${from})`)
  },
}
