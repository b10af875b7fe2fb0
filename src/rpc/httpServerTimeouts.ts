/**
 * How often a node:http server checks its connections against `headersTimeout` (and `requestTimeout`). node:http
 * enforces those deadlines only at these checks, every 30 s by default, so a slowloris sender would get up to 30 s more
 * than the deadline. Every second, or half the deadline when that is shorter (at least 100 ms).
 */
export function computeConnectionsCheckingInterval(headersTimeoutMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(headersTimeoutMs / 2)))
}
