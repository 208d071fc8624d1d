/**
 * What every Nexmark query job shares: the generator source with Flink's Nexmark watermark
 * strategy (4 s bounded out-of-orderness on the event's dateTime, tracked per split), the
 * `--param`s, the exactly-once file sink, and type guards for the three event kinds.
 *
 *   --param events=N      bounded run of N generator events (default 100000)
 *   --param out=DIR       output directory (default out/nexmark-<query>)
 *   --param splits=N      generator splits (default 4)
 *   --param seed=N        generator seed (default 0)
 *   --param eventRate=N   events per second of synthetic event time (default 10000, as Nexmark)
 *   --param rate=N        emission rate limit, events/s of wall-clock time (default: none)
 *   --param sink=discard  discard the output instead of writing files (benchmarks)
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

export type { Auction, Bid, Person, NexmarkEvent };

export const isBid = (e: NexmarkEvent): e is { kind: "bid"; bid: Bid } => e.kind === "bid";
export const isAuction = (e: NexmarkEvent): e is { kind: "auction"; auction: Auction } => e.kind === "auction";
export const isPerson = (e: NexmarkEvent): e is { kind: "person"; person: Person } => e.kind === "person";

export const WINDOW_MS = 10_000;

/** Defines query job `nexmark-<query>`: `build` turns the event stream into the output stream. */
export const nexmarkJob = <O>(query: string, build: (events: DataStream<NexmarkEvent>, env: JobEnv) => DataStream<O>): JobDefinition =>
  job(`nexmark-${query}`, (env) => {
    const p = env.params;
    const rate = p.has("rate") ? p.number("rate", 0) : undefined;
    const source = nexmark({
      events: p.integer("events", 100_000),
      splits: p.integer("splits", 4),
      seed: p.integer("seed", 0),
      config: { firstEventRate: p.number("eventRate", 10_000) },
      ...(rate === undefined ? {} : { ratePerSecond: rate }),
    });
    const events = env.source(source, { name: "nexmark", watermarks: boundedOutOfOrderness(eventTime, "4s") });
    const output = build(events, env);
    // `--param sink=discard` (benchmarks): same job, output discarded.
    if (p.get("sink", "files") === "discard") output.sink(discard<O>(), { name: "out" });
    else output.sink(toFiles<O>(p.get("out", `out/nexmark-${query}`)), { name: "out" });
  });
