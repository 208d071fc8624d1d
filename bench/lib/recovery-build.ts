/**
 * Whether a checkpoint of bench/recovery-job.ts holds the whole state: its source positions show
 * that every split is past its first round, i.e. every key has its blob (see the job's doc).
 */
import { keysOfSplit } from "../recovery-job.ts";

/**
 * `bySource`: the checkpoint's source positions, by source operator (the job has one) and split id
 * (`split-<k>`, the next index).
 */
export const stateBuilt = (bySource: Readonly<Record<string, Readonly<Record<string, unknown>>>>, keys: number, splits: number): boolean => {
  const sources = Object.values(bySource);
  if (sources.length > 1) throw new Error(`expected one source, found ${Object.keys(bySource).join(", ")}`);
  const positions = sources[0];
  if (positions === undefined) return false;
  const seen = new Set<number>();
  for (const [id, position] of Object.entries(positions)) {
    const split = Number(/^split-(\d+)$/.exec(id)?.[1] ?? NaN);
    if (!Number.isInteger(split) || split >= splits) throw new Error(`unexpected split '${id}' (${splits} splits)`);
    if (typeof position !== "number" || position < keysOfSplit(keys, splits, split)) return false;
    seen.add(split);
  }
  return seen.size === Math.min(splits, keys);
};
