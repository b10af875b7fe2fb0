import { describe, expect, test } from 'vitest'

import { computeInstrumentVectors, readInstrumentVectors } from './instrumentVectors.ts'

// The instrumented bytes are consensus: every host must meter a module identically, so any
// change to them (fuel figures, trap points) must be deliberate and regenerate the vectors.
describe('instrumentation golden vectors', () => {
  const want = readInstrumentVectors()
  const got = computeInstrumentVectors()

  test('every fixture module and component core module instruments to the recorded bytes or refusal', () => {
    expect(Object.keys(got.modules).length).toBeGreaterThanOrEqual(25)
    expect(got.modules).toEqual(want.modules)
  })

  test('seeded damage to each fixture gives the recorded outcomes', () => {
    expect(got.mutants).toEqual(want.mutants)
  })

  test('a probe of every opcode and 0xfc sub-opcode gives the recorded outcomes', () => {
    expect(Object.keys(got.opcodes)).toHaveLength(256 + 20)
    expect(got.opcodes).toEqual(want.opcodes)
  })
})
