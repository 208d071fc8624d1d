import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { takePidLock } from "./pid-lock.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "weir-pid-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real other process that stays alive until killed. */
const otherProcess = () => {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  const exited = new Promise<void>((done) => child.on("exit", () => done()));
  return { pid: child.pid!, stop: async () => (child.kill("SIGKILL"), await exited) };
};

test("held while another live process holds it (reporting its pid and details); taken over once that process is gone", async () => {
  const path = join(dir, "lock");
  const other = otherProcess();
  try {
    await writeFile(path, JSON.stringify({ pid: other.pid, job: "j" }));
    expect(await takePidLock(path, { job: "mine" })).toEqual({ kind: "held", holder: { pid: other.pid, details: { job: "j" } } });
  } finally {
    await other.stop();
  }
  const taken = await takePidLock(path, { job: "mine" });
  expect(taken.kind).toBe("taken");
  expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ pid: process.pid, job: "mine" });
  if (taken.kind === "taken") await taken.release();
  await expect(readFile(path)).rejects.toMatchObject({ code: "ENOENT" });
});

test("the same process may take it again (a restart inside the process); torn content counts as stale", async () => {
  const path = join(dir, "lock");
  expect((await takePidLock(path)).kind).toBe("taken");
  expect((await takePidLock(path)).kind).toBe("taken");
  await writeFile(path, "{ torn");
  expect((await takePidLock(path)).kind).toBe("taken");
});

test("reads the bare-pid lock files of earlier versions", async () => {
  const path = join(dir, "lock");
  const other = otherProcess();
  try {
    await writeFile(path, String(other.pid));
    expect(await takePidLock(path)).toMatchObject({ kind: "held", holder: { pid: other.pid } });
  } finally {
    await other.stop();
  }
});
