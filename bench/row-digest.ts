/**
 * The stats sink's per-row digest (FNV-1a-64 of canonical(row)) on 1M Nexmark-q0-like rows:
 * rows/s of the per-row JavaScript path (`RowDigester`) against the batch WebAssembly path
 * (`BatchDigester`, batches of 1024 — the engine's default batch size — then 64 and 8). Median
 * of 3 rounds each, as rows per second of this process's CPU time (user + system: less sensitive
 * than wall time to other processes on the machine, though a busy machine lowers it too) and of
 * wall time. Both sums of the hashes must agree (else the script exits 1).
 *
 *   nice npx tsx bench/row-digest.ts [rows]
 */
import { BatchDigester } from "../connectors/nexmark/stats/batch-digest.ts";
import { RowDigester } from "../connectors/nexmark/stats/canonical.ts";

const N = Number(process.argv[2] ?? 1_000_000);
const rows = Array.from({ length: N }, (_, i) => ({
  auction: 1000 + (i % 1000),
  bidder: 2000 + (i % 777),
  price: 12345 + i,
  dateTime: 1436918400000 + i,
  extra: "abcdefghijklmnopqrstu",
}));

/** Sum mod 2^32 of both halves of every hash: cheap, and keeps the work observable. */
const perRow = (): number => {
  const d = new RowDigester();
  let sum = 0;
  for (const row of rows) {
    d.digest(row);
    sum = (sum + d.hash.hi + d.hash.lo) >>> 0;
  }
  return sum;
};

const batched = (size: number) => (): number => {
  const d = new BatchDigester();
  let sum = 0;
  for (let start = 0; start < N; start += size) {
    const batch = rows.slice(start, start + size);
    const h = d.digest(batch);
    for (let i = 0; i < batch.length; i++) sum = (sum + h[2 * i + 1]! + h[2 * i]!) >>> 0;
  }
  return sum;
};

const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(11);

const measure = (name: string, run: () => number): number => {
  const cpu: number[] = [];
  const wall: number[] = [];
  let sum = 0;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const used = process.cpuUsage();
    sum = run();
    const { user, system } = process.cpuUsage(used);
    wall.push(N / ((performance.now() - started) / 1000));
    cpu.push(N / ((user + system) / 1e6));
  }
  console.log(`${name.padEnd(34)} ${fmt(median(cpu))} rows/s of CPU  ${fmt(median(wall))} rows/s of wall time`);
  return sum;
};

console.log(`${N.toLocaleString("en-US")} q0-like rows, canonical text ${JSON.stringify(rows[0])} -> ${"auction=1000|bidder=2000|dateTime=1436918400000|extra=abcdefghijklmnopqrstu|price=12345".length} bytes`);
const expected = measure("per row (RowDigester, JS)", perRow);
let ok = true;
for (const size of [1024, 64, 8]) {
  const sum = measure(`batch ${size} (BatchDigester, WASM)`, batched(size));
  if (sum !== expected) {
    console.log(`  hash sum differs: ${sum} != ${expected}`);
    ok = false;
  }
}
process.exit(ok ? 0 : 1);
