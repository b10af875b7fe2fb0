/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `cond` every `pollMs` until it holds; throws naming `what` after `ms`. */
export async function waitUntil(cond: () => boolean, ms: number, what: string, pollMs = 5): Promise<void> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timeout waiting for ${what}`)
    await sleep(pollMs)
  }
}
