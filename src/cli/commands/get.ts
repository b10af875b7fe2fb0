import { createWriteStream, renameSync, rmSync } from 'node:fs'
import type { Writable } from 'node:stream'

import { getAssetDataStream } from '../../client/index.ts'
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
  usage: '<asset-id> [--out FILE] [--key FILE] [--passphrase-file FILE] [--direct] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      out: { type: 'string' },
      key: { type: 'string' },
      'passphrase-file': { type: 'string' },
      // Straight from the hosts over libp2p; the node only proves the manifest and placement.
      direct: { type: 'boolean', default: false },
      rpc: { type: 'string', default: DEFAULT_RPC },
    })
    if (positionals.length !== 1) throw new CliError('USAGE', `give exactly one asset id\nusage: xsc get ${this.usage}`)
    const id = parseHash(positionals[0]!, 'the asset id')
    const out = values.out ?? toHex(id)
    const key = values.key === undefined ? undefined : await loadKeyFile(values.key, { file: values['passphrase-file'] })
    const bar = createProgressBar({ label: 'get', enabled: isInteractive(ctx.json) })
    // Written beside the target and renamed only once every byte checked out: a failed read never leaves a file that looks complete.
    const part = `${out}.part`
    const result = await withClient(values.rpc, async (client) => {
      const params = { id, ...(key ? { key } : {}), onProgress: (n: number, total: number) => bar.update(n, total) }
      // Loaded only for --direct: it brings libp2p, which a read through the node does not need.
      const direct = values.direct === true ? (await import('../../client/actions/getAssetDataDirect.ts')).getAssetDataDirectStream : undefined
      const asset = await (direct !== undefined ? direct(client, params) : getAssetDataStream(client, params)).catch((err: unknown) => {
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
        if ('close' in asset && typeof asset.close === 'function') await (asset.close as () => Promise<void>)()
      }
      const r: GetResult = { assetId: toHex(id), out, bytes, storedBytes: Number(asset.manifest.size), encrypted: asset.encrypted() === true, dataHash: toHex(asset.manifest.dataHash), direct: values.direct === true }
      return r
    })
    print(ctx, result, `wrote ${result.bytes} bytes to ${result.out}${result.encrypted ? ' (decrypted)' : ''}, verified against data hash ${result.dataHash}${result.direct ? ' (read directly from the hosts)' : ''}`)
  },
}
