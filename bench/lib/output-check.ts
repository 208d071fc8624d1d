/**
 * The output check (NEXMARK-SPEC §4): every run of a query must have produced the same rows as
 * every other run of that query, on any system or column, where both are complete.
 *
 * A run's comparable horizon is H = ts(min over splits of splitsEnd), the event time of the first
 * count some split did not emit: every split emitted every event before H. Bucket b (rows with row
 * time in [base + 10 s·b, base + 10 s·(b+1))) is comparable if base + 10 s·(b+1) <= H − margin.
 * Two runs must agree, count and digest, on every bucket comparable in both.
 *
 * Margin: the contract says 20 s; the harness uses 2 s by default (`--check-margin`), because a
 * bucket's rows are complete once the input before its end is: a window result's row time lies
 * in its window (q5, qhc: end − 1, q7: the bid's time, q8: the start), so every window of bucket
 * b ends by base + 10 s·(b+1); stateless rows need only their own event; a q3 row needs the
 * seller, at most 10 persons (50 ms of event time) later. With 20 s, runs shorter than ~60 s of event time
 * (slow queries on a slow machine, every low-rate latency run) could never pass the coverage rule.
 *
 * Coverage: for two throughput runs the common range must cover at least half of the events the
 * shorter one emitted, else the comparison proves too little and fails too. A latency run (a
 * fixed, low rate) may span little event time: it must agree wherever it is comparable, and one
 * with no comparable bucket at all is reported as unchecked (never silently: the summary, the
 * log and the README list it).
 */
import { eventTimestamp, firstCountAtOrAfter, type NexmarkConfig } from "../../connectors/nexmark/index.ts";
import { BUCKET_MS, type BucketJson, type BucketsJson } from "../../connectors/nexmark/stats/index.ts";

export const DEFAULT_MARGIN_MS = 2_000;
export const DEFAULT_MIN_COVERAGE = 0.5;

export interface CheckedRun {
  /** Names the run in messages, e.g. "weir q5 rep 2". */
  readonly label: string;
  readonly splitsEnd: Readonly<Record<string, number>>;
  readonly buckets: BucketsJson;
  /** Latency runs need not cover half of the other run's events (see above). */
  readonly kind?: "throughput" | "latency";
}

export interface CheckOptions {
  readonly config: Pick<NexmarkConfig, "baseTime" | "firstEventRate" | "numEventGenerators">;
  readonly marginMs?: number;
  readonly minCoverage?: number;
}

/** Events a run emitted: split k of P emitted counts k, k + P, ... below splitsEnd[k]. */
export const emittedEvents = (splitsEnd: Readonly<Record<string, number>>): number => {
  const splits = Object.keys(splitsEnd).length;
  let n = 0;
  for (const [k, end] of Object.entries(splitsEnd)) n += Math.max(0, Math.ceil((end - Number(k)) / splits));
  return n;
};

/** H: the event time of the first count some split did not emit. */
export const comparableHorizon = (splitsEnd: Readonly<Record<string, number>>, options: CheckOptions): number => {
  const ends = Object.values(splitsEnd);
  if (ends.length === 0) throw new Error("a run without splits has no horizon");
  return eventTimestamp(Math.min(...ends), options.config as NexmarkConfig);
};

/** The last comparable bucket (-1: none). */
export const lastComparableBucket = (splitsEnd: Readonly<Record<string, number>>, options: CheckOptions): number => {
  const h = comparableHorizon(splitsEnd, options);
  return Math.max(-1, Math.floor((h - (options.marginMs ?? DEFAULT_MARGIN_MS) - options.config.baseTime) / BUCKET_MS) - 1);
};

const NONE: BucketJson = { count: 0, digest: "0000000000000000" };

export type Comparison =
  | { readonly kind: "equal"; readonly buckets: number; readonly coveredEvents: number }
  | { readonly kind: "differ"; readonly bucket: number; readonly a: BucketJson; readonly b: BucketJson }
  | { readonly kind: "too-short"; readonly coveredEvents: number; readonly shorterEmitted: number };

export const compareRuns = (a: CheckedRun, b: CheckedRun, options: CheckOptions): Comparison => {
  const last = Math.min(lastComparableBucket(a.splitsEnd, options), lastComparableBucket(b.splitsEnd, options));
  const keys = new Set([...Object.keys(a.buckets), ...Object.keys(b.buckets)].map(Number).filter((k) => k <= last));
  for (let k = 0; k <= last; k++) keys.add(k);
  for (const k of [...keys].sort((x, y) => x - y)) {
    const x = a.buckets[String(k)] ?? NONE;
    const y = b.buckets[String(k)] ?? NONE;
    if (x.count !== y.count || x.digest !== y.digest) return { kind: "differ", bucket: k, a: x, b: y };
  }
  const coveredEvents = last < 0 ? 0 : firstCountAtOrAfter(options.config.baseTime + (last + 1) * BUCKET_MS, options.config);
  const shorterEmitted = Math.min(emittedEvents(a.splitsEnd), emittedEvents(b.splitsEnd));
  const bothThroughput = a.kind !== "latency" && b.kind !== "latency";
  if (bothThroughput && coveredEvents < (options.minCoverage ?? DEFAULT_MIN_COVERAGE) * shorterEmitted) return { kind: "too-short", coveredEvents, shorterEmitted };
  return { kind: "equal", buckets: last + 1, coveredEvents };
};

export class OutputMismatch extends Error {}

export interface QueryCheck {
  readonly query: string;
  readonly runs: number;
  readonly pairs: number;
  /** Fewest comparable buckets and events any pair shared. */
  readonly minBuckets: number;
  readonly minCoveredEvents: number;
  /** Latency runs with no comparable bucket (too short in event time to check). */
  readonly unchecked: readonly string[];
}

/**
 * Compares every pair of runs of `query`; throws OutputMismatch naming the query, the two runs
 * and the first differing bucket (or the coverage that was too small).
 */
export const checkQueryOutputs = (query: string, runs: readonly CheckedRun[], options: CheckOptions): QueryCheck => {
  let pairs = 0;
  let minBuckets = Infinity;
  let minCoveredEvents = Infinity;
  const unchecked = runs.filter((r) => r.kind === "latency" && lastComparableBucket(r.splitsEnd, options) < 0).map((r) => r.label);
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const [a, b] = [runs[i]!, runs[j]!];
      const c = compareRuns(a, b, options);
      if (c.kind === "differ") {
        const from = new Date(options.config.baseTime + c.bucket * BUCKET_MS).toISOString();
        throw new OutputMismatch(
          `output check failed for ${query}: '${a.label}' and '${b.label}' differ in bucket ${c.bucket} (row times from ${from}, 10 s): ` +
            `${c.a.count} rows, digest ${c.a.digest} vs ${c.b.count} rows, digest ${c.b.digest}`,
        );
      }
      if (c.kind === "too-short") {
        throw new OutputMismatch(
          `output check failed for ${query}: '${a.label}' and '${b.label}' share comparable buckets covering only ${c.coveredEvents} events, ` +
            `less than ${Math.round((options.minCoverage ?? DEFAULT_MIN_COVERAGE) * 100)} % of the ${c.shorterEmitted} the shorter run emitted (the runs are too short in event time: raise --steady)`,
        );
      }
      pairs++;
      if (unchecked.includes(a.label) || unchecked.includes(b.label)) continue;
      minBuckets = Math.min(minBuckets, c.buckets);
      minCoveredEvents = Math.min(minCoveredEvents, c.coveredEvents);
    }
  }
  const finite = (n: number) => (Number.isFinite(n) ? n : 0);
  return { query, runs: runs.length, pairs, minBuckets: finite(minBuckets), minCoveredEvents: finite(minCoveredEvents), unchecked };
};
