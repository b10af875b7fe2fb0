import { describe, expect, it } from 'vitest'

import { SignatureVerifier } from '../../../src/chain/signatureVerifier.ts'
import { sign, verify } from '../../../src/crypto/index.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { smallOrderRSignature } from '../../support/smallOrderR.ts'

describe('SignatureVerifier', () => {
  it('agrees with verify() on every record across worker threads, including bad ones at any position', async () => {
    const v = new SignatureVerifier({ workers: 2 })
    try {
      const keys = [testKey('sv-a'), testKey('sv-b'), testKey('sv-c')]
      const checks = Array.from({ length: 301 }, (_, i) => {
        const k = keys[i % 3]!
        const message = new Uint8Array(32).fill(i & 0xff)
        return { publicKey: k.publicKey, message, signature: sign(k.secretKey, message) }
      })
      for (const bad of [0, 100, 150, 300]) checks[bad]!.signature = checks[bad]!.signature.map((b, j) => (j === 5 ? b ^ 1 : b))
      checks[200]!.publicKey = new Uint8Array(31) // malformed input is a failed check, not a crash
      // A small-order R (valid for OpenSSL) is refused by this thread and by the workers alike.
      for (const at of [20, 250]) checks[at] = { message: checks[at]!.message, ...smallOrderRSignature(testKey('sv-r').secretKey, checks[at]!.message) }
      const got = await v.start(checks).finish()
      expect(got).toEqual(checks.map((c) => verify(c.publicKey, c.message, c.signature)))
      expect(got.filter((x) => !x)).toHaveLength(7)
      // Any split between the workers and this thread gives the same answer.
      for (const share of [0, 0.3, 1]) expect(await v.start(checks, share).finish()).toEqual(got)
    } finally {
      await v.close()
    }
  })
})
