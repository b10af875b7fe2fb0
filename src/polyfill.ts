// libp2p's dependencies (it-queue and others) call Promise.withResolvers, a Node 22 API.
// Loaded before libp2p in every entry point and in vitest's setupFiles.
interface WithResolvers {
  withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void }
}
const P = Promise as unknown as WithResolvers
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function <T>() {
    let resolve!: (v: T) => void
    let reject!: (e: unknown) => void
    const promise = new Promise<T>((a, b) => {
      resolve = a
      reject = b
    })
    return { promise, resolve, reject }
  }
}
export {}
