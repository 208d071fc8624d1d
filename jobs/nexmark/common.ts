/**
 * What every Nexmark query job shares: the generator source with Flink's Nexmark watermark
 * strategy (4 s bounded out-of-orderness on the event's dateTime, tracked per split), the
 * `--param`s, the sink (exactly-once files, discard, or benchmark statistics), and type guards
 * for the three event kinds.
 *
 *   --param events=N      bounded run of N generator events (default 100000, none with steadyMs)
 *   --param out=DIR       output directory (default out/nexmark-<query>)
 *   --param splits=N      generator splits (default: the job's parallelism); split k emits counts
 *                         k, k+N, ...; resume a checkpoint with the splits it was taken with
 *   --param seed=N        generator seed (default 0)
 *   --param eventRate=N   events per second of synthetic event time (default 10000, as Nexmark)
 *   --param rate=N        events/s of wall-clock time, all splits together: count n is due at
 *                         startAt + n*1000/rate (default: as fast as possible)
 *   --param startAt=MS    epoch ms at which the source starts emitting (default: when the job is built)
 *   --param warmupMs=MS   with steadyMs: the run is sized by time and every split ends at
 *   --param steadyMs=MS   startAt + warmupMs + steadyMs (the steady window is the last steadyMs)
 *   --param sink=discard  discard the output instead of writing files (benchmarks)
 *   --param stats=PREFIX  benchmark statistics instead of output (NEXMARK-SPEC.md §3): rows are
 *                         digested per 10 s bucket of row time, latency is recorded in the steady
 *                         window (with rate), and <PREFIX>.weir-<pid>.json is written at the end
 */
import {
  boundedOutOfOrderness,
  discard,
  eventTime,
  job,
  nexmark,
  toFiles,
  type Auction,
  type Bid,
  type DataStream,
  type JobDefinition,
  type JobEnv,
  type NexmarkEvent,
  type Person,
} from "weir";
import { userError } from "../../common/errors.ts";
import { createRunStats, statsSink, type RowTiming } from "../../connectors/nexmark/stats/index.ts";
import { nexmarkConfig } from "../../connectors/nexmark/index.ts";

export type { Auction, Bid, Person, NexmarkEvent, RowTiming };

export const isBid = (e: NexmarkEvent): e is { kind: "bid"; bid: Bid } => e.kind === "bid";
export const isAuction = (e: NexmarkEvent): e is { kind: "auction"; auction: Auction } => e.kind === "auction";
export const isPerson = (e: NexmarkEvent): e is { kind: "person"; person: Person } => e.kind === "person";

export const WINDOW_MS = 10_000;
/**
 * The watermark's out-of-orderness bound. A window result's latency is measured from event time
 * end + 4000 (the first event time at which it is computable), a stateless or join row's from its
 * row time (`RowTiming`).
 */
export const OUT_OF_ORDERNESS_MS = 4_000;

/**
 * Defines query job `nexmark-<query>`: `build` turns the event stream into the output stream;
 * `timing` (needed for `--param stats`) says which time each output row belongs to.
 */
export const nexmarkJob = <O>(
  query: string,
  build: (events: DataStream<NexmarkEvent>, env: JobEnv) => DataStream<O>,
  timing?: RowTiming<O>,
): JobDefinition =>
  job(`nexmark-${query}`, (env) => {
    const p = env.params;
    const optional = (name: string) => (p.has(name) ? p.number(name, 0) : undefined);
    const rate = optional("rate");
    const steadyMs = optional("steadyMs");
    const warmupMs = p.number("warmupMs", 0);
    const startAt = p.number("startAt", Date.now());
    const timeSized = steadyMs !== undefined;
    const events = timeSized && !p.has("events") ? undefined : p.integer("events", 100_000);
    const seed = p.integer("seed", 0);
    const config = nexmarkConfig({ seed, firstEventRate: p.number("eventRate", 10_000) });
    const statsPrefix = p.get("stats");
    if (statsPrefix !== undefined && timing === undefined) {
      throw userError("BAD_PARAMETER", `nexmark-${query} has no row time, so it cannot write statistics (--param stats)`);
    }
    // With `events` the run is bounded by count; startAt/warmupMs/steadyMs then only set the schedule origin.
    const endAt = timeSized && events === undefined ? startAt + warmupMs + steadyMs : undefined;
    const stats =
      statsPrefix === undefined
        ? undefined
        : createRunStats({
            prefix: statsPrefix,
            query,
            startAt,
            steadyStart: startAt + warmupMs,
            steadyEnd: startAt + warmupMs + (steadyMs ?? Infinity),
            ...(rate === undefined ? {} : { rate }),
            config,
          });
    const source = nexmark({
      events,
      splits: p.integer("splits", env.parallelism),
      seed,
      config: { firstEventRate: config.firstEventRate },
      ratePerSecond: rate,
      ...(p.has("startAt") || timeSized ? { startAt } : {}),
      endAt,
      observer: stats?.observer,
    });
    const events$ = env.source(source, { name: "nexmark", watermarks: boundedOutOfOrderness(eventTime, "4s") });
    const output = build(events$, env);
    if (stats !== undefined && timing !== undefined) output.sink(statsSink(stats, timing), { name: "out" });
    // `--param sink=discard` (benchmarks): same job, output discarded.
    else if (p.get("sink", "files") === "discard") output.sink(discard<O>(), { name: "out" });
    else output.sink(toFiles<O>(p.get("out", `out/nexmark-${query}`)), { name: "out" });
  });
