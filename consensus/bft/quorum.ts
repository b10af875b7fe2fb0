/**
 * Stake thresholds, in bigint. "More than 2/3" is 3·stake > 2·total: exactly 2/3 is not a
 * quorum. Any two quorums overlap in more than 1/3 of the stake, hence in at least one honest
 * validator while the Byzantine stake is below 1/3: the root of the safety argument.
 */
export function isQuorum(stake: bigint, totalStake: bigint): boolean {
  return totalStake > 0n && 3n * stake > 2n * totalStake
}

/** More than 1/3: at least one honest validator is among these (round skipping, rule 55). */
export function isMoreThanOneThird(stake: bigint, totalStake: bigint): boolean {
  return totalStake > 0n && 3n * stake > totalStake
}
