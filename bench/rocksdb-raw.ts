/**
 * Raw cost of the RocksDB KvBackend (DESIGN §7 "state access cost"), without the engine:
 *
 *   npx tsx bench/rocksdb-raw.ts            # prints a table of medians over 3 repetitions
 *   const r = await measureRocksRaw({});    # from another bench script: { putsPerSec, ... }
 *
 * Workload: 16-byte keys laid out like Weir's (`[keyGroup u16][stateId u16][key 12 bytes]`),
 * 100-byte values, puts and gets in batches of 1000 (one `write` / `getMany` each), single
 * awaited gets, one full scan, and msgpackr pack+unpack of `{ account: 123, total: 4567.5 }`.
 * Random keys come from a fixed-seed generator, so runs are comparable. Uses a fresh temp dir,
 * removed afterwards (also on failure).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { pack, unpack } from "msgpackr";
import type { KvBackend, KvOp } from "../state/kv-backend.ts";
import { openRocksBackend } from "../state/rocksdb-backend.ts";

export interface RocksRawOptions {
  /** Entries written per repetition (default 300k). */
  readonly entries?: number;
  /** Keys read with batched gets per repetition (default 200k). */
  readonly batchedGets?: number;
  /** Single awaited gets per repetition (default 20k). */
  readonly singleGets?: number;
  /** msgpackr round trips per repetition (default 1M). */
  readonly msgpackRoundTrips?: number;
  readonly repetitions?: number;
  readonly batchSize?: number;
  /** Parent of the temp DB dir (default the OS temp dir). */
  readonly dir?: string;
}

/** Medians over the repetitions, in operations (or entries) per second. */
export async function measureRocksRaw(opts: RocksRawOptions = {}): Promise<Record<string, number>> {
  const entries = opts.entries ?? 300_000;
  const batch = opts.batchSize ?? 1000;
  const reps = opts.repetitions ?? 3;
  const runs: Record<string, number[]> = {
    putsPerSec: [],
    batchedGetsPerSec: [],
    singleGetsPerSec: [],
    scanEntriesPerSec: [],
    msgpackRoundTripsPerSec: [],
  };
  const dir = await mkdtemp(join(opts.dir ?? tmpdir(), "weir-bench-rocks-"));
  const kv = await openRocksBackend({ path: join(dir, "db") });
  try {
    const random = lcg(42);
    for (let rep = 0; rep < reps; rep++) {
      runs.putsPerSec?.push(await timePuts(kv, entries, batch));
      runs.batchedGetsPerSec?.push(await timeBatchedGets(kv, opts.batchedGets ?? 200_000, batch, entries, random));
      runs.singleGetsPerSec?.push(await timeSingleGets(kv, opts.singleGets ?? 20_000, entries, random));
      runs.scanEntriesPerSec?.push(await timeScan(kv, entries));
      runs.msgpackRoundTripsPerSec?.push(timeMsgpack(opts.msgpackRoundTrips ?? 1_000_000));
    }
  } finally {
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  }
  return Object.fromEntries(Object.entries(runs).map(([name, xs]) => [name, median(xs)]));
}

/** `[keyGroup u16][stateId u16][8-byte id][4 zero bytes]`: 16 bytes, key groups interleaved. */
function stateKey(i: number): Buffer {
  const k = Buffer.alloc(16);
  k.writeUInt16BE(i % 128, 0);
  k.writeUInt16BE(1, 2);
  k.writeBigUInt64BE(BigInt(i), 4);
  return k;
}

const perSec = (n: number, startMs: number) => n / ((performance.now() - startMs) / 1000);

async function timePuts(kv: KvBackend, entries: number, batch: number): Promise<number> {
  const value = Buffer.alloc(100, 0x5a);
  const t = performance.now();
  for (let i = 0; i < entries; i += batch) {
    const ops: KvOp[] = [];
    for (let j = i; j < Math.min(i + batch, entries); j++) ops.push({ kind: "put", key: stateKey(j), value });
    await kv.write(ops);
  }
  return perSec(entries, t);
}

async function timeBatchedGets(kv: KvBackend, n: number, batch: number, entries: number, random: () => number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i += batch) {
    const keys: Buffer[] = [];
    for (let j = 0; j < batch; j++) keys.push(stateKey(random() % entries));
    const values = await kv.getMany(keys);
    if (values[0]?.length !== 100) throw new Error("batched get returned a wrong value");
  }
  return perSec(n, t);
}

async function timeSingleGets(kv: KvBackend, n: number, entries: number, random: () => number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const [v] = await kv.getMany([stateKey(random() % entries)]);
    if (v === undefined) throw new Error("single get missed an existing key");
  }
  return perSec(n, t);
}

async function timeScan(kv: KvBackend, entries: number): Promise<number> {
  const t = performance.now();
  let n = 0;
  for await (const _ of kv.scan({ gte: Buffer.alloc(0), lt: Buffer.alloc(17, 0xff) })) n++;
  if (n !== entries) throw new Error(`scan saw ${n} entries, expected ${entries}`);
  return perSec(n, t);
}

function timeMsgpack(n: number): number {
  let sum = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const o = unpack(pack({ account: 123, total: 4567.5 })) as { total: number };
    sum += o.total;
  }
  if (sum !== n * 4567.5) throw new Error("msgpackr round trip changed the value");
  return perSec(n, t);
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Deterministic 32-bit LCG, so every run reads the same key sequence. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

async function main(): Promise<void> {
  const t = performance.now();
  const result = await measureRocksRaw();
  const rows = Object.entries(result).map(([name, v]) => `${name.padEnd(26)} ${Math.round(v).toLocaleString("en-US").padStart(12)}`);
  console.log(["RocksDB KvBackend, raw (median of 3)", `${"measure".padEnd(26)} ${"per second".padStart(12)}`, ...rows].join("\n"));
  console.log(`(took ${((performance.now() - t) / 1000).toFixed(1)} s)`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
