/**
 * `weir run` errors about paths, end to end (a real child process): an input, checkpoint, state
 * or output directory that cannot be used is a user error — one line naming the path and what to
 * do, exit 1, no stack trace, and no restart (a restart would fail the same way). An unclassified
 * error prints its stack trace only with WEIR_DEBUG set.
 */
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOrKill, type Exit } from "./support/weir-process.ts";

let tmp: string;
/** A regular file: any path under it cannot be created (ENOTDIR). */
let file: string;
/** A directory nothing can be written into (a read-only mount when running as root). */
let readOnly: string;
let mounted = false;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-cli-errors-"));
  file = join(tmp, "a-file");
  await writeFile(file, "not a directory\n");
  readOnly = join(tmp, "read-only");
  await mkdir(readOnly);
  if (process.getuid?.() === 0) {
    // chmod does not stop root: use a real read-only file system.
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro", "tmpfs", readOnly]);
    mounted = true;
  } else {
    await chmod(readOnly, 0o555);
  }
});

afterAll(async () => {
  if (mounted) execFileSync("umount", [readOnly]);
  await rm(tmp, { recursive: true, force: true });
});

const input = () => join(tmp, "input.txt");

/** word-count with a readable input, fresh output/checkpoint/state paths, and `extra` overriding them. */
const wordCount = async (name: string, extra: readonly string[]): Promise<Exit> => {
  await writeFile(input(), "a b a\n");
  const flags: Record<string, string> = {
    "--checkpoint-dir": join(tmp, `${name}-chk`),
    "--state-dir": join(tmp, `${name}-state`),
  };
  const params: Record<string, string> = { input: input(), out: join(tmp, `${name}-out`) };
  const rest: string[] = [];
  for (let i = 0; i < extra.length; i += 2) {
    const [key, value] = [extra[i]!, extra[i + 1]!];
    if (key === "--param") params[value.slice(0, value.indexOf("="))] = value.slice(value.indexOf("=") + 1);
    else if (key in flags) flags[key] = value;
    else rest.push(key, value);
  }
  // Killed (and so failing the test) if it hangs: Node's recursive mkdir used to spin forever on /proc.
  return runOrKill(
    [
      "run",
      "jobs/word-count.ts",
      "--no-progress",
      "--restart-delay",
      "100ms",
      ...Object.entries(flags).flat(),
      ...Object.entries(params).flatMap(([k, v]) => ["--param", `${k}=${v}`]),
      ...rest,
    ],
    45_000,
  );
};

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

/** Exit 1 with exactly one stderr line (so: no restart line, no stack trace) containing each of `parts`. */
const expectOneLineFailure = (exit: Exit, parts: readonly string[]) => {
  expect(exit.code, exit.stderr).toBe(1);
  expect(exit.stderr).not.toContain("restarting");
  expect(exit.stderr).not.toMatch(/^\s+at /m);
  const [line, ...more] = lines(exit.stderr);
  expect(more, exit.stderr).toEqual([]);
  for (const part of parts) expect(line).toContain(part);
  expect(line).toContain("jobs/word-count.ts");
};

describe("paths weir run cannot use are user errors: one line, exit 1, not retried", () => {
  it("an input path under a regular file names the input (INPUT_UNREADABLE)", async () => {
    const bad = join(file, "nope.jsonl");
    const exit = await wordCount("input-enotdir", ["--param", `input=${bad}`]);
    expectOneLineFailure(exit, [`cannot read input ${bad}`, "not a directory", "check the path", "INPUT_UNREADABLE"]);
  });

  it("a missing input names it (INPUT_NOT_FOUND)", async () => {
    const exit = await wordCount("input-missing", ["--param", `input=${join(tmp, "nope.jsonl")}`]);
    expectOneLineFailure(exit, [join(tmp, "nope.jsonl"), "INPUT_NOT_FOUND"]);
  });

  it("a checkpoint directory on a read-only file system names it and --checkpoint-dir", async () => {
    const exit = await wordCount("chk-ro", ["--checkpoint-dir", join(readOnly, "chk")]);
    expectOneLineFailure(exit, [
      `cannot create the checkpoint directory ${join(readOnly, "chk", "word-count")}`,
      mounted ? "read-only file system" : "permission denied",
      "pass a writable --checkpoint-dir",
      "CHECKPOINT_DIR_UNWRITABLE",
    ]);
  });

  it("a checkpoint directory under a regular file names it and --checkpoint-dir", async () => {
    const exit = await wordCount("chk-enotdir", ["--checkpoint-dir", join(file, "chk")]);
    expectOneLineFailure(exit, [join(file, "chk", "word-count"), "not a directory", "--checkpoint-dir", "CHECKPOINT_DIR_UNWRITABLE"]);
  });

  it("a state directory under a regular file names it and --state-dir", async () => {
    const exit = await wordCount("state-enotdir", ["--state-dir", join(file, "state")]);
    expectOneLineFailure(exit, [`cannot create the state directory ${join(file, "state")}`, "--state-dir", "STATE_DIR_UNWRITABLE"]);
  });

  it("an output directory under a regular file names it and the sink (no doubled prefix)", async () => {
    const exit = await wordCount("out-enotdir", ["--param", `out=${join(file, "out")}`]);
    expectOneLineFailure(exit, [`cannot create the output directory ${join(file, "out")}`, "operator 'counts'", "OUTPUT_DIR_UNWRITABLE"]);
    expect(exit.stderr).not.toMatch(/failed: .*failed:/);
  });

  it("an output directory the file system refuses (/proc) fails at once instead of spinning", async () => {
    const exit = await wordCount("out-proc", ["--param", "out=/proc/weir-test-out"]);
    expectOneLineFailure(exit, ["cannot create the output directory /proc/weir-test-out", "OUTPUT_DIR_UNWRITABLE"]);
  });

  it("an existing read-only output directory names it when the first part file is opened", async () => {
    const exit = await wordCount("out-ro", ["--param", `out=${readOnly}`]);
    expectOneLineFailure(exit, [`cannot write to the output directory ${readOnly}`, "operator 'counts'", "OUTPUT_DIR_UNWRITABLE"]);
  });
});

describe("an unclassified error", () => {
  const broken = (env: Record<string, string>, attempts: string) =>
    runOrKill(
      ["run", "test/fixtures/broken-sink-job.ts", "--no-progress", "--restart-attempts", attempts, "--restart-delay", "100ms", "--checkpoint-dir", join(tmp, "broken-chk")],
      undefined,
      env,
    );

  it("is one line without a stack trace, saying how to get one; its restart line has no doubled prefix", async () => {
    const exit = await broken({ WEIR_DEBUG: "" }, "1");
    expect(exit.code, exit.stderr).toBe(1);
    expect(exit.stderr).not.toMatch(/^\s+at /m);
    const out = lines(exit.stderr);
    expect(out, exit.stderr).toHaveLength(2);
    expect(out[0]).toBe(
      "weir: job 'broken-sink' failed: unexpected error: the broken sink cannot start (on purpose) (JOB_FAILED); restarting from the latest checkpoint in 100ms (restart 1 of 1)",
    );
    expect(out[1]).toContain("unexpected error: the broken sink cannot start (on purpose)");
    expect(out[1]).toContain("test/fixtures/broken-sink-job.ts");
    expect(out[1]).toContain("(JOB_FAILED); WEIR_DEBUG=1 prints the stack trace");
  });

  it("prints its stack trace and its cause's with WEIR_DEBUG=1", async () => {
    const exit = await broken({ WEIR_DEBUG: "1" }, "0");
    expect(exit.code, exit.stderr).toBe(1);
    expect(exit.stderr).toMatch(/^\s+at /m);
    expect(exit.stderr).toMatch(/^caused by: Error: the broken sink cannot start \(on purpose\)$/m);
  });
});
