/**
 * Changed state declarations, as a user meets them: a real run of a job is SIGKILLed after its
 * third checkpoint, then the job file is edited and run again. A value state changed from
 * `number` to `{ sum }`, or to a list state, or given a TTL, must be refused before anything runs (nothing
 * committed, not even the pending transactions of the restored checkpoint), naming the job file,
 * operator, state, and old vs new declaration. The unchanged job, and the job with a new state
 * added beside the old one, resume with exactly-once output.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, repoRoot, runOrKill } from "./support/weir-process.ts";

const JOB = "changing-state";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-state-compat-"));
  await mkdir(join(tmp, "jobs"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A running total per account (as jobs/account-totals.ts) with the given state declaration and update. */
const jobSource = (state: string, update: string) => `
import { job, toFiles, valueState, listState, type Collector } from ${JSON.stringify(join(repoRoot, "index.ts"))};
import { transactions } from ${JSON.stringify(join(repoRoot, "jobs", "account-totals.ts"))};

export default job(${JSON.stringify(JOB)}, (env) => {
  env
    .source(transactions({ events: 30_000, accounts: 200, splits: 4, seed: 42, rate: 15_000 }))
    .keyBy((t) => t.account)
    .process(
      {
        state: ${state},
        processElement(t, ctx, out: Collector<{ account: number; total: number }>) {
          ${update}
          out.collect({ account: ctx.key, total });
        },
      },
      { name: "running-total" },
    )
    .sink(toFiles(env.params.get("out", "")), { name: "totals" });
});
`;

const VARIANTS = {
  original: jobSource("{ total: valueState(0) }", "const total = ctx.state.total.value() + t.amount; ctx.state.total.update(total);"),
  toObject: jobSource(
    "{ total: valueState({ sum: 0 }) }",
    "const total = ctx.state.total.value().sum + t.amount; ctx.state.total.update({ sum: total });",
  ),
  toList: jobSource(
    "{ total: listState<number>() }",
    "const total = (ctx.state.total.get()[0] ?? 0) + t.amount; ctx.state.total.update([total]);",
  ),
  // The same state with a TTL switched on: its stored form changes (each value gets a time).
  withTtl: jobSource('{ total: valueState(0, { ttl: "1h" }) }', "const total = ctx.state.total.value() + t.amount; ctx.state.total.update(total);"),
  // A state added beside the old one; "count" sorts before "total", so it must not take total's place.
  added: jobSource(
    "{ count: valueState(0), total: valueState(0) }",
    "ctx.state.count.update(ctx.state.count.value() + 1); const total = ctx.state.total.value() + t.amount; ctx.state.total.update(total);",
  ),
} as const;

type Variant = keyof typeof VARIANTS;

const jobFile = async (variant: Variant): Promise<string> => {
  const path = join(tmp, "jobs", `${variant}.ts`);
  await writeFile(path, VARIANTS[variant]);
  return path;
};

const args = async (variant: Variant, out: string, checkpoints: string, extra: string[] = []) => [
  "run",
  await jobFile(variant),
  "--param",
  `out=${out}`,
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "200ms",
  "--no-progress",
  ...extra,
];

describe("resuming after the job's state declarations changed", () => {
  let expected: string[];

  beforeAll(async () => {
    const straightOut = join(tmp, "expected");
    const straight = await runOrKill(await args("original", straightOut, join(tmp, "expected-chk"), ["--checkpoint-interval", "off"]));
    expect(straight.code, straight.stderr).toBe(0);
    expected = await committedLines(straightOut);
  }, 120_000);

  /**
   * Runs the original job until it is SIGKILLed right after its 3rd checkpoint (before that
   * checkpoint's transactions commit), then runs `variant` on the same output and checkpoints.
   * (Each test has its own: the sink's pending transactions name their files by absolute path.)
   */
  const resumeAs = async (variant: Variant) => {
    const out = join(tmp, `out-${variant}`);
    const checkpoints = join(tmp, `chk-${variant}`);
    const died = await runOrKill(await args("original", out, checkpoints), undefined, { WEIR_FAILPOINT: "after-metadata@3" });
    expect(died.signal, died.stderr).toBe("SIGKILL");
    const listing = async () => (await readdir(join(checkpoints, JOB))).filter((n) => n !== ".lock").sort();
    const before = { lines: await committedLines(out), files: (await readdir(out)).sort(), checkpoints: await listing() };
    const file = join(tmp, "jobs", `${variant}.ts`);
    const exit = await runOrKill(await args(variant, out, checkpoints));
    return { exit, out, before, file, listing };
  };

  const refused = async (variant: Variant, change: string) => {
    const { exit, out, before, file, listing } = await resumeAs(variant);
    expect(exit.code, exit.stderr).toBe(1);
    const line = exit.stderr.split("\n").find((l) => l.includes("STATE_INCOMPATIBLE"));
    expect(line, exit.stderr).toBeDefined();
    expect(line).toContain(`state 'total' of operator 'running-total' was ${change}`);
    expect(line).toContain(file);
    expect(line).toContain("--fresh");
    expect(exit.stderr).not.toContain("restarting");
    // Refused before anything ran: no transaction committed or aborted, no checkpoint taken.
    expect(await committedLines(out)).toEqual(before.lines);
    expect((await readdir(out)).sort()).toEqual(before.files);
    expect(await listing()).toEqual(before.checkpoints);
  };

  it("refuses a value state changed from number to { sum }, naming operator, state and both shapes", async () => {
    await refused("toObject", "value number, is now value {sum:number}");
  }, 120_000);

  it("refuses a value state changed to a list state", async () => {
    await refused("toList", "value number, is now list");
  }, 120_000);

  it("refuses a state whose TTL was switched on, as Flink does", async () => {
    await refused("withTtl", "value number, is now value number (ttl 1h) (a ttl of 1h was added");
  }, 120_000);

  it("resumes the unchanged job exactly once", async () => {
    const { exit, out } = await resumeAs("original");
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toMatch(/resuming 'changing-state' from checkpoint 3\b/);
    expect([...(await committedLines(out))].sort()).toEqual([...expected].sort());
  }, 120_000);

  it("resumes a job with a state added: the old state keeps its values, the new one starts empty", async () => {
    const { exit, out } = await resumeAs("added");
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toMatch(/resuming 'changing-state' from checkpoint 3\b/);
    expect([...(await committedLines(out))].sort()).toEqual([...expected].sort());
  }, 120_000);
});
