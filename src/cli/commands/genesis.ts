import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

import type { GenesisConfig } from '../../../blocks/schema.ts'
import { computeValidatorBeaconCommitment } from '../../../consensus/beacon.ts'
import { fromHex, generateKeyPair, toHex } from '../../crypto/index.ts'
import { writeGenesisFile } from '../../node/genesisFile.ts'
import { writeKeyFile } from '../../node/keyFile.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../state/genesisJson.ts'
import { type Command, parseCommandArgs, print } from '../args.ts'
import { CliError } from '../errors.ts'

export const genesisCommand: Command = {
  name: 'genesis',
  summary: 'write a genesis.json with generated validator keys',
  usage: 'init [--out genesis.json] [--keys-dir keys] [--validators 1] [--chain-id xsc-local] [--slot-ms 1000] [--schemes stake,time,work,space] [--fund 0xADDR=AMOUNT ...]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      out: { type: 'string', default: 'genesis.json' },
      'keys-dir': { type: 'string', default: 'keys' },
      validators: { type: 'string', default: '1' },
      'chain-id': { type: 'string', default: 'xsc-local' },
      'slot-ms': { type: 'string', default: '1000' },
      schemes: { type: 'string', default: DEFAULT_CONSENSUS.schemes.join(',') },
      fund: { type: 'string', multiple: true, default: [] },
      'genesis-time': { type: 'string' },
    })
    if (positionals[0] !== 'init') throw new CliError('USAGE', `usage: xsc genesis ${this.usage}`)
    const n = Number(values.validators)
    if (!Number.isInteger(n) || n < 1 || n > 100) throw new CliError('USAGE', '--validators must be 1..100')
    mkdirSync(values['keys-dir'], { recursive: true })
    const validators = Array.from({ length: n }, (_, i) => {
      const key = generateKeyPair()
      const file = join(values['keys-dir'], `validator-${i}.json`)
      writeKeyFile(file, key)
      return { key, file }
    })
    const allocations = values.fund.map((f) => {
      const [addr, amount] = f.split('=')
      if (!addr || !amount || !/^[0-9]+$/.test(amount)) throw new CliError('USAGE', `--fund takes 0xADDRESS=AMOUNT, got "${f}"`)
      return { to: fromHex(addr, 32), amount: BigInt(amount) }
    })
    // Each validator also gets a balance so it can pay fees.
    for (const v of validators) allocations.push({ to: v.key.publicKey, amount: 1_000_000_000n })
    const genesis: GenesisConfig = {
      chainId: values['chain-id'],
      genesisTime: BigInt(values['genesis-time'] ?? Date.now()),
      slotMs: Number(values['slot-ms']),
      tokenSymbol: 'XSC',
      tokenDecimals: 9,
      allocations,
      validators: validators.map((v) => ({ address: v.key.publicKey, stake: 1_000_000n, peerId: '', beaconCommitment: computeValidatorBeaconCommitment(v.key.secretKey, 0, DEFAULT_PARAMS.beaconChainLength) })),
      consensus: { ...DEFAULT_CONSENSUS, schemes: values.schemes.split(',') },
      params: DEFAULT_PARAMS,
    }
    writeGenesisFile(values.out, genesis)
    print(ctx, { genesis: values.out, validators: validators.map((v) => ({ address: toHex(v.key.publicKey), key: v.file })) },
      `genesis written to ${values.out}\n` + validators.map((v) => `validator ${toHex(v.key.publicKey)}  key ${v.file}`).join('\n'))
  },
}
