import { getBalance, getChainParams, getNonce, getVerifiedAccount } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { parseCount, resolveAddress, withClient } from './parseOptions.ts'

/** Base units as a decimal token amount ("1.5" for 1500000000 with 9 decimals), exact. */
export function formatTokens(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString()
  const s = amount.toString().padStart(decimals + 1, '0')
  const whole = s.slice(0, -decimals)
  const frac = s.slice(-decimals).replace(/0+$/, '')
  return frac === '' ? whole : `${whole}.${frac}`
}

export const balanceCommand: Command = {
  name: 'balance',
  summary: 'balance and next nonce of an account (--verify: proven against a block header\'s state root)',
  usage: '<0xADDRESS | --key FILE> [--verify] [--height N] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      key: { type: 'string' },
      rpc: { type: 'string', default: DEFAULT_RPC },
      verify: { type: 'boolean', default: false },
      height: { type: 'string' },
    })
    const address = resolveAddress(positionals[0], values.key, `xsc balance ${this.usage}`)
    if (values.verify || values.height !== undefined) {
      const height = values.height === undefined ? undefined : parseCount(values.height, '--height', 0xffff_ffff)
      const r = await withClient(values.rpc, async (client) => {
        const [proven, chain] = await Promise.all([getVerifiedAccount(client, height === undefined ? { address } : { address, height }), getChainParams(client)])
        const { balance, nonce } = proven.account
        return { address: toHex(address), balance, nonce, tokens: formatTokens(balance, chain.tokenDecimals), symbol: chain.tokenSymbol, verified: { height: proven.header.height, blockHash: toHex(proven.blockHash), stateRoot: toHex(proven.header.stateRoot) } }
      })
      const v = r.verified
      print(ctx, r, `${r.address}\nbalance ${r.balance} (${r.tokens} ${r.symbol})\nnonce   ${r.nonce} (committed)\nproven  at height ${v.height}, block ${v.blockHash}, state root ${v.stateRoot}`)
      return
    }
    const r = await withClient(values.rpc, async (client) => {
      const [balance, nonce, chain] = await Promise.all([getBalance(client, { address }), getNonce(client, { address }), getChainParams(client)])
      return { address: toHex(address), balance, nonce, tokens: formatTokens(balance, chain.tokenDecimals), symbol: chain.tokenSymbol }
    })
    print(ctx, r, `${r.address}\nbalance ${r.balance} (${r.tokens} ${r.symbol})\nnonce   ${r.nonce}`)
  },
}
