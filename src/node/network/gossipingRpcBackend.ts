import type { Hash, Offence, SignedTx } from '../../../blocks/schema.ts'
import { NodeRpcBackend, type NodeRpcBackendModules } from '../rpcBackend.ts'
import type { ValidatorNetwork } from '../validatorNetwork.ts'

/** The RPC backend of a networked node: submitted txs go through admit-and-gossip, and status tells peers and sync. */
export class GossipingRpcBackend extends NodeRpcBackend {
  readonly #network: ValidatorNetwork

  constructor(modules: NodeRpcBackendModules, network: ValidatorNetwork) {
    super({ peers: () => network.peerCount(), syncing: () => network.syncing, ...modules })
    this.#network = network
  }

  override async submitTx(tx: SignedTx): Promise<Hash> {
    return this.#network.admitAndGossip(tx)
  }

  override async submitEvidence(offence: Offence): Promise<boolean> {
    return this.#network.submitEvidence(offence)
  }
}
