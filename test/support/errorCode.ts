/**
 * The code of the `type` error (an XscError class) that `f` throws (undefined when it returns): one helper for the tests that
 * assert which error a rule raises. Anything not of `type` comes back as a string that no code
 * equals, so the assertion fails and shows what was thrown.
 */
export function errorCodeOf(type: abstract new (...args: never) => { code: string }, f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    return e instanceof type ? e.code : `not a ${type.name}: ${String(e)}`
  }
  return undefined
}
