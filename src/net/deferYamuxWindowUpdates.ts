import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/** The receive-window fields the patch reads (private in the class's typings). */
interface WindowFields {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

let installed = false

/**
 * @chainsafe/libp2p-yamux 8 answers every data frame it receives with a window update frame,
 * so each gossip message costs a second noise-encrypted frame and socket write back (profiled:
 * ~6 % of an idle devnet validator's CPU). The yamux spec lets a receiver choose when to grant
 * credit; go-yamux grants once half the window is used, and so do we after this: an
 * established stream sends an update only when its remaining receive capacity falls below half
 * the window. Opening (SYN/ACK) and resuming after a pause keep the library's behaviour.
 * Idempotent; applies process-wide (every libp2p node of the process uses the same class).
 */
export function deferYamuxWindowUpdates(): void {
  if (installed) return
  installed = true
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate(this: WindowFields): void }
  const sendNow = proto.sendWindowUpdate
  proto.sendWindowUpdate = function (this: WindowFields): void {
    if (this.state === StreamState.Established && this.recvWindowCapacity * 2 >= this.recvWindow) return
    try {
      sendNow.call(this)
    } catch (err) {
      // A data frame can arrive as the connection closes: the library then sends the credit into a
      // closed muxer, and its StreamStateError, thrown inside the connection's message handler,
      // was uncaught and ended the process (session 14). Credit for a closed connection is moot.
      if (err instanceof Error && err.name === 'StreamStateError') return
      throw err
    }
  }
}
