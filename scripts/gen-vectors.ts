// Writes fixtures/vectors/chain.json. Run only for an intended format change, and say so in the commit.
import { writeFileSync } from 'node:fs'

import { buildChainVectors } from './vectors/buildChainVectors.ts'

writeFileSync('fixtures/vectors/chain.json', JSON.stringify(buildChainVectors(), null, 2) + '\n')
console.log('wrote fixtures/vectors/chain.json')
