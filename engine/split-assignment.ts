/**
 * Which source subtask reads which split, and where a split starts. Deterministic: every subtask
 * (and every run at the same parallelism) computes the same assignment from the split ids alone.
 */
import type { Source, SplitDiscovery } from "../connectors/source.ts";

/**
 * The splits subtask `subtask` of `parallelism` reads: with split discovery, those the source's
 * owner function gives it (the same function decides discovered splits); otherwise split `k` in
 * sorted order goes to subtask `k mod parallelism`.
 */
export const assignSplits = (
  splits: readonly string[],
  subtask: number,
  parallelism: number,
  discovery?: Pick<SplitDiscovery<unknown>, "owner">,
): string[] =>
  discovery === undefined
    ? [...splits].sort().filter((_, k) => k % parallelism === subtask)
    : [...splits].sort().filter((s) => discovery.owner(s, parallelism) === subtask);

/**
 * Start positions of `splits`: the restored ones where the checkpoint has them. A restored run of
 * a source with discovery starts a split the checkpoint does not know at the source's new-split
 * position (it appeared after the job first started, as Flink's Kafka source treats it), not at
 * the source's configured start.
 */
export const startPositions = (
  source: Source<unknown, unknown>,
  splits: readonly string[],
  restored: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> => {
  const positions: Record<string, unknown> = { ...restored };
  const discovery = source.discovery;
  if (restored === undefined || discovery === undefined) return positions;
  for (const split of splits) if (!(split in restored)) positions[split] = discovery.newSplitPosition(split);
  return positions;
};

/**
 * Splits a checkpoint holds positions of that the source no longer lists (sorted). The runtime
 * refuses such a restore: their unread records would be silently lost, or, if the source renamed
 * its splits (e.g. the Nexmark source's `p<P>-<k>` after a change of split count), read again
 * from the start under the new names.
 */
export const unlistedSplits = (listed: readonly string[], restored: Readonly<Record<string, unknown>> | undefined): string[] => {
  if (restored === undefined) return [];
  const known = new Set(listed);
  return Object.keys(restored)
    .filter((s) => !known.has(s))
    .sort();
};
