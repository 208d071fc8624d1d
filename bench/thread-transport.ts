/**
 * How fast Nexmark-Bid-like records move from a worker thread to another thread (issue 13), end to
 * end: the producer encodes, the transport moves, the consumer decodes and reads every field.
 *
 *   npx tsx bench/thread-transport.ts                 # warm-up + median of 5 passes per row, one table
 *   npx tsx bench/thread-transport.ts --batches 256 --passes 3
 *
 * Rows: (a) postMessage of record arrays (structured clone); (b) msgpackr-encoded batches in
 * transferred ArrayBuffers; (c) the same encoded batches through the SPSC ring
 * (engine/exchange/spsc-ring.ts), copied out into a reused buffer and decoded; (d) encode + decode on one thread, no transport
 * (the codec's ceiling), and its two halves alone: (e) encode, (f) decode and read; (g), (h) the
 * transports alone (batches encoded beforehand, not decoded). Batches of 1024 records; (a) and (b) keep at most `--window` batches in
 * flight with credits, (c) is bounded by the ring. Each pass checks the count and a sum of every
 * field, so a codec that drops or garbles records fails the run instead of looking fast.
 */
import { parseArgs } from "node:util";
import type { Worker } from "node:worker_threads";
import { startTsWorker } from "../common/ts-worker.ts";
import { waitReadable } from "../engine/exchange/ring-wait.ts";
import { allocateRing, openRingReader } from "../engine/exchange/spsc-ring.ts";
import { bidBatches, consume, decoderFor, encoderFor, expectedSum, type BidRecord, type CodecName } from "./lib/transport-records.ts";
import type { FromProducer, ProducerConfig, Transport } from "./thread-transport-worker.ts";

interface Row {
  readonly label: string;
  readonly transport: Transport | "same-thread" | "encode-only" | "decode-only";
  readonly codec: CodecName | undefined;
  /** Batches per pass (structured clone is ~10x slower: fewer batches keep the run short). */
  readonly batchesScale: number;
  /** Pre-encoded batches, not decoded: the transport alone (count checked, not contents). */
  readonly transportOnly?: boolean;
}

const ROWS: readonly Row[] = [
  { label: "(a) postMessage, structured clone", transport: "clone", codec: undefined, batchesScale: 0.25 },
  { label: "(b) msgpackr records, transferred ArrayBuffer", transport: "transfer", codec: "records", batchesScale: 1 },
  { label: "(c) msgpackr records, SPSC ring", transport: "ring", codec: "records", batchesScale: 1 },
  { label: "(d) msgpackr records, same thread", transport: "same-thread", codec: "records", batchesScale: 1 },
  { label: "(e) msgpackr records, encode only", transport: "encode-only", codec: "records", batchesScale: 1 },
  { label: "(f) msgpackr records, decode + read only", transport: "decode-only", codec: "records", batchesScale: 1 },
  { label: "(g) transport only: transferred, pre-encoded, not decoded", transport: "transfer", codec: "records", batchesScale: 8, transportOnly: true },
  { label: "(h) transport only: SPSC ring, pre-encoded, not decoded", transport: "ring", codec: "records", batchesScale: 8, transportOnly: true },
  { label: "(b') msgpackr sequential, transferred", transport: "transfer", codec: "sequential", batchesScale: 1 },
  { label: "(c') msgpackr sequential, SPSC ring", transport: "ring", codec: "sequential", batchesScale: 1 },
  { label: "(d') msgpackr sequential, same thread", transport: "same-thread", codec: "sequential", batchesScale: 1 },
  { label: "(c'') columns (Weir's codec), SPSC ring", transport: "ring", codec: "columns", batchesScale: 1 },
  { label: "(d'') columns, same thread", transport: "same-thread", codec: "columns", batchesScale: 1 },
  { label: "(e'') columns, encode only", transport: "encode-only", codec: "columns", batchesScale: 1 },
  { label: "(f'') columns, decode + read only", transport: "decode-only", codec: "columns", batchesScale: 1 },
];

const DISTINCT_BATCHES = 16;

interface Options {
  readonly batches: number;
  readonly batchSize: number;
  readonly passes: number;
  readonly window: number;
  readonly ringBytes: number;
}

const parseOptions = (argv: readonly string[]): Options => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      batches: { type: "string", default: "512" },
      "batch-size": { type: "string", default: "1024" },
      passes: { type: "string", default: "5" },
      window: { type: "string", default: "8" },
      "ring-mib": { type: "string", default: "4" },
    },
  });
  return {
    batches: Number(values.batches),
    batchSize: Number(values["batch-size"]),
    passes: Number(values.passes),
    window: Number(values.window),
    ringBytes: Number(values["ring-mib"]) * 2 ** 20,
  };
};

/** The consume() sum of a pass of `batches` batches cycling through `pool`. */
const expectedPassSum = (batches: number, pool: readonly BidRecord[][]): number =>
  Math.floor(batches / pool.length) * expectedSum(pool) + expectedSum(pool.slice(0, batches % pool.length));

/** One pass's tally, checked against what the producer sent. */
const check = (label: string, got: { count: number; sum: number }, batches: number, pool: readonly BidRecord[][]) => {
  const count = batches * (pool[0]?.length ?? 0);
  const sum = expectedPassSum(batches, pool);
  if (got.count !== count || got.sum !== sum) {
    throw new Error(`${label}: received ${got.count} records (sum ${got.sum}), sent ${count} (sum ${sum})`);
  }
};

/** A producer worker for `row`, and a function that runs one timed pass through it (ms). */
const startProducer = async (row: Row, batches: number, opts: Options): Promise<{ pass(): Promise<number>; stop(): Promise<void> }> => {
  const transport = row.transport as Transport;
  const codec = row.codec ?? "records";
  const sab = transport === "ring" ? allocateRing({ capacityBytes: opts.ringBytes }) : undefined;
  const raw = row.transportOnly === true;
  const config: ProducerConfig = { transport, codec, preEncoded: raw, batches, batchSize: opts.batchSize, distinctBatches: DISTINCT_BATCHES, window: opts.window, sab };
  const worker: Worker = startTsWorker(new URL("./thread-transport-worker.ts", import.meta.url), { workerData: config });
  let onMessage: (m: FromProducer) => void = () => {};
  let failed: ((e: unknown) => void) | undefined;
  worker.on("message", (m: FromProducer) => onMessage(m));
  worker.on("error", (e) => failed?.(e));
  await new Promise<void>((resolve, reject) => {
    failed = reject;
    onMessage = (m) => m.kind === "ready" && resolve();
  });
  const decoder = decoderFor(codec);
  const reader = sab === undefined ? undefined : openRingReader(sab);
  const scratch = Buffer.alloc(reader?.maxFrameBytes ?? 0);

  type Tally = { count: number; sum: number };
  const pass = () =>
    new Promise<{ ms: number; tally: Tally }>((resolve, reject) => {
      failed = reject;
      const tally: Tally = { count: 0, sum: 0 };
      const started = performance.now();
      const finish = () => resolve({ ms: performance.now() - started, tally });
      if (reader !== undefined) {
        const drain = async () => {
          for (;;) {
            const length = reader.tryReadInto(scratch);
            if (length === undefined) {
              const outcome = await waitReadable(reader, {});
              if (outcome !== "ready") throw new Error(`ring read: ${outcome}`);
              continue;
            }
            if (length === 0) return finish();
            // Copied out of the ring into a reused buffer: msgpackr's native string extractor
            // (msgpackr-extract) fails on shared memory ("Unexpected end of buffer").
            if (raw) tally.count += opts.batchSize;
            else consume(decoder.unpack(scratch.subarray(0, length)) as BidRecord[], tally);
          }
        };
        drain().catch(reject);
      } else {
        onMessage = (m) => {
          if (m.kind === "end") return finish();
          if (m.kind === "batch") consume(m.records as BidRecord[], tally);
          else if (m.kind === "bytes" && raw) tally.count += opts.batchSize;
          else if (m.kind === "bytes") consume(decoder.unpack(Buffer.from(m.bytes)) as BidRecord[], tally);
          worker.postMessage({ kind: "credit" });
        };
      }
      worker.postMessage({ kind: "go" });
    });
  const pool = bidBatches(DISTINCT_BATCHES, opts.batchSize);
  return {
    pass: async () => {
      const { ms, tally } = await pass();
      if (raw) check(row.label, { count: tally.count, sum: expectedPassSum(batches, pool) }, batches, pool);
      else check(row.label, tally, batches, pool);
      return ms;
    },
    stop: async () => {
      worker.postMessage({ kind: "stop" });
      await worker.terminate();
    },
  };
};

/** Encode + decode on this thread (no transport), one pass (ms). */
const sameThreadPass = (codec: CodecName, batches: number, pool: readonly BidRecord[][], label: string): number => {
  const encoder = encoderFor(codec);
  const decoder = decoderFor(codec);
  const tally = { count: 0, sum: 0 };
  const started = performance.now();
  for (let i = 0; i < batches; i++) consume(decoder.unpack(encoder.pack(pool[i % pool.length]!)) as BidRecord[], tally);
  const ms = performance.now() - started;
  check(label, tally, batches, pool);
  return ms;
};

/** One half of the codec on this thread, one pass (ms): encoding (no copy), or decoding batches encoded beforehand. */
const halfCodecPass = (half: "encode-only" | "decode-only", codec: CodecName, batches: number, pool: readonly BidRecord[][], label: string): number => {
  const encoder = encoderFor(codec);
  const decoder = decoderFor(codec);
  // Each frame copied into its own (aligned) buffer, as a channel's reader copies a frame out of its ring.
  const encoded = pool.map((b) => encoder.pack(b).slice());
  const tally = { count: 0, sum: 0 };
  let bytes = 0;
  const started = performance.now();
  if (half === "encode-only") for (let i = 0; i < batches; i++) bytes += encoder.pack(pool[i % pool.length]!).length;
  else for (let i = 0; i < batches; i++) consume(decoder.unpack(encoded[i % encoded.length]!) as BidRecord[], tally);
  const ms = performance.now() - started;
  if (half === "decode-only") check(label, tally, batches, pool);
  else if (bytes === 0) throw new Error(`${label}: nothing encoded`);
  return ms;
};

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const millions = (perSec: number) => (perSec / 1e6).toFixed(2);

const main = async () => {
  const opts = parseOptions(process.argv.slice(2));
  const pool = bidBatches(DISTINCT_BATCHES, opts.batchSize);
  const bytesPerRecord = encoderFor("records").pack(pool[0]!).length / opts.batchSize;
  const lines = [
    `records: Nexmark-Bid-like (4 numbers, 3 strings), ${opts.batchSize} per batch, msgpackr records ${bytesPerRecord.toFixed(1)} bytes/record`,
    `each row: 1 warm-up pass, then the median (min-max) of ${opts.passes} passes; ring ${opts.ringBytes / 2 ** 20} MiB, credit window ${opts.window} batches`,
    "",
    "| path | records/pass | M records/s (median) | min-max |",
    "| --- | ---: | ---: | --- |",
  ];
  for (const row of ROWS) {
    const batches = Math.max(DISTINCT_BATCHES, Math.round(opts.batches * row.batchesScale));
    const records = batches * opts.batchSize;
    const times: number[] = [];
    if (row.transport === "same-thread") {
      sameThreadPass(row.codec!, batches, pool, row.label);
      for (let p = 0; p < opts.passes; p++) times.push(sameThreadPass(row.codec!, batches, pool, row.label));
    } else if (row.transport === "encode-only" || row.transport === "decode-only") {
      const half = row.transport;
      halfCodecPass(half, row.codec!, batches, pool, row.label);
      for (let p = 0; p < opts.passes; p++) times.push(halfCodecPass(half, row.codec!, batches, pool, row.label));
    } else {
      const producer = await startProducer(row, batches, opts);
      try {
        await producer.pass();
        for (let p = 0; p < opts.passes; p++) times.push(await producer.pass());
      } finally {
        await producer.stop();
      }
    }
    const rates = times.map((ms) => records / (ms / 1000));
    const line = `| ${row.label} | ${records} | ${millions(median(rates))} | ${millions(Math.min(...rates))}-${millions(Math.max(...rates))} |`;
    process.stderr.write(`measured ${row.label}\n`);
    lines.push(line);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
};

await main();
