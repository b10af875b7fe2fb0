/** A benchmark that cannot produce its figures: the message says why, no stack trace needed. */
export class BenchError extends Error {
  override name = 'BenchError'
}
