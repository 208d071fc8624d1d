/**
 * Checkpoint benchmark: what checkpointing costs the account-totals pipeline (generator -> keyed
 * running total in RocksDB -> exactly-once file sink) at steady state.
 *
 * Each run is its own process (bench/checkpoint-run.ts) running for `--warmup` + `--seconds`
 * seconds: the warm-up is discarded, the rate is taken over the steady window from the sink's
 * sampled record counter. Variants (no checkpoints, i.e. only the stop checkpoint after the
 * window, and checkpoint intervals) alternate within each repetition, in an order rotated every
 * repetition; with `--baseline <checkout>` every run is also made on that checkout (e.g. a
 * worktree of the base commit, with its own `npm ci`), alternating, so before and after are
 * measured in one sitting. Every run's figures are printed as it ends; then, per variant and
 * checkout: throughput median [min-max], cost against no checkpoints of the same checkout, and
 * over all checkpoints of all runs: duration p50/p99, the synchronous part per task p50/p99/max,
 * the stall per task (synchronous part + the time the asynchronous part held the thread, where
 * the checkout records it) p50/p99/max, and medians over runs of the event loop's delay p99, the
 * main thread's busy fraction and the process's CPU seconds per million records.
 *
 *   npm run bench:checkpoints -- [--variants none,10s,1s] [--reps 3] [--warmup 5] [--seconds 20]
 *                                [--accounts 100000] [--parallelism 1] [--baseline ../ckpt-base] [--json out.json]
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { costPercent, percentile, rateBetween, schedule, spreadOf } from "./lib/checkpoint-stats.ts";
import type { RunResult } from "./checkpoint-run.ts";

const { values } = parseArgs({
  options: {
    variants: { type: "string", default: "none,10s,1s" },
    reps: { type: "string", default: "3" },
    warmup: { type: "string", default: "5" },
    seconds: { type: "string", default: "20" },
    accounts: { type: "string", default: "100000" },
    parallelism: { type: "string", default: "1" },
    baseline: { type: "string" },
    json: { type: "string" },
  },
});

const here = dirname(fileURLToPath(import.meta.url));
const self = resolve(here, "..");

/** "none" -> 0 (no periodic checkpoint), "10s" -> 10000, "500ms" -> 500. */
const intervalOf = (variant: string): number => {
  if (variant === "none") return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(variant);
  if (m === null) throw new Error(`--variants: '${variant}' is neither 'none' nor an interval like 10s or 500ms`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
};

const runOnce = (root: string, intervalMs: number): Promise<RunResult> =>
  new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(here, "checkpoint-run.ts"),
        "--root",
        root,
        "--interval-ms",
        String(intervalMs),
        "--warmup",
        values.warmup!,
        "--seconds",
        values.seconds!,
        "--accounts",
        values.accounts!,
        "--parallelism",
        values.parallelism!,
      ],
      { cwd: self, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || line === undefined) fail(new Error(`run on ${root} (interval ${intervalMs} ms) exited with ${code}:\n${out}`));
      else done(JSON.parse(line.slice("RESULT ".length)) as RunResult);
    });
  });

const rateOf = (r: RunResult) => rateBetween(r.samples, r.warmup, r.warmup + r.seconds) ?? Number.NaN;
const syncsOf = (r: RunResult) => r.checkpoints.flatMap((c) => c.tasks.map((t) => t.syncMs));
const stallsOf = (r: RunResult) => r.checkpoints.flatMap((c) => c.tasks.map((t) => t.syncMs + (t.asyncBlockingMs ?? 0)));
const recordsAsyncTime = (r: RunResult) => r.checkpoints.some((c) => c.tasks.some((t) => t.asyncBlockingMs !== undefined));

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number | undefined) => (n === undefined ? "-" : n < 10 ? n.toFixed(1) : n.toFixed(0));
const median = (xs: readonly number[]) => (xs.length === 0 ? "-" : percentile(xs, 50)!.toFixed(2));
const pct = (x: number | undefined) => (x === undefined ? "-" : `${(x * 100).toFixed(0)} %`);
/** Process CPU seconds per million records over the steady window. */
const cpuPerMillion = (r: RunResult) => (r.cpuSeconds === undefined ? "-" : ((r.cpuSeconds * 1e6) / (rateOf(r) * r.seconds)).toFixed(2));
/** CPU seconds per second of the window by thread group, if measured. */
const threadsOf = (r: RunResult) => {
  const t = r.threadCpuSeconds;
  if (t === undefined) return "";
  const f = (x: number) => (x / r.seconds).toFixed(2);
  return ` (cores busy: main ${f(t.main)}, RocksDB ${f(t.rocksdb)}, other ${f(t.other)})`;
};
const p = (xs: readonly number[]) => `${ms(percentile(xs, 50))}/${ms(percentile(xs, 99))}/${ms(xs.length === 0 ? undefined : Math.max(...xs))}`;

const main = async () => {
  const variants = values.variants!.split(",").map((v) => v.trim());
  for (const v of variants) intervalOf(v);
  const trees = values.baseline === undefined ? [{ name: "this", root: self }] : [{ name: "base", root: resolve(values.baseline) }, { name: "this", root: self }];
  const runs = schedule(variants, trees, Number(values.reps));
  console.log(
    `account-totals over ${Number(values.accounts).toLocaleString("en-US")} accounts, p=${values.parallelism}, RocksDB, file sink; ` +
      `${values.warmup} s warm-up + ${values.seconds} s steady window per run; ${values.reps} repetitions; variants ${variants.join(", ")}` +
      (values.baseline === undefined ? "" : `; base = ${trees[0]!.root}, this = ${self}`),
  );
  const results: { variant: string; tree: string; rep: number; result: RunResult }[] = [];
  for (const run of runs) {
    const result = await runOnce(run.tree.root, intervalOf(run.variant));
    results.push({ variant: run.variant, tree: run.tree.name, rep: run.rep, result });
    const durations = result.checkpoints.map((c) => c.durationMs);
    console.log(
      `  rep ${run.rep + 1} ${run.variant.padEnd(5)} ${run.tree.name.padEnd(4)} ${int(rateOf(result)).padStart(10)} rec/s  ` +
        `checkpoints ${String(result.checkpoints.length).padStart(3)}  duration p50/p99/max ${p(durations)} ms  ` +
        `sync ${p(syncsOf(result))} ms  stall ${recordsAsyncTime(result) ? p(stallsOf(result)) : "(not recorded)"} ms  ` +
        `loop delay p99/max ${ms(result.loopDelayMs.p99)}/${ms(result.loopDelayMs.max)} ms  ` +
        `main thread busy ${pct(result.loopUtilization)}  CPU ${cpuPerMillion(result)} s per M records${threadsOf(result)}`,
    );
  }
  console.log("\nSummary (throughput over the steady windows; percentiles over every checkpoint of every run, per task):");
  console.log(
    `  ${"variant".padEnd(7)} ${"tree".padEnd(4)} ${"rec/s median [min-max]".padEnd(34)} ${"cost".padStart(7)}  ${"ckpts".padStart(5)}  ` +
      `${"duration p50/p99".padEnd(17)} ${"sync p50/p99/max".padEnd(17)} ${"stall p50/p99/max".padEnd(18)} loop p99  busy  CPU s/M`,
  );
  for (const tree of trees) {
    const reference = spreadOf(results.filter((r) => r.tree === tree.name && r.variant === "none").map((r) => rateOf(r.result)));
    for (const variant of variants) {
      const mine = results.filter((r) => r.tree === tree.name && r.variant === variant).map((r) => r.result);
      const rate = spreadOf(mine.map(rateOf))!;
      const checkpoints = mine.flatMap((r) => r.checkpoints);
      const durations = checkpoints.map((c) => c.durationMs);
      const cost = reference === undefined || variant === "none" ? "" : `${costPercent(rate.median, reference.median).toFixed(1)} %`;
      const stall = mine.some(recordsAsyncTime) ? p(mine.flatMap(stallsOf)) : "(not recorded)";
      console.log(
        `  ${variant.padEnd(7)} ${tree.name.padEnd(4)} ${`${int(rate.median)} [${int(rate.min)}-${int(rate.max)}]`.padEnd(34)} ${cost.padStart(7)}  ` +
          `${String(checkpoints.length).padStart(5)}  ${`${ms(percentile(durations, 50))}/${ms(percentile(durations, 99))} ms`.padEnd(17)} ` +
          `${`${p(mine.flatMap(syncsOf))} ms`.padEnd(17)} ${`${stall}${stall.startsWith("(") ? "" : " ms"}`.padEnd(18)} ` +
          `${ms(percentile(mine.map((r) => r.loopDelayMs.p99), 50))} ms  ` +
          `${pct(percentile(mine.flatMap((r) => (r.loopUtilization === undefined ? [] : [r.loopUtilization])), 50))}  ` +
          `${median(mine.map(cpuPerMillion).filter((x) => x !== "-").map(Number))}`,
      );
    }
  }
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(results, null, 1));
};

await main();
