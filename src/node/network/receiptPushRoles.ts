import type { Chain } from '../../chain/chain.ts'
import { toHex } from '../../crypto/index.ts'
import type { NetNode } from '../../net/index.ts'
import type { Logger } from '../logger.ts'
import type { StorageCoordinator } from '../storageCoordinator.ts'
import { EarlyReceipts } from './earlyReceipts.ts'
import { PUSH_REJECT_PENALTY, ReceiptPushClient, ReceiptPushServer } from './receiptPush.ts'

interface PushRoleModules {
  net: NetNode
  log: Logger
  chain: Chain
}

/**
 * A validator's side of the receipt push: batches hosts push are judged as gossiped ones
 * (`acceptReceipts`) and relayed nowhere; a receipt for an execution not imported yet is held
 * for the next blocks (earlyReceipts.ts), and one that then proves invalid scores its pusher.
 */
export async function startReceiptPushServer(m: PushRoleModules & { coordinator: StorageCoordinator; validatorKey: { publicKey: Uint8Array; secretKey: Uint8Array } }): Promise<ReceiptPushServer> {
  const { net, chain, coordinator } = m
  const early = new EarlyReceipts((msg) => chain.submitReceipt(msg.receipt, msg.writeSet), (peer) => net.penalize(peer, PUSH_REJECT_PENALTY, 'invalid pushed receipt'))
  chain.on('block', ({ block }) => early.onBlock(block.header.height))
  const server = new ReceiptPushServer({ net, log: m.log, chainId: chain.genesis.chainId, validatorKey: m.validatorKey, accept: (bytes, from) => coordinator.acceptReceipts(bytes, (msg) => early.add(msg, from, chain.head.height)) })
  await server.start()
  return server
}

/** A host's side: one push stream to each validator of the set it is connected to (each proves its key in the stream's hello). */
export function receiptPushClient(m: PushRoleModules & { self?: Uint8Array | undefined }): ReceiptPushClient {
  const { net, chain } = m
  return new ReceiptPushClient({
    net,
    log: m.log,
    chainId: chain.genesis.chainId,
    validators: () => chain.validatorAddressesHex(),
    // Validators (on the vote topic) we are connected to.
    candidates: () => net.topicPeers('consensus'),
    ...(m.self !== undefined ? { self: toHex(m.self) } : {}),
  })
}
