/**
 * The statistics file every Nexmark benchmark run writes, on both systems (NEXMARK-SPEC.md §3):
 * one `<prefix>.<unique>.json` per process (or worker), merged by the harness.
 */
import type { BucketsJson } from "./bucket-digest.ts";
import type { LatencyJson } from "./latency-histogram.ts";

export interface StatsFile {
  readonly system: "weir" | "flink";
  readonly query: string;
  /** Epoch ms of the first event emitted (min over splits); null if none was. */
  readonly firstEventAtMs: number | null;
  /** [epoch ms, source events emitted so far in this process], every 100 ms from startAt to the end. */
  readonly samples: readonly (readonly [number, number])[];
  /** Per split k: the first generator count it did not emit. */
  readonly splitsEnd: Readonly<Record<string, number>>;
  readonly buckets: BucketsJson;
  readonly latencyUs: LatencyJson;
  /** Every completed checkpoint with its completion time. */
  readonly checkpoints: readonly { readonly id: number; readonly completedAtMs: number }[];
  readonly outputRows: number;
}
