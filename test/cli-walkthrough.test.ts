/**
 * The README's crash-and-resume walk-through, run as written, and the behaviour it relies on:
 * a finished job asked to run with other parameters says so; `npx weir run` stops (with a
 * checkpoint) when its npm process is killed instead of running on orphaned.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasCompletedCheckpoint, repoRoot, runOrKill } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-walkthrough-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const waitFor = async (condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> => {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("README walk-through", () => {
  it("'Checkpoints and recovery' pasted into bash in order ends with identical output", async () => {
    const readme = await readFile(join(repoRoot, "README.md"), "utf8");
    const block = /<!-- walk-through:[^\n]*-->\n```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block, "README.md has no walk-through block").toBeDefined();
    const written = ["out/crash", "out/straight", ".weir/crash", ".weir/straight"].map((p) => join(repoRoot, p));
    try {
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
        execFile("bash", ["-c", block!], { cwd: repoRoot, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
          done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr }),
        ),
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/resuming 'account-totals' from checkpoint \d+/);
      expect(result.stdout).toContain("2000000\nidentical\n");
    } finally {
      for (const p of written) await rm(p, { recursive: true, force: true });
    }
  }, 300_000);
});

describe("a finished job asked to run with other parameters", () => {
  it("says which parameters were not used and how to run it anew", async () => {
    const input = join(tmp, "lines.txt");
    await writeFile(input, "a b a\n");
    const chk = join(tmp, "finished-chk");
    const args = (out: string) => ["run", "jobs/word-count.ts", "--no-progress", "--checkpoint-dir", chk, "--param", `input=${input}`, "--param", `out=${out}`];
    const first = await runOrKill(args(join(tmp, "out-1")));
    expect(first.code, first.stderr).toBe(0);
    const second = await runOrKill(args(join(tmp, "out-2")));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr.trim().split("\n")).toHaveLength(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `job 'word-count' already finished \\(final checkpoint \\d+, [^)]+\\) with other parameters, so these were not used: out=${join(tmp, "out-2")} \\(was ${join(tmp, "out-1")}\\)\\. Run with --fresh to run it anew with them\\.`,
      ),
    );
    const same = await runOrKill(args(join(tmp, "out-1")));
    expect(same.stderr).toContain("nothing to do. Run with --fresh to run it again.");
  });
});

describe("npx weir run whose npm process is killed", () => {
  it("stops with a checkpoint (as on SIGTERM) instead of running on orphaned", async () => {
    const chk = join(tmp, "npx-chk");
    const lock = join(chk, "account-totals", ".lock");
    // ~10 minutes of input: only a stop can end it within the test.
    const npx = spawn(
      "npx",
      ["weir", "run", "jobs/account-totals.ts", "--param", "events=30000000", "--param", "rate=50000", "--param", `out=${join(tmp, "npx-out")}`, "--checkpoint-dir", chk, "--checkpoint-interval", "500ms", "--no-progress"],
      { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    npx.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const stderrClosed = new Promise<void>((r) => npx.stderr!.on("close", () => r()));
    let weirPid: number | undefined;
    try {
      expect(await waitFor(hasCompletedCheckpoint(chk, "account-totals"), 120_000), stderr).toBe(true);
      weirPid = Number(await readFile(lock, "utf8"));
      expect(weirPid).not.toBe(npx.pid);
      npx.kill("SIGKILL");
      // A graceful stop releases the job's lock; a SIGKILLed or still running weir would keep it.
      const released = await waitFor(() => stat(lock).then(() => false, () => true), 60_000);
      expect(released, stderr).toBe(true);
      await stderrClosed;
      expect(stderr).toMatch(new RegExp(`the npm process that started weir \\(pid ${npx.pid}\\) is gone: stopping 'account-totals' with a final checkpoint`));
      expect(stderr).toMatch(/'account-totals' stopped after [\d.]+s at checkpoint \d+: run the same command again to resume/);
      expect(await waitFor(async () => !alive(weirPid!), 10_000)).toBe(true);
    } finally {
      npx.kill("SIGKILL");
      if (weirPid !== undefined && alive(weirPid)) process.kill(weirPid, "SIGKILL");
    }
  }, 240_000);
});
