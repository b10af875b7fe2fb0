import { createClient, getChainStatus, http } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { DEFAULT_RPC, parseCommandArgs, print, type Command } from '../args.ts'

export const statusCommand: Command = {
  name: 'status',
  summary: 'chain head, finality, peers',
  usage: '[--rpc URL]',
  async run(ctx) {
    const { values } = parseCommandArgs(this, ctx.argv, { rpc: { type: 'string', default: DEFAULT_RPC } })
    const client = createClient({ transport: http(values.rpc) })
    try {
      const s = await getChainStatus(client)
      print(ctx, s, `chain     ${s.chainId}\nhead      ${s.head.height} ${toHex(s.head.hash)}\nfinalized ${s.finalized.height} ${toHex(s.finalized.hash)}\npeers     ${s.peers}${s.syncing ? '\nsyncing' : ''}`)
    } finally {
      await client.close()
    }
  },
}
