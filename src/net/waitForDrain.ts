import type { Stream } from '@libp2p/interface'

import { NetError } from './errors.ts'

/**
 * Resolves once `stream` can take more bytes (its `writableNeedsDrain` is cleared by a 'drain'),
 * rejects if it closes first.
 *
 * Not `stream.onDrain()`: in @libp2p/utils 7.4 it keeps its first promise forever (it is
 * resolved on the first drain and never replaced), so every later call returns at once and a
 * sender never waits again: a GiB shard piled up in the stream's write buffer (session 7's 4 GiB
 * run: validator at 1.6 GiB while handing shards off).
 */
export async function waitForDrain(stream: Stream): Promise<void> {
  while (stream.writableNeedsDrain) {
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        stream.removeEventListener('drain', onDrain)
        stream.removeEventListener('close', onClose)
      }
      const onDrain = (): void => {
        cleanup()
        resolve()
      }
      const onClose = (evt: { error?: Error }): void => {
        cleanup()
        reject(evt.error ?? new NetError('STREAM_FAILED', 'stream closed while waiting to send'))
      }
      stream.addEventListener('drain', onDrain)
      stream.addEventListener('close', onClose)
    })
  }
}
