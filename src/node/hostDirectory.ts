import type { Address } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { toHex } from '../crypto/index.ts'
import type { NetNode } from '../net/index.ts'
import { readRow, TABLES } from '../state/tables.ts'

/**
 * Finds a host on the network: its HostParams.peerId holds its full multiaddr
 * (/ip4/…/tcp/…/p2p/<peer id>), so any node can dial it without a DHT. Dials are cached.
 */
export class HostDirectory {
  readonly #chain: Chain
  readonly #net: NetNode
  readonly #peers = new Map<string, Promise<string>>()

  constructor(chain: Chain, net: NetNode) {
    this.#chain = chain
    this.#net = net
  }

  /** The libp2p peer id of `host`, dialing it first if needed. */
  async peerOf(host: Address): Promise<string> {
    const id = toHex(host)
    let p = this.#peers.get(id)
    if (p === undefined) {
      const record = readRow(this.#chain.store.state, TABLES.host.at(host))
      if (record === undefined) throw new Error(`unknown host ${id}`)
      const addr = record.params.peerId
      p = this.#net.dial(addr)
      this.#peers.set(id, p)
      p.catch(() => this.#peers.delete(id))
    }
    return p
  }
}
