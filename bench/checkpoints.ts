/**
 * Checkpoint benchmark: the account-totals pipeline (generator -> keyed running total in
 * RocksDB -> exactly-once file sink) with checkpoints every second vs none (only the final
 * one), alternating in one run; prints records/s (medians) and each checkpoint's duration and
 * size (total and new since the previous one).
 *
 *   npm run bench:checkpoints [-- --events 3000000 --accounts 100000 --runs 3]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildJob } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { planJob } from "../engine/plan.ts";
import { runJob } from "../engine/runtime.ts";
import type { CompletedCheckpoint } from "../checkpoint/driver.ts";
import accountTotals from "../jobs/account-totals.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "3000000" },
    accounts: { type: "string", default: "100000" },
    runs: { type: "string", default: "3" },
    parallelism: { type: "string", default: "1" },
  },
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

const once = async (intervalMs: number) => {
  const dir = await mkdtemp(join(tmpdir(), "weir-bench-chk-"));
  const checkpoints: CompletedCheckpoint[] = [];
  try {
    const built = buildJob(accountTotals, {
      params: paramsFrom({ events: values.events!, accounts: values.accounts!, out: join(dir, "out") }),
      parallelism: Number(values.parallelism),
    });
    const started = performance.now();
    const result = await runJob({
      plan: planJob(built),
      stateBackend: "rocksdb",
      stateDir: join(dir, "state"),
      checkpoints: { root: join(dir, "chk"), config: { intervalMs } },
      onCheckpoint: (c) => checkpoints.push(c),
    });
    const secs = (performance.now() - started) / 1000;
    return { rate: result.metrics.sinkRecords / secs, checkpoints };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

const main = async () => {
  const runs = Number(values.runs);
  console.log(
    `account-totals: ${Number(values.events).toLocaleString("en-US")} events over ${Number(values.accounts).toLocaleString("en-US")} accounts, p=${values.parallelism}, RocksDB, file sink; ${runs} runs each, alternating`,
  );
  const none: number[] = [];
  const every: number[] = [];
  let sample: CompletedCheckpoint[] = [];
  for (let i = 0; i < runs; i++) {
    none.push((await once(Infinity)).rate);
    const r = await once(1_000);
    every.push(r.rate);
    sample = r.checkpoints;
  }
  console.log(`  no checkpoints (final only)   ${Math.round(median(none)).toLocaleString("en-US").padStart(10)} rec/s   runs: ${none.map(Math.round).join(", ")}`);
  console.log(`  checkpoint every 1s           ${Math.round(median(every)).toLocaleString("en-US").padStart(10)} rec/s   runs: ${every.map(Math.round).join(", ")}`);
  console.log(`  ratio (1s / none)             ${(median(every) / median(none)).toFixed(2)}`);
  const periodic = sample.filter((c) => !c.final);
  if (periodic.length > 0) {
    console.log(`Checkpoints of the last 1s run (${periodic.length} periodic + final):`);
    for (const c of sample) console.log(`  #${c.id}${c.final ? " (final)" : ""}: ${c.durationMs} ms, ${kib(c.bytes)} state, ${kib(c.newBytes)} new`);
    console.log(
      `  median duration ${median(periodic.map((c) => c.durationMs))} ms, median size ${kib(median(periodic.map((c) => c.bytes)))}, median new ${kib(median(periodic.map((c) => c.newBytes)))}`,
    );
  }
};

await main();
