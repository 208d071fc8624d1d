/**
 * Reading the statistics files of a run (`<prefix>.<unique>.json`, NEXMARK-SPEC §2–3): every file
 * is validated field by field (a missing or malformed file fails loudly, naming the file and the
 * field: the Flink side is a separate program and must not be trusted to get it right), then all
 * files of the run are merged: counts and digests added per bucket, histograms merged, split
 * ends and checkpoints united.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { emptyLatency, mergeBuckets, mergeLatency, type BucketsJson, type LatencyJson, type StatsFile } from "../../connectors/nexmark/stats/index.ts";
import type { Samples } from "./steady.ts";

export class StatsFileError extends Error {}

const fail = (where: string, what: string): never => {
  throw new StatsFileError(`malformed stats file ${where}: ${what}`);
};

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isCount = (v: unknown): v is number => isNum(v) && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isPairs = (v: unknown): v is [number, number][] => Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && isNum(p[0]) && isNum(p[1]));

/** Validates a parsed stats file; `where` names it in errors. */
export const validateStats = (v: unknown, where: string): StatsFile => {
  if (!isObject(v)) return fail(where, "not a JSON object");
  if (v["system"] !== "weir" && v["system"] !== "flink") fail(where, `system is ${JSON.stringify(v["system"])}, expected "weir" or "flink"`);
  if (typeof v["query"] !== "string") fail(where, "query is not a string");
  if (v["firstEventAtMs"] !== null && !isNum(v["firstEventAtMs"])) fail(where, "firstEventAtMs is neither a number nor null");
  if (!isPairs(v["samples"]) || v["samples"].length === 0) fail(where, "samples is not a non-empty list of [epochMs, events]");
  const splitsEnd = v["splitsEnd"];
  if (!isObject(splitsEnd) || Object.entries(splitsEnd).some(([k, n]) => !/^\d+$/.test(k) || !isCount(n))) fail(where, "splitsEnd is not a map of split number to count");
  const buckets = v["buckets"];
  if (!isObject(buckets)) return fail(where, "buckets is not an object");
  for (const [b, x] of Object.entries(buckets)) {
    if (!/^-?\d+$/.test(b)) fail(where, `bucket key ${JSON.stringify(b)} is not an integer`);
    if (!isObject(x) || !isCount(x["count"]) || typeof x["digest"] !== "string" || !/^[0-9a-f]{16}$/.test(x["digest"])) {
      fail(where, `bucket ${b} is not { count, digest: 16 lowercase hex digits }`);
    }
  }
  const lat = v["latencyUs"];
  if (!isObject(lat) || !isCount(lat["count"]) || !isNum(lat["p50"]) || !isNum(lat["p99"]) || !isNum(lat["max"]) || !isPairs(lat["histogram"])) {
    return fail(where, "latencyUs is not { count, p50, p99, max, histogram: [[upperBoundUs, count], ...] }");
  }
  const histogramTotal = (lat["histogram"] as [number, number][]).reduce((a, [, c]) => a + c, 0);
  if (histogramTotal !== lat["count"]) fail(where, `latencyUs.count ${String(lat["count"])} is not the histogram's total ${histogramTotal}`);
  const checkpoints = v["checkpoints"];
  if (!Array.isArray(checkpoints) || checkpoints.some((c) => !isObject(c) || !isCount(c["id"]) || !isNum(c["completedAtMs"]))) {
    fail(where, "checkpoints is not a list of { id, completedAtMs }");
  }
  if (!isCount(v["outputRows"])) fail(where, "outputRows is not a whole number");
  return v as unknown as StatsFile;
};

/** The files of a run: `<prefix>.<anything>.json` beside the prefix. */
export const statsFilesOf = (prefix: string): string[] => {
  const dir = dirname(prefix);
  const base = `${basename(prefix)}.`;
  return readdirSync(dir)
    .filter((n) => n.startsWith(base) && n.endsWith(".json"))
    .sort()
    .map((n) => join(dir, n));
};

/** All files of a run merged. */
export interface RunStats {
  readonly system: "weir" | "flink";
  readonly query: string;
  readonly files: number;
  readonly firstEventAtMs: number | null;
  /** Each file's samples (a sampled counter per process). */
  readonly sampleSeries: readonly Samples[];
  readonly splitsEnd: Readonly<Record<string, number>>;
  readonly buckets: BucketsJson;
  readonly latencyUs: LatencyJson;
  readonly checkpoints: readonly { readonly id: number; readonly completedAtMs: number }[];
  readonly outputRows: number;
}

export const mergeStats = (files: readonly StatsFile[], where: string): RunStats => {
  if (files.length === 0) throw new StatsFileError(`no stats file ${where}`);
  const first = files[0]!;
  const splitsEnd: Record<string, number> = {};
  const checkpoints = new Map<number, number>();
  let buckets: BucketsJson = {};
  let latency: LatencyJson = emptyLatency;
  let firstEventAtMs: number | null = null;
  let outputRows = 0;
  for (const f of files) {
    if (f.system !== first.system || f.query !== first.query) {
      throw new StatsFileError(`stats files ${where} disagree: ${first.system}/${first.query} and ${f.system}/${f.query}`);
    }
    for (const [k, n] of Object.entries(f.splitsEnd)) {
      if (k in splitsEnd) throw new StatsFileError(`stats files ${where}: split ${k} is reported by two files`);
      splitsEnd[k] = n;
    }
    for (const c of f.checkpoints) checkpoints.set(c.id, Math.min(checkpoints.get(c.id) ?? Infinity, c.completedAtMs));
    buckets = mergeBuckets(buckets, f.buckets);
    latency = mergeLatency(latency, f.latencyUs);
    if (f.firstEventAtMs !== null) firstEventAtMs = Math.min(firstEventAtMs ?? Infinity, f.firstEventAtMs);
    outputRows += f.outputRows;
  }
  return {
    system: first.system,
    query: first.query,
    files: files.length,
    firstEventAtMs,
    sampleSeries: files.map((f) => f.samples),
    splitsEnd,
    buckets,
    latencyUs: latency,
    checkpoints: [...checkpoints].sort((a, b) => a[0] - b[0]).map(([id, completedAtMs]) => ({ id, completedAtMs })),
    outputRows,
  };
};

/** Reads, validates and merges every stats file of `prefix`; fails loudly if there is none. */
export const readRunStats = (prefix: string): RunStats => {
  const paths = statsFilesOf(prefix);
  if (paths.length === 0) throw new StatsFileError(`no stats file ${prefix}.*.json was written`);
  const files = paths.map((p) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(p, "utf8"));
    } catch (e) {
      throw new StatsFileError(`malformed stats file ${p}: not JSON (${(e as Error).message})`);
    }
    return validateStats(parsed, p);
  });
  return mergeStats(files, `${prefix}.*.json`);
};
