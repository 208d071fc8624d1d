/**
 * Nexmark side by side: each query on Weir (`weir run jobs/nexmark/<q>.ts`) and on Apache Flink
 * 1.20 (bench/flink), in columns — weir (as shipped), weir-nocache (RocksDB per state access),
 * flink-hashmap, flink-rocksdb, flink-sql (q5, q7) — with equal memory budgets, on the same events
 * (split k of P emits generator counts k, k+P, ...; the generators are checked against each
 * other first), runs sized by time on an absolute schedule, checkpoints every 2 s, and every
 * run's output checked against every other run of the query. See README "Performance" (generated
 * by this script) for what is measured and how; the pieces live in bench/lib/.
 *
 *   npm run bench:nexmark                                 # full: 3 repetitions, 10 s + 30 s, latency at 25/50/75 % (5 s + 15 s)
 *   npm run bench:nexmark -- --quick                      # 1 repetition, 3 s + 6 s, latency at 50 % (2 s + 6 s)
 *   npm run bench:nexmark -- --queries q0,q5 --systems weir --steady 15000 --reps 2
 *   npm run bench:nexmark -- --baseline ../weir-old       # another Weir checkout as a column
 *   npm run bench:nexmark -- --help
 *
 * Writes bench/results/latest.json (every run, configuration, machine, command), ratios.svg, and
 * the README's Performance section between its markers. Exit code 1 when a run broke a rule
 * (first event late, too few checkpoints in the steady window, input rate off, missing or
 * malformed stats) or outputs differed; the message names the run.
 */
import { spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { nexmarkConfig } from "../connectors/nexmark/index.ts";
import { measureCeilings, type Ceilings } from "./lib/ceilings.ts";
import { flinkCommand, PAIRS, runsQuery, weirCommand, type Column } from "./lib/columns.ts";
import { buildFlink, checkGenerators, flinkJar, jvmArgs } from "./lib/flink.ts";
import { parseOptions, usage, type BenchOptions } from "./lib/options.ts";
import { checkQueryOutputs, type QueryCheck } from "./lib/output-check.ts";
import { ratioChart } from "./lib/ratio-chart.ts";
import { replaceSection } from "./lib/readme-section.ts";
import { cellOf, cellsOf, ratioOf, renderMarkdown, type Report } from "./lib/report.ts";
import { RunFailed, runOne, type RunResult } from "./lib/run.ts";

const root = resolve(import.meta.dirname, "..");
const log = (line: string) => process.stderr.write(`${line}\n`);
const int = (n: number) => Math.round(n).toLocaleString("en-US");

const writeOutputs = async (report: Report, outDir: string, readme: boolean) => {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "latest.json"), `${JSON.stringify(report, null, 1)}\n`);
  const cells = cellsOf(report.runs);
  const series = PAIRS.map((p, i) => ({
    label: `${p.numerator} / ${p.denominator}`,
    color: i === 0 ? "#2a9d8f" : "#e76f51",
    values: report.config.queries.map((q) => ratioOf(cells, q, p.numerator, p.denominator)),
  }));
  await writeFile(join(outDir, "ratios.svg"), ratioChart(report.config.queries, series, `Weir / Flink 1.20, Nexmark, p=${report.config.parallelism} (${report.mode})`));
  const markdown = renderMarkdown(report);
  if (readme) {
    const path = join(root, "README.md");
    await writeFile(path, replaceSection(await readFile(path, "utf8"), markdown));
  }
  log(`wrote ${join(outDir, "latest.json")} and ratios.svg${readme ? ", and README.md's Performance section" : ""}`);
  return markdown;
};

const run = async (options: BenchOptions): Promise<number> => {
  const started = Date.now();
  const outDir = options.out ?? join(root, "bench", "results");
  const readme = options.readme && options.out === undefined;
  const hasFlink = options.columns.some((c) => c.system === "flink");
  const config = nexmarkConfig({ seed: options.seed });
  log(
    `Nexmark ${options.quick ? "quick" : "full"}: ${options.queries.join(",")} | ${options.columns.map((c) => c.name).join(", ")} | p=${options.parallelism} | ` +
      `${options.warmupMs / 1000} s warm-up + ${options.steadyMs / 1000} s steady × ${options.reps} | checkpoints every ${options.checkpointIntervalMs} ms (≥ ${options.minCheckpoints} in the window)`,
  );
  const ceilings: Ceilings | null = options.ceilings ? await measureCeilings({ quick: options.quick, seed: options.seed, log }) : null;
  let generatorCheck: string | null = null;
  if (hasFlink) {
    buildFlink(root, log);
    generatorCheck = checkGenerators(root, { events: options.quick ? 5_000 : 20_000, seed: options.seed, parallelism: options.parallelism });
    log(`generator check: ${generatorCheck}`);
  }
  const jvm = hasFlink ? jvmArgs(root) : [];
  const runs: RunResult[] = [];
  const failures: string[] = [];
  const outputChecks = new Map<string, QueryCheck>();

  /** Checks the query's runs so far (throws OutputMismatch naming the runs and the bucket). */
  const checkOutputs = (query: string) => {
    const mine = runs.filter((r) => r.query === query);
    outputChecks.set(query, checkQueryOutputs(query, mine, { config, marginMs: options.marginMs, minCoverage: options.minCoverage }));
  };

  const execute = async (column: Column, query: string, kind: "throughput" | "latency", rep: number, rate?: number) => {
    const seed = options.mismatchSeed?.column === column.name ? options.mismatchSeed.seed : options.seed;
    const spec = {
      query,
      parallelism: options.parallelism,
      seed,
      startAt: Date.now() + options.startupGraceMs[column.system] + (column.extraStartupMs ?? 0),
      warmupMs: kind === "latency" ? options.latencyWarmupMs : options.warmupMs,
      steadyMs: kind === "latency" ? options.latencySteadyMs : options.steadyMs,
      rate,
      checkpointIntervalMs: options.checkpointIntervalMs,
    };
    const weirRoot = column.name === "weir-baseline" ? resolve(options.baseline!) : root;
    try {
      const r = await runOne({
        column,
        spec,
        command: (s) => (column.system === "weir" ? weirCommand(column, s, weirRoot) : flinkCommand(column, s, flinkJar(root), jvm)),
        kind,
        rep,
        checks: { minCheckpoints: kind === "latency" ? options.latencyMinCheckpoints : options.minCheckpoints, tailTimeoutMs: 180_000 },
        cwd: weirRoot,
      });
      runs.push(r);
      log(
        `${r.label}: ${int(r.eventsPerSec)} events/s, ${r.cpuSecondsPerMillionEvents.toFixed(1)} CPU s/M events, RSS ${int(r.rssMaxMiB)}/${int(r.rssMeanMiB)} MiB, ` +
          `${r.checkpointsInWindow} checkpoints in the window${r.checkpointShortfall === true ? " (fewer than required: marked in the table)" : ""}, ${int(r.outputRows)} rows, first event ${Math.round(r.firstEventDelayMs)} ms after startAt` +
          (r.rateShortfall === true ? " (short of the asked rate: marked in the table)" : "") +
          (kind === "latency" ? `, latency p50 ${(r.latencyUs.p50 / 1000).toFixed(1)} p99 ${(r.latencyUs.p99 / 1000).toFixed(1)} max ${(r.latencyUs.max / 1000).toFixed(1)} ms` : ""),
      );
      checkOutputs(query);
    } catch (e) {
      if (!(e instanceof RunFailed) || !options.keepGoing) throw e;
      failures.push(e.message);
      log(`RUN FAILED (going on): ${e.message}`);
    }
  };

  for (let rep = 1; rep <= options.reps; rep++) {
    for (const query of options.queries) {
      const columns = options.columns.filter((c) => runsQuery(c, query));
      const shift = (rep - 1) % Math.max(1, columns.length);
      for (const column of [...columns.slice(shift), ...columns.slice(0, shift)]) await execute(column, query, "throughput", rep);
    }
  }
  const cells = cellsOf(runs);
  for (const query of options.queries) {
    for (const fraction of options.latencyFractions) {
      for (const column of options.columns) {
        if (!options.latencyColumns.includes(column.name) || !runsQuery(column, query)) continue;
        const cell = cellOf(cells, query, column.name);
        if (cell === undefined) {
          failures.push(`${column.name} ${query}: no throughput measured, so no latency run at ${fraction * 100} %`);
          continue;
        }
        await execute(column, query, "latency", 1, Math.max(1, Math.round(fraction * cell.eventsPerSec.median)));
      }
    }
  }
  const report: Report = {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      java: hasFlink ? spawnSync("java", ["-version"], { encoding: "utf8" }).stderr.split("\n")[0] : undefined,
    },
    date: new Date().toISOString(),
    mode: options.quick ? "quick" : "full",
    command: `npm run bench:nexmark --${process.argv.slice(2).map((a) => ` ${a}`).join("")}`,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    config: {
      queries: options.queries,
      columns: options.columns,
      parallelism: options.parallelism,
      seed: options.seed,
      eventRate: config.firstEventRate,
      warmupMs: options.warmupMs,
      steadyMs: options.steadyMs,
      reps: options.reps,
      checkpointIntervalMs: options.checkpointIntervalMs,
      minCheckpoints: options.minCheckpoints,
      latencyFractions: options.latencyFractions,
      latencyColumns: options.latencyColumns,
      latencyWarmupMs: options.latencyWarmupMs,
      latencySteadyMs: options.latencySteadyMs,
      startupGraceMs: options.startupGraceMs,
      outputCheck: { marginMs: options.marginMs, minCoverage: options.minCoverage },
      baseline: options.baseline ?? null,
    },
    ceilings,
    generatorCheck,
    outputChecks: options.queries.flatMap((q) => {
      const c = outputChecks.get(q);
      return c === undefined ? [] : [c];
    }),
    failures,
    runs,
  };
  console.log(await writeOutputs(report, outDir, readme));
  if (failures.length > 0) {
    log(`\n${failures.length} run(s) broke a rule:\n${failures.map((f) => `- ${f}`).join("\n")}`);
    return 1;
  }
  return 0;
};

const main = async (): Promise<number> => {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseOptions(args);
  } catch (e) {
    log(`${(e as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options.readmeOnly) {
    const report = JSON.parse(await readFile(join(options.out ?? join(root, "bench", "results"), "latest.json"), "utf8")) as Report;
    await writeOutputs(report, options.out ?? join(root, "bench", "results"), true);
    return 0;
  }
  return run(options);
};

try {
  process.exitCode = await main();
} catch (e) {
  // A broken rule (RunFailed, OutputMismatch, StatsFileError, GeneratorMismatch) ends the bench loudly.
  log(`\nbench:nexmark FAILED: ${e instanceof Error ? e.message : String(e)}`);
  if (!(e instanceof Error) || e.constructor === Error || e.constructor === TypeError) console.error(e);
  process.exitCode = 1;
}
