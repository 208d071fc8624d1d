/**
 * Statistics of Nexmark benchmark runs (NEXMARK-SPEC.md §3): what a job records about its run and
 * the pure pieces the harness (bench/nexmark.ts) shares with it.
 *
 *   const stats = createRunStats({ prefix, query, startAt, steadyStart, steadyEnd, rate, config });
 *   const source = nexmark({ ..., observer: stats.observer });
 *   output.sink(statsSink(stats, { rowTime: (r) => r.dateTime, latencyTime: (r) => r.dateTime }));
 */
export { createRunStats, SAMPLE_EVERY_MS, type RowTiming, type RunStats, type RunStatsOptions } from "./run-stats.ts";
export { statsSink, type CheckpointMarker } from "./stats-sink.ts";
export type { StatsFile } from "./stats-file.ts";
export { canonical, canonicalFields, canonicalNumber, RowDigester } from "./canonical.ts";
export { BatchDigester, CHUNK_ROWS } from "./batch-digest.ts";
export { Fnv1a64, fnv1a64Hex } from "./fnv1a64.ts";
export { BUCKET_MS, BucketDigests, addDigests, bucketOf, mergeBuckets, type BucketJson, type BucketsJson } from "./bucket-digest.ts";
export {
  LatencyHistogram,
  bucketUpper,
  emptyLatency,
  mergeLatency,
  percentile,
  type LatencyJson,
} from "./latency-histogram.ts";
