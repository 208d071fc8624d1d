/**
 * A damaged latest checkpoint, as a user meets it: a real run is SIGKILLed after its third
 * checkpoint, then one state file of that checkpoint is truncated (or has one byte flipped). The
 * next `weir run` must detect it from the sizes and checksums in `_metadata` before restoring
 * anything, say so in one line naming the file, set it aside as `chk-<n>.corrupt` and resume
 * from the previous checkpoint (no restart loop), with exactly-once output. `--from` the damaged
 * checkpoint is a user error naming the file.
 */
import { mkdtemp, open, readdir, rm, stat, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { committedLines, repoRoot, runOrKill, accountTotalsArgs } from "./support/weir-process.ts";

const JOB = "account-totals";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-damaged-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const args = accountTotalsArgs;

const inspect = (path: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(process.execPath, ["bin/weir.mjs", "checkpoints", "inspect", path], { cwd: repoRoot }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : (error.code as number), stdout, stderr }),
    ),
  );

/** An SST file of checkpoint `id` that checkpoint `id - 1` does not share (a new inode). */
const newSstOf = async (checkpoints: string, id: number): Promise<string> => {
  const dirOf = (n: number) => join(checkpoints, JOB, `chk-${n}`, "running-total", "0");
  const before = new Set<number>();
  for (const name of await readdir(dirOf(id - 1))) before.add((await stat(join(dirOf(id - 1), name))).ino);
  for (const name of (await readdir(dirOf(id))).sort()) {
    const path = join(dirOf(id), name);
    if (name.endsWith(".sst") && !before.has((await stat(path)).ino)) return path;
  }
  throw new Error(`checkpoint ${id} has no SST file of its own`);
};

const flipByte = async (path: string): Promise<void> => {
  const size = (await stat(path)).size;
  const handle = await open(path, "r+");
  try {
    const at = Math.floor(size / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
};

describe("a damaged latest checkpoint", () => {
  let expected: string[];

  beforeAll(async () => {
    const straightOut = join(tmp, "expected");
    const straight = await runOrKill(args(straightOut, join(tmp, "expected-chk"), ["--checkpoint-interval", "off"]));
    expect(straight.code, straight.stderr).toBe(0);
    expected = await committedLines(straightOut);
  }, 120_000);

  /**
   * A run SIGKILLed right after its 3rd checkpoint's metadata is written (before its transactions
   * commit), then `damage` done to an SST of that checkpoint that the one before does not share.
   * (Each test has its own run: the sink's pending transactions name their files by absolute path.)
   */
  const damagedRun = async (name: string, damage: (path: string) => Promise<void>) => {
    const out = join(tmp, name);
    const checkpoints = join(tmp, `${name}-chk`);
    const died = await runOrKill(args(out, checkpoints), undefined, { WEIR_FAILPOINT: "after-metadata@3" });
    expect(died.signal, died.stderr).toBe("SIGKILL");
    const ids = (await readdir(join(checkpoints, JOB))).filter((n) => /^chk-\d+$/.test(n)).map((n) => Number(n.slice(4)));
    const latest = Math.max(...ids);
    expect(latest).toBeGreaterThanOrEqual(2);
    const sst = await newSstOf(checkpoints, latest);
    await damage(sst);
    return { out, checkpoints, sst, latest };
  };

  const fallsBack = async (name: string, damage: (path: string) => Promise<void>, problem: RegExp) => {
    const { out, checkpoints, sst, latest } = await damagedRun(name, damage);
    const resumed = await runOrKill(args(out, checkpoints));
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = resumed.stderr.split("\n");
    const said = lines.filter((l) => l.includes(`checkpoint ${latest} is damaged`));
    expect(said, resumed.stderr).toHaveLength(1);
    expect(said[0]).toContain(sst.replace(`${join(checkpoints, JOB)}/`, ""));
    expect(said[0]).toMatch(problem);
    expect(said[0]).toContain(`set aside as chk-${latest}.corrupt`);
    expect(resumed.stderr).not.toContain("restarting");
    expect(resumed.stderr).not.toContain("STATE_RESTORE_FAILED");
    expect(resumed.stderr).toMatch(new RegExp(`resuming '${JOB}' from checkpoint ${latest - 1}\\b`));
    // The previous checkpoint's state was restored: the running totals continue exactly once.
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
    expect(await readdir(join(checkpoints, JOB))).toContain(`chk-${latest}.corrupt`);
  };

  it("truncated SST: falls back to the previous checkpoint at once, saying which file is damaged", async () => {
    await fallsBack("truncated", (path) => truncate(path, 100), /has 100 bytes, \d+ recorded/);
  }, 120_000);

  it("one flipped byte in an SST: falls back to the previous checkpoint at once, naming the file", async () => {
    await fallsBack("flipped", flipByte, /does not match its recorded checksum/);
  }, 120_000);

  it("--from a damaged checkpoint is a user error naming the file, and nothing runs", async () => {
    const { out, checkpoints, sst, latest } = await damagedRun("from-damaged", flipByte);
    const before = await committedLines(out);
    const run = await runOrKill(args(out, checkpoints, ["--from", join(checkpoints, JOB, `chk-${latest}`)]));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain("CHECKPOINT_CORRUPT");
    expect(run.stderr).toContain(sst);
    expect(run.stderr).toContain("run with --fresh");
    expect(run.stderr).not.toContain("restarting");
    expect(await committedLines(out)).toEqual(before);
  }, 120_000);

  it("weir checkpoints inspect shows each state file's checksum, the states' fingerprints, and damage", async () => {
    const { checkpoints, sst, latest } = await damagedRun("inspected", (path) => truncate(path, 100));
    const damaged = await inspect(join(checkpoints, JOB, `chk-${latest}`));
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.stdout).toContain(`state files: DAMAGED: checkpoint ${latest} is damaged: state file of 'running-total' ${sst} has 100 bytes`);
    const intact = await inspect(join(checkpoints, JOB, `chk-${latest - 1}`));
    expect(intact.stdout).toContain("    states: total (value number), __timers (timers)");
    expect(intact.stdout).toMatch(/\n {4}\d+\.sst \d+ B sha256 [0-9a-f]{64}\n/);
    expect(intact.stdout).toContain("state files: sizes and checksums verified");
  }, 120_000);
});
