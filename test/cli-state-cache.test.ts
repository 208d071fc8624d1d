/**
 * `--state-cache-cells` limits the keyed-state cache of a real `weir run` (a child process): with
 * a cache far smaller than the job's keys the metrics file (`WEIR_METRICS_FILE`) shows evictions
 * and more misses than there are keys (evicted keys are read back), with the default cache none;
 * and the committed output is the same either way.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const repoRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));

interface StateCache {
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly evictionWrites: number;
}

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-cache-"));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const EVENTS = 6_000;
const ACCOUNTS = 1_000;

/** Runs account-totals with `extra` flags; resolves with the metrics file's cache counters and the committed lines. */
const runTotals = (name: string, extra: readonly string[]): Promise<{ stateCache: StateCache; sinkRecords: number; lines: string[] }> =>
  new Promise((done, fail) => {
    const dir = join(tmp, name);
    const metricsFile = join(tmp, `${name}.json`);
    const args = [
      "bin/weir.mjs",
      "run",
      "jobs/account-totals.ts",
      "--fresh",
      "--no-progress",
      "--param",
      `events=${EVENTS}`,
      "--param",
      `accounts=${ACCOUNTS}`,
      "--param",
      `out=${join(dir, "out")}`,
      "--checkpoint-dir",
      join(dir, "checkpoints"),
      "--state-dir",
      join(dir, "state"),
      "--batch-size",
      "100",
      ...extra,
    ];
    execFile(process.execPath, args, { cwd: repoRoot, env: { ...process.env, WEIR_METRICS_FILE: metricsFile, NO_COLOR: "1" }, timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error !== null) {
        fail(new Error(`weir ${args.slice(1).join(" ")} failed: ${error.message}\n${stderr}`));
        return;
      }
      void (async () => {
        const metrics = JSON.parse(await readFile(metricsFile, "utf8")) as { stateCache: StateCache; sinkRecords: number };
        const out = join(dir, "out");
        const lines: string[] = [];
        for (const file of (await readdir(out)).filter((n) => !n.startsWith(".")).sort()) {
          lines.push(...(await readFile(join(out, file), "utf8")).split("\n").filter((l) => l !== ""));
        }
        return { stateCache: metrics.stateCache, sinkRecords: metrics.sinkRecords, lines };
      })().then(done, fail);
    });
  });

describe("weir run --state-cache-cells", () => {
  test("a small cache evicts and reads keys back; the default cache holds every key; the output is the same", async () => {
    const [small, full] = await Promise.all([runTotals("small", ["--state-cache-cells", "64"]), runTotals("default", [])]);
    expect(full.sinkRecords).toBe(EVENTS);
    expect(small.sinkRecords).toBe(EVENTS);
    // Default: every account is read from RocksDB at most once (it starts empty), nothing evicted.
    expect(full.stateCache.evictions).toBe(0);
    expect(full.stateCache.evictionWrites).toBe(0);
    expect(full.stateCache.misses).toBeGreaterThan(0);
    expect(full.stateCache.misses).toBeLessThanOrEqual(ACCOUNTS);
    // 64 cells for 1,000 accounts: accounts are evicted, written, and read again.
    expect(small.stateCache.evictions).toBeGreaterThan(ACCOUNTS);
    expect(small.stateCache.evictionWrites).toBeGreaterThan(0);
    expect(small.stateCache.misses).toBeGreaterThan(ACCOUNTS);
    expect([...small.lines].sort()).toEqual([...full.lines].sort());
    expect(small.lines).toHaveLength(EVENTS);
  });
});
