/**
 * The statistics of one Nexmark benchmark run in this process (NEXMARK-SPEC.md §3): the source
 * tells it how far each split got (`observer`), the stats sink hands it every output batch and
 * every completed checkpoint, and when the last sink writer closes it writes
 * `<prefix>.weir-<pid>-<thread>.json`.
 *
 *   const stats = createRunStats({ prefix, query: "q5", startAt, steadyStart, steadyEnd, rate, config });
 *   nexmark({ ..., observer: stats.observer });      // source side
 *   stream.sink(statsSink(stats, timing));           // sink side
 *
 * Everything per batch is synchronous: a batch is digested where it arrives, with one clock read
 * and one call into WebAssembly per 1024 rows (BatchDigester).
 * Samples of the events emitted so far are taken every 100 ms by a timer (unref'd) from the first
 * split's opening to the end; the list starts with [startAt, 0] (nothing is emitted before startAt).
 * Latency is recorded only with a rate, and only for rows arriving inside [steadyStart, steadyEnd]:
 * arrival − sched(n(latencyTime(row))), in µs. If writing the file fails, `finish` throws (the
 * sink's close fails the run: a benchmark must not go on without its numbers).
 */
import { renameSync, writeFileSync } from "node:fs";
import { threadId } from "node:worker_threads";
import type { NexmarkObserver } from "../source.ts";
import { firstCountAtOrAfter, scheduledAt, type EventTimeConfig, type Schedule } from "../schedule.ts";
import { BucketDigests } from "./bucket-digest.ts";
import { BatchDigester } from "./batch-digest.ts";
import { LatencyHistogram } from "./latency-histogram.ts";
import type { StatsFile } from "./stats-file.ts";

/** Which time an output row belongs to: its bucket (rowTime) and the event time its latency is measured from. */
export interface RowTiming<O> {
  rowTime(row: O): number;
  latencyTime(row: O): number;
}

export interface RunStatsOptions {
  readonly prefix: string;
  readonly query: string;
  readonly startAt: number;
  readonly steadyStart: number;
  readonly steadyEnd: number;
  /** Events/s of the schedule; without it no latency is recorded. */
  readonly rate?: number;
  readonly config: EventTimeConfig;
  /** Epoch ms with sub-ms precision (default performance.timeOrigin + performance.now()). */
  readonly now?: () => number;
  /** Starts the sampling timer (default: setInterval, unref'd); returns its stop function. */
  readonly every?: (ms: number, tick: () => void) => () => void;
  /** Writes the file (default: a temporary file renamed into place). */
  readonly write?: (path: string, text: string) => void;
}

export interface RunStats {
  readonly observer: NexmarkObserver;
  readonly path: string;
  /** Digests a batch of output rows (and records their latency); synchronous. */
  rows<O>(records: readonly O[], timing: RowTiming<O>): void;
  checkpointCompleted(id: number): void;
  writerOpened(): void;
  /** The last writer to close writes the file. */
  writerClosed(): void;
  /** Takes a sample now (the timer calls it every 100 ms). */
  sample(): void;
  /** The statistics so far (what `finish` writes). */
  snapshot(): StatsFile;
  /** Stops sampling, writes the file and returns what it wrote. */
  finish(): StatsFile;
}

const defaultNow = () => performance.timeOrigin + performance.now();
const defaultEvery = (ms: number, tick: () => void) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
};
const defaultWrite = (path: string, text: string) => {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
};

export const SAMPLE_EVERY_MS = 100;

export const createRunStats = (options: RunStatsOptions): RunStats => {
  const now = options.now ?? defaultNow;
  const path = `${options.prefix}.weir-${process.pid}-${threadId}.json`;
  const schedule: Schedule | undefined = options.rate === undefined ? undefined : { startAt: options.startAt, rate: options.rate };
  const digester = new BatchDigester();
  const buckets = new BucketDigests(options.config.baseTime);
  const latency = new LatencyHistogram();
  const splitsEnd = new Map<number, number>();
  const checkpoints = new Map<number, number>();
  const samples: [number, number][] = [[options.startAt, 0]];
  let emitted = 0;
  let firstEventAtMs: number | null = null;
  let stopSampling: (() => void) | undefined;
  let writers = 0;
  let written: StatsFile | undefined;

  const sample = () => {
    const t = now();
    if (t > samples[samples.length - 1]![0]) samples.push([t, emitted]);
  };

  const snapshot = (): StatsFile => ({
    system: "weir",
    query: options.query,
    firstEventAtMs,
    samples: samples.slice(),
    splitsEnd: Object.fromEntries([...splitsEnd].sort((a, b) => a[0] - b[0]).map(([k, n]) => [String(k), n])),
    buckets: buckets.toJSON(),
    latencyUs: latency.toJSON(),
    checkpoints: [...checkpoints].sort((a, b) => a[0] - b[0]).map(([id, completedAtMs]) => ({ id, completedAtMs })),
    outputRows: buckets.rows(),
  });

  const finish = (): StatsFile => {
    stopSampling?.();
    stopSampling = undefined;
    sample();
    written = snapshot();
    (options.write ?? defaultWrite)(path, `${JSON.stringify(written)}\n`);
    return written;
  };

  return {
    path,
    observer: {
      opened(split, next) {
        if (!splitsEnd.has(split)) splitsEnd.set(split, next);
        stopSampling ??= (options.every ?? defaultEvery)(SAMPLE_EVERY_MS, sample);
      },
      emitted(split, next, n) {
        if (firstEventAtMs === null && n > 0) firstEventAtMs = now();
        emitted += n;
        splitsEnd.set(split, next);
      },
    },
    rows(records, timing) {
      if (records.length === 0) return;
      const arrival = now();
      const measure = schedule !== undefined && arrival >= options.steadyStart && arrival <= options.steadyEnd;
      // All rows are hashed before any is counted: a row that cannot be digested (its TypeError) adds none of the batch.
      const hashes = digester.digest(records as readonly unknown[] as readonly object[]);
      for (let i = 0; i < records.length; i++) {
        const row = records[i]!;
        buckets.add(timing.rowTime(row), hashes[2 * i + 1]!, hashes[2 * i]!);
        if (measure) latency.record((arrival - scheduledAt(firstCountAtOrAfter(timing.latencyTime(row), options.config), schedule)) * 1000);
      }
    },
    checkpointCompleted(id) {
      if (!checkpoints.has(id)) checkpoints.set(id, now());
    },
    writerOpened() {
      writers++;
    },
    writerClosed() {
      writers--;
      if (writers === 0) finish();
    },
    sample,
    snapshot,
    finish,
  };
};
