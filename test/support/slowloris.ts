import { connect } from 'node:net'

/**
 * Plays slowloris against a server on 127.0.0.1:`port`: sends `head` (an unfinished request) and then one more header
 * byte every 100 ms, so an idle timeout alone never fires. Resolves with the milliseconds until the server ended the
 * connection (its FIN or a reset), or `giveUpMs` if it never did.
 */
export function slowlorisClosedAfter(port: number, head: string, giveUpMs = 5_000): Promise<number> {
  const t = performance.now()
  return new Promise<number>((resolve) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(head))
    const trickle = setInterval(() => sock.write('a'), 100)
    const done = (): void => {
      clearInterval(trickle)
      resolve(performance.now() - t)
    }
    // Read, so the server's FIN is seen as it comes (after its 400, if it sends one).
    sock.resume()
    sock.on('end', done)
    sock.on('close', done)
    sock.on('error', () => undefined)
    setTimeout(() => sock.destroy(), giveUpMs)
  })
}
