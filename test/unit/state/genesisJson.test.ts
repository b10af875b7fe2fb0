import { describe, expect, it } from 'vitest'

import { formatGenesisJson, parseGenesisJson } from '../../../src/state/genesisJson.ts'
import { testGenesis, testKey } from '../../support/chainFixtures.ts'

describe('genesis.json parameters', () => {
  const json = formatGenesisJson(testGenesis({ validators: [testKey('genesis-json-v0')] }))

  it('round-trips every chain parameter', () => {
    expect(parseGenesisJson(JSON.parse(JSON.stringify(json))).params).toEqual(testGenesis({ validators: [testKey('genesis-json-v0')] }).params)
  })

  it('refuses a file that lacks a parameter by name, instead of completing it from this build\'s defaults', () => {
    const { livenessEpochSlots: _dropped, ...older } = json.params
    expect(() => parseGenesisJson({ ...json, params: older })).toThrow(expect.objectContaining({ code: 'BAD_GENESIS', message: expect.stringContaining('params.livenessEpochSlots is missing') }))
  })

  it('refuses a parameter this build does not know', () => {
    expect(() => parseGenesisJson({ ...json, params: { ...json.params, blockGasLimit: 1 } })).toThrow(expect.objectContaining({ message: expect.stringContaining('params.blockGasLimit is not a chain parameter') }))
  })
})
