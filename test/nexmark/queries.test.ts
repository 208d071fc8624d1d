/**
 * Every Nexmark query job against its oracle (test/nexmark/oracle.ts: a plain in-memory
 * computation over the same generated events), run in-process at parallelism 1 and 2.
 * The synthetic event rate is lowered so that a small input spans many windows.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEvent, nexmarkConfig, type Event } from "../../connectors/nexmark/index.ts";
import type { JobDefinition } from "../../engine/job.ts";
import { runDefinition } from "../support/run.ts";
import { committedLines } from "../support/weir-process.ts";
import * as oracle from "./oracle.ts";

const EVENTS = 30_000;
const EVENT_RATE = 500; // 60 s of event time: six 10 s windows, thirty sliding ones
const SEED = 7;

let tmp: string;
let events: Event[];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-nexmark-"));
  const config = nexmarkConfig({ seed: SEED, firstEventRate: EVENT_RATE });
  events = Array.from({ length: EVENTS }, (_, n) => generateEvent(config.firstEventId + n, config));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const load = async (query: string): Promise<JobDefinition> => (await import(`../../jobs/nexmark/${query}.ts`)).default as JobDefinition;

const run = async (query: string, parallelism: number, splits = 4): Promise<unknown[]> => {
  const out = join(tmp, `${query}-p${parallelism}-s${splits}`);
  await runDefinition(await load(query), {
    parallelism,
    stateBackend: parallelism === 1 ? "rocksdb" : "heap",
    stateDir: join(tmp, `${query}-p${parallelism}-s${splits}-state`),
    batchSize: 256,
    params: { events: String(EVENTS), eventRate: String(EVENT_RATE), seed: String(SEED), splits: String(splits), out },
  });
  return (await committedLines(out)).map((l) => JSON.parse(l) as unknown);
};

const sorted = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).sort();

/** q4's output is a stream of updates: the last value per category is the result. */
const lastPerCategory = (rows: readonly unknown[]) => {
  const last = new Map<number, number>();
  for (const r of rows as { category: number; avg: number }[]) last.set(r.category, r.avg);
  return new Map([...last].sort((a, b) => a[0] - b[0]));
};

const queries = [
  { query: "q0", expected: () => oracle.q0(events), min: 20_000 },
  { query: "q1", expected: () => oracle.q1(events), min: 20_000 },
  { query: "q2", expected: () => oracle.q2(events), min: 50 },
  { query: "q3", expected: () => oracle.q3(events), min: 50 },
  { query: "q5", expected: () => oracle.q5(events), min: 10 },
  { query: "q7", expected: () => oracle.q7(events), min: 3 },
  { query: "q8", expected: () => oracle.q8(events), min: 50 },
  { query: "qhc", expected: () => oracle.qhc(events), min: 5_000 },
];

describe.each([1, 2])("Nexmark queries at parallelism %i equal their oracles", (parallelism) => {
  it.each(queries)("$query", async ({ query, expected, min }) => {
    const want = expected();
    expect(want.length).toBeGreaterThanOrEqual(min);
    expect(sorted(await run(query, parallelism))).toEqual(sorted(want));
  }, 60_000);

  it("q4 (last average per category)", async () => {
    const want = new Map([...oracle.q4(events)].sort((a, b) => a[0] - b[0]));
    expect(want.size).toBe(5);
    expect(lastPerCategory(await run("q4", parallelism))).toEqual(want);
  }, 60_000);
});
