import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
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

/** The pid of a process that has exited (and been reaped): a lock naming it is stale. */
const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise<void>((done) => child.on("exit", () => done()));
  return child.pid!;
};

/** A real process that takes locks on command (test/fixtures/pid-lock-racer.ts) and keeps them. */
const startRacer = async () => {
  const script = resolve(import.meta.dirname, "../test/fixtures/pid-lock-racer.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((done) => child.on("exit", () => done()));
  const seen = new Map<string, string>();
  const waiting = new Map<string, (result: string) => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const [key, ...rest] = line.split(" ");
    const result = rest.join(" ");
    const wake = waiting.get(key!);
    if (wake === undefined) seen.set(key!, result);
    else wake(result);
  });
  const resultOf = (key: string) =>
    new Promise<string>((done) => {
      const early = seen.get(key);
      if (early !== undefined) done(early);
      else waiting.set(key, done);
    });
  await resultOf("ready");
  return {
    pid: child.pid!,
    /** Asks it to take the lock at `path`; resolves to "taken", "held <pid>" or "error <message>". */
    take: (path: string) => {
      const result = resultOf(path);
      child.stdin!.write(`take ${path}\n`);
      return result;
    },
    stop: async () => (child.kill("SIGKILL"), await exited),
  };
};

test("of several processes racing to take over a stale lock, exactly one takes it (and the lock names it)", async () => {
  const racers = await Promise.all([0, 1, 2, 3].map(() => startRacer()));
  try {
    const dead = await deadPid();
    for (let trial = 0; trial < 30; trial++) {
      const path = join(dir, `lock-${trial}`);
      await writeFile(path, String(dead)); // left behind by a killed run
      const results = await Promise.all(racers.map((r) => r.take(path)));
      expect(results.filter((k) => k === "taken"), `trial ${trial}: ${results.join(", ")}`).toHaveLength(1);
      const winner = racers[results.indexOf("taken")]!;
      // Every other racer is told who holds it; the lock file is the winner's bare pid.
      expect(results.filter((k) => k !== "taken"), `trial ${trial}`).toEqual(Array(racers.length - 1).fill(`held ${winner.pid}`));
      expect(await readFile(path, "utf8")).toBe(String(winner.pid));
    }
    // No takeover claims or private files are left behind.
    expect((await readdir(dir)).filter((n) => !/^lock-\d+$/.test(n))).toEqual([]);
  } finally {
    await Promise.all(racers.map((r) => r.stop()));
  }
}, 120_000);

test("a takeover claim left by a process killed while taking over is stale in turn; one held by a live process means held", async () => {
  const path = join(dir, "lock");
  const dead = await deadPid();
  await writeFile(path, String(dead));
  await writeFile(`${path}.takeover`, String(dead));
  await writeFile(`${path}.takeover.takeover`, String(dead));
  const taken = await takePidLock(path);
  expect(taken.kind).toBe("taken");
  expect(await readFile(path, "utf8")).toBe(String(process.pid));
  expect((await readdir(dir)).sort()).toEqual(["lock"]);

  const other = otherProcess();
  try {
    await writeFile(path, String(dead));
    await writeFile(`${path}.takeover`, String(other.pid)); // `other` is taking over right now
    expect(await takePidLock(path)).toEqual({ kind: "held", holder: { pid: other.pid, details: {} } });
    expect(await readFile(path, "utf8")).toBe(String(dead)); // left to it
  } finally {
    await other.stop();
  }
});

test("a claim left by a process killed after removing the stale lock (so no lock is there) is removed by the next taker; a live process's claim stays", async () => {
  const path = join(dir, "lock");
  const dead = await deadPid();
  await writeFile(`${path}.takeover`, String(dead));
  await writeFile(`${path}.takeover.takeover`, String(dead));
  const taken = await takePidLock(path);
  expect(taken.kind).toBe("taken");
  expect((await readdir(dir)).sort()).toEqual(["lock"]);
  if (taken.kind === "taken") await taken.release();

  const other = otherProcess();
  try {
    await writeFile(`${path}.takeover`, String(other.pid));
    expect((await takePidLock(path)).kind).toBe("taken");
    expect((await readdir(dir)).sort()).toEqual(["lock", "lock.takeover"]);
    expect(await readFile(`${path}.takeover`, "utf8")).toBe(String(other.pid));
  } finally {
    await other.stop();
  }
});

test("removes the private files killed processes left next to the lock (theirs only: a live process's stay)", async () => {
  const path = join(dir, ".weir-output.lock");
  const dead = await deadPid();
  const other = otherProcess();
  try {
    const orphans = [`.weir-output.lock.${dead}-3.tmp`, `.weir-output.lock.takeover.${dead}-0.tmp`];
    const kept = [`.weir-output.lock.${other.pid}-1.tmp`, "part-abc-0-0.jsonl", `.weir-output.lockx.${dead}-0.tmp`];
    for (const name of [...orphans, ...kept]) await writeFile(join(dir, name), "x");
    const taken = await takePidLock(path);
    expect(taken.kind).toBe("taken");
    expect((await readdir(dir)).sort()).toEqual([...kept, ".weir-output.lock"].sort());
  } finally {
    await other.stop();
  }
});
