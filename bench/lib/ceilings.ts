/**
 * The machine's ceilings, measured in the same run as the queries (NEXMARK-SPEC §4): the Nexmark
 * split generator alone (a source reader read as fast as possible, as a job's source task reads
 * it), msgpackr round trips of Nexmark events, and RocksDB batched puts and gets
 * (bench/rocksdb-raw.ts). Each is warmed up first, then measured in 5 passes; the median is
 * reported with the passes.
 */
import { pack, unpack } from "msgpackr";
import { generateEvent, nexmark, nexmarkConfig, type Event } from "../../connectors/nexmark/index.ts";
import type { ReadResult, SplitReader } from "../../connectors/source.ts";
import { measureRocksRaw } from "../rocksdb-raw.ts";
import { median } from "./summary.ts";

export interface Ceiling {
  readonly median: number;
  readonly passes: readonly number[];
}

export interface Ceilings {
  readonly generatorEventsPerSec: Ceiling;
  readonly msgpackEventRoundTripsPerSec: Ceiling;
  readonly rocksdbBatchedPutsPerSec: Ceiling;
  readonly rocksdbBatchedGetsPerSec: Ceiling;
}

const PASSES = 5;

const ceiling = (passes: number[]): Ceiling => ({ median: Math.round(median(passes)), passes: passes.map(Math.round) });

/** Events/s of one split reader of the generator, `events` events in batches of 1024, from count `from`. */
const generatorPass = (events: number, from: number, seed: number): number => {
  const reader = nexmark({ splits: 1, seed }).openReader("p1-0", from, { now: () => Date.now(), jobName: "ceiling", runId: "ceiling" }) as SplitReader<Event, number>;
  let n = 0;
  const t = performance.now();
  while (n < events) {
    const r = reader.read(1024) as ReadResult<Event>; // synchronous: the Nexmark reader never returns a promise
    if (r.kind !== "records") throw new Error(`generator ceiling: the reader returned ${r.kind}`);
    n += r.records.length;
  }
  return n / ((performance.now() - t) / 1000);
};

const msgpackPass = (sample: readonly Event[], rounds: number): number => {
  const t = performance.now();
  let bytes = 0;
  for (let r = 0; r < rounds; r++) for (const e of sample) bytes += (unpack(pack(e)) as Event).kind.length;
  if (bytes === 0) throw new Error("msgpackr ceiling: nothing round-tripped");
  return (rounds * sample.length) / ((performance.now() - t) / 1000);
};

export const measureCeilings = async (options: { quick: boolean; seed: number; log: (line: string) => void }): Promise<Ceilings> => {
  const events = options.quick ? 100_000 : 300_000;
  generatorPass(events, 0, options.seed); // warm-up
  const generator = Array.from({ length: PASSES }, (_, i) => generatorPass(events, (i + 1) * events, options.seed));
  options.log(`ceiling: generator ${Math.round(median(generator)).toLocaleString("en-US")} events/s`);
  const config = nexmarkConfig({ seed: options.seed });
  const sample = Array.from({ length: 1000 }, (_, i) => generateEvent(config.firstEventId + i, config));
  const rounds = options.quick ? 100 : 300;
  msgpackPass(sample, rounds);
  const msgpack = Array.from({ length: PASSES }, () => msgpackPass(sample, rounds));
  options.log(`ceiling: msgpackr ${Math.round(median(msgpack)).toLocaleString("en-US")} event round trips/s`);
  const sizes = { entries: options.quick ? 100_000 : 200_000, batchedGets: options.quick ? 50_000 : 100_000, singleGets: 1000, msgpackRoundTrips: 1000 };
  await measureRocksRaw({ ...sizes, entries: 20_000, batchedGets: 10_000, repetitions: 1 }); // warm-up
  const puts: number[] = [];
  const gets: number[] = [];
  for (let i = 0; i < PASSES; i++) {
    const r = await measureRocksRaw({ ...sizes, repetitions: 1 });
    puts.push(r["putsPerSec"]!);
    gets.push(r["batchedGetsPerSec"]!);
  }
  options.log(`ceiling: RocksDB batched puts ${Math.round(median(puts)).toLocaleString("en-US")}/s, batched gets ${Math.round(median(gets)).toLocaleString("en-US")}/s`);
  return {
    generatorEventsPerSec: ceiling(generator),
    msgpackEventRoundTripsPerSec: ceiling(msgpack),
    rocksdbBatchedPutsPerSec: ceiling(puts),
    rocksdbBatchedGetsPerSec: ceiling(gets),
  };
};
