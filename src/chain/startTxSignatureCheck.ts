import { txId, txSigningHash } from '../../blocks/ids.ts'
import type { BlockEntry, SignedTx } from '../../blocks/schema.ts'
import { toHex } from '../crypto/index.ts'
import { StateError } from '../state/errors.ts'
import type { Mempool } from './mempool.ts'
import type { SignatureVerifier } from './signatureVerifier.ts'

/**
 * Starts checking every tx signature of a block across all cores; `finish` throws naming the
 * first bad one. A tx this node's mempool admitted, or whose signature it verified before
 * (admission that failed on state, an earlier proposal), was checked then; its id covers body
 * and signature, so the same bytes need no second check (one verify per tx per node).
 * `checked` is how many signatures this call verifies.
 */
export function startTxSignatureCheck(verifier: SignatureVerifier, mempool: Mempool, entries: readonly BlockEntry[]): { checked: number; finish(): Promise<void> } {
  const unchecked: { tx: SignedTx; index: number; id: string }[] = []
  let index = 0
  for (const e of entries) {
    if (!('tx' in e)) continue
    const id = toHex(txId(e.tx))
    if (!mempool.hasHex(id) && !mempool.isSignatureVerified(id)) unchecked.push({ tx: e.tx, index, id })
    index++
  }
  const job = verifier.start(unchecked.map(({ tx }) => ({ publicKey: tx.body.from, message: txSigningHash(tx.body), signature: tx.signature })))
  return {
    checked: unchecked.length,
    finish: async () => {
      const ok = await job.finish()
      const bad = unchecked[ok.indexOf(false)]
      if (bad !== undefined) throw new StateError('BAD_SIGNATURE', `tx ${bad.index} of the block has a bad signature`, { index: bad.index, from: toHex(bad.tx.body.from) })
      for (const { id } of unchecked) mempool.rememberSignatureVerified(id)
    },
  }
}
