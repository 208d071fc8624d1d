/**
 * Run folders and their owners, with real processes: a folder is removed only when its owner
 * process is gone (or was never recorded), a pid reused by another process does not keep a dead
 * run's folder, and an explicit --state-dir is wiped only when its owner is dead.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { WeirError } from "../common/errors.ts";
import { currentProcess, isRunning, type ProcessIdentity } from "../common/process-identity.ts";
import { claimRunFolder, defaultStateRoot, removeDeadRunFolders } from "./run-folder.ts";

const tmp = await mkdtemp(join(tmpdir(), "weir-run-folder-"));
const job = `run-folder-test-${process.pid}`;
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  await rm(join(".weir", job), { recursive: true, force: true });
});

/** A child process that runs until killed. */
const sleeper = () => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const exited = new Promise<void>((done) => child.on("exit", () => done()));
  return { pid: child.pid!, stop: async () => (child.kill("SIGKILL"), await exited) };
};
/** The pid of a process that has exited (and been reaped). */
const deadPid = async () => {
  const s = sleeper();
  await s.stop();
  return s.pid;
};

const folderOwnedBy = async (root: string, name: string, owner: ProcessIdentity | undefined) => {
  await mkdir(join(root, name, "op", "0"), { recursive: true });
  await writeFile(join(root, name, "op", "0", "000009.sst"), "sst");
  if (owner !== undefined) await writeFile(join(root, name, ".weir-owner.json"), JSON.stringify({ ...owner, job, runId: name }));
};

describe("isRunning", () => {
  test("this process, a live child, a dead child, and a live pid with another start time", async () => {
    const me = await currentProcess();
    expect(await isRunning(me)).toBe(true);
    const child = sleeper();
    expect(await isRunning({ pid: child.pid })).toBe(true);
    await child.stop();
    expect(await isRunning({ pid: child.pid })).toBe(false);
    expect(me.started).toMatch(/^\d+$/); // Linux: /proc is there
    expect(await isRunning({ pid: me.pid, started: String(Number(me.started) + 1) })).toBe(false);
  });
});

describe("removeDeadRunFolders", () => {
  test("removes folders of dead owners, of reused pids, without an owner, and half-made ones of dead runs; keeps live ones", async () => {
    const root = join(tmp, "sweep");
    const me = await currentProcess();
    const other = sleeper();
    try {
      const dead = await deadPid();
      await folderOwnedBy(root, "dead", { pid: dead });
      await folderOwnedBy(root, "reused-pid", { pid: me.pid, started: String(Number(me.started) + 1) });
      await folderOwnedBy(root, "legacy", undefined);
      await folderOwnedBy(root, `.claiming-r1-${dead}`, undefined);
      await folderOwnedBy(root, "mine", me);
      await folderOwnedBy(root, "other-live", { pid: other.pid });
      await folderOwnedBy(root, `.claiming-r2-${other.pid}`, undefined);
      expect((await removeDeadRunFolders(root)).sort()).toEqual([`.claiming-r1-${dead}`, "dead", "legacy", "reused-pid"]);
      expect((await readdir(root)).sort()).toEqual([`.claiming-r2-${other.pid}`, "mine", "other-live"]);
    } finally {
      await other.stop();
    }
  });

  test("a root that does not exist yet has nothing to remove", async () => {
    expect(await removeDeadRunFolders(join(tmp, "absent"))).toEqual([]);
  });
});

describe("claimRunFolder", () => {
  test("default root: removes dead runs' folders, creates this run's with its owner, leaves live ones", async () => {
    const root = defaultStateRoot(job);
    const other = sleeper();
    try {
      await folderOwnedBy(root, "killed", { pid: await deadPid() });
      await folderOwnedBy(root, "live", { pid: other.pid });
      const lines: string[] = [];
      const folder = await claimRunFolder({ job, runId: "r3", log: (l) => lines.push(l) });
      expect(folder).toBe(join(root, "r3"));
      expect((await readdir(root)).sort()).toEqual(["live", "r3"]);
      expect(await readdir(folder)).toEqual([".weir-owner.json"]);
      expect(JSON.parse(await readFile(join(folder, ".weir-owner.json"), "utf8"))).toEqual({ ...(await currentProcess()), job, runId: "r3" });
      expect(lines).toEqual([`removed the working state of 1 ended run(s) of '${job}' from ${root}`]);
    } finally {
      await other.stop();
    }
  });

  test("--state-dir: new or empty is taken; a dead run's is wiped and taken; a live run's and a foreign one are refused untouched", async () => {
    expect(await readdir(await claimRunFolder({ job, runId: "a", dir: join(tmp, "new") }))).toEqual([".weir-owner.json"]);
    await mkdir(join(tmp, "empty"));
    expect(await readdir(await claimRunFolder({ job, runId: "b", dir: join(tmp, "empty") }))).toEqual([".weir-owner.json"]);

    await folderOwnedBy(tmp, "killed", { pid: await deadPid() });
    expect(await readdir(await claimRunFolder({ job, runId: "c", dir: join(tmp, "killed") }))).toEqual([".weir-owner.json"]);

    const other = sleeper();
    try {
      await folderOwnedBy(tmp, "busy", { pid: other.pid });
      const busy = await claimRunFolder({ job, runId: "d", dir: join(tmp, "busy") }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(WeirError);
      expect(busy).toMatchObject({ code: "STATE_DIR_IN_USE", domain: "user" });
      expect((busy as Error).message).toContain(`(pid ${other.pid})`);
      expect((await readdir(join(tmp, "busy"))).sort()).toEqual([".weir-owner.json", "op"]);
    } finally {
      await other.stop();
    }

    await mkdir(join(tmp, "foreign"));
    await writeFile(join(tmp, "foreign", "notes.txt"), "mine");
    const foreign = await claimRunFolder({ job, runId: "e", dir: join(tmp, "foreign") }).catch((e: unknown) => e);
    expect(foreign).toMatchObject({ code: "STATE_DIR_NOT_EMPTY", domain: "user" });
    expect(await readdir(join(tmp, "foreign"))).toEqual(["notes.txt"]);
  });
});
