import { getBalance, getChainParams, getNonce } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { resolveAddress, withClient } from './parseOptions.ts'

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
  summary: 'balance and next nonce of an account',
  usage: '<0xADDRESS | --key FILE> [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, { key: { type: 'string' }, rpc: { type: 'string', default: DEFAULT_RPC } })
    const address = resolveAddress(positionals[0], values.key, `xsc balance ${this.usage}`)
    const r = await withClient(values.rpc, async (client) => {
      const [balance, nonce, chain] = await Promise.all([getBalance(client, { address }), getNonce(client, { address }), getChainParams(client)])
      return { address: toHex(address), balance, nonce, tokens: formatTokens(balance, chain.tokenDecimals), symbol: chain.tokenSymbol }
    })
    print(ctx, r, `${r.address}\nbalance ${r.balance} (${r.tokens} ${r.symbol})\nnonce   ${r.nonce}`)
  },
}
