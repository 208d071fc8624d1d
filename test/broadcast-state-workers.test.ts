/**
 * Broadcast state as a user meets it through `weir run`: subtasks on worker threads, SIGKILL once
 * every subtask's rules are in committed output, then a resume at parallelism 3: the rules are not
 * sent again, yet every event after the resume sees its rule (every new subtask restored the
 * broadcast state), keyed state continues, and every event is committed exactly once.
 */
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, runOrKill, runUntil } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-broadcast-workers-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

type Line = { seq: number; user: string; limit: number | null; count: number } | { rule: string; subtask: number };
const parse = (lines: readonly string[]) => lines.map((l) => JSON.parse(l) as Line);
const committedFiles = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith("."));
const linesOf = async (dir: string, files: readonly string[]) => {
  const out: string[] = [];
  for (const f of files) out.push(...(await readFile(join(dir, f), "utf8")).split("\n").filter((l) => l.length > 0));
  return out;
};

describe("broadcast state across worker threads, SIGKILL and a rescale", () => {
  it("restores the rules into every subtask at parallelism 3 after a kill at parallelism 2", async () => {
    const out = join(tmp, "out");
    const chk = join(tmp, "chk");
    const args = (parallelism: number) => [
      "run",
      "test/fixtures/broadcast-rules-job.ts",
      "--parallelism",
      String(parallelism),
      "--workers",
      "2",
      "--checkpoint-interval",
      "200ms",
      "--checkpoint-dir",
      chk,
      "--param",
      `out=${out}`,
      "--no-progress",
    ];
    // Killed once both subtasks' rule applications are committed (so the checkpoint restored holds them).
    const killed = await runUntil(args(2), async () => parse(await committedLines(out)).filter((l) => "rule" in l).length === 6);
    expect(killed.killedByUs, killed.stderr).toBe(true);
    const before = new Set(await committedFiles(out));
    const first = parse(await committedLines(out));
    expect(first.filter((l) => "seq" in l).length).toBeLessThan(8_000);

    const resumed = await runOrKill(args(3));
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = parse(await linesOf(out, (await committedFiles(out)).filter((f) => !before.has(f))));
    expect(after.filter((l) => "rule" in l)).toEqual([]);
    const events = after.filter((l): l is Extract<Line, { seq: number }> => "seq" in l);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.limit).toBe(((e.seq % 2_000) % 3 + 1) * 10);

    const all = parse(await committedLines(out)).filter((l): l is Extract<Line, { seq: number }> => "seq" in l);
    expect(all.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 8_000 }, (_, k) => k));
    const counts = new Map<string, number[]>();
    for (const e of all) counts.set(e.user, [...(counts.get(e.user) ?? []), e.count]);
    for (const cs of counts.values()) expect(cs.sort((a, b) => a - b)).toEqual(cs.map((_, i) => i + 1));
  }, 120_000);
});
