/**
 * The REST API, /metrics and `weir list|stop|cancel` against real `weir run` processes: the
 * contract (Flink's paths and fields, with live values), stop and cancel from outside with
 * exactly-once output after resuming, bad requests that change nothing, the token beyond
 * loopback, and a taken port. Each test has its own runtime directory (WEIR_RUNTIME_DIR), so
 * `weir list` sees only its jobs.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, repoRoot, runOrKill, startWeir, type WeirRun } from "./support/weir-process.ts";

const exec = promisify(execFile);
let tmp: string;
let expected: string[];

const jobArgs = (out: string, checkpoints: string, events: number, rate: number) => [
  "run",
  "jobs/account-totals.ts",
  "--param",
  `events=${events}`,
  "--param",
  "accounts=50",
  "--param",
  `rate=${rate}`,
  "--param",
  `out=${out}`,
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "200ms",
  "--parallelism",
  "2",
  "--no-progress",
];

const EVENTS = 40_000;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-rest-"));
  const out = join(tmp, "straight");
  const straight = await runOrKill([...jobArgs(out, join(tmp, "straight-chk"), EVENTS, 1_000_000), "--no-ui", "--checkpoint-interval", "off"]);
  expect(straight.code, straight.stderr).toBe(0);
  expected = (await committedLines(out)).sort();
  expect(expected).toHaveLength(EVENTS);
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const waitFor = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

interface Served {
  readonly run: WeirRun;
  readonly address: string;
  readonly id: string;
}

/** Starts `weir run`, waits for the line naming its REST address, then for the job to be RUNNING (it is INITIALIZING before). */
const serve = async (args: readonly string[], env: Record<string, string>): Promise<Served> => {
  const run = startWeir(args, env);
  const m = await waitFor("the REST address line", () => /REST API and dashboard at (http:\/\/\S+) \(job id ([0-9a-f]{32})\)/.exec(run.stderr()) ?? undefined);
  const [address, id] = [m[1]!, m[2]!];
  await waitFor("the job to run", async () => ((await getJson(`${address}/jobs/${id}`)).state === "RUNNING" ? true : undefined));
  return { run, address, id };
};

const getJson = async (url: string): Promise<any> => {
  const r = await fetch(url);
  expect(r.status, url).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  return r.json();
};

const cli = async (args: readonly string[], env: Record<string, string>) => {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(repoRoot, "bin/weir.mjs"), ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
};

/** Runs the same command until it exits 0 (after a stop or cancel), then returns the committed output, sorted. */
const finish = async (args: readonly string[], env: Record<string, string>, out: string) => {
  const last = await runOrKill(args, undefined, env);
  expect(last.code, last.stderr).toBe(0);
  return (await committedLines(out)).sort();
};

describe("weir run's REST API", () => {
  it("follows Flink's paths and fields with live values, and stops the job at a final checkpoint from which it resumes exactly once", async () => {
    const env = { WEIR_RUNTIME_DIR: join(tmp, "rt-contract") };
    const out = join(tmp, "contract");
    const args = [...jobArgs(out, join(tmp, "contract-chk"), EVENTS, 8_000), "--ui-port", "0"];
    const { run, address, id } = await serve(args, env);

    expect(await getJson(`${address}/jobs`)).toEqual({ jobs: [{ id, status: "RUNNING" }] });
    const overview = await getJson(`${address}/jobs/overview`);
    expect(overview.jobs[0]).toMatchObject({ jid: id, name: "account-totals", state: "RUNNING", "end-time": -1, tasks: { total: 4 } });

    const job = await getJson(`${address}/jobs/${id}`);
    expect(job).toMatchObject({ jid: id, name: "account-totals", state: "RUNNING", "job-type": "STREAMING", maxParallelism: 128 });
    expect(job.vertices.map((v: any) => [v.name, v.parallelism])).toEqual([
      ["transactions-0", 2],
      ["running-total -> totals", 2],
    ]);
    const [source, sink] = job.vertices as { id: string }[];
    expect(job.plan.nodes[1].inputs).toEqual([{ num: 0, id: source!.id, ship_strategy: "HASH", exchange: "pipelined_bounded" }]);
    expect((await getJson(`${address}/jobs/account-totals`)).jid).toBe(id); // by name, too

    // The rates move: records flow between two reads a second apart.
    const recordsOut = async () => (await getJson(`${address}/jobs/${id}/vertices/${source!.id}`)).subtasks.reduce((n: number, s: any) => n + s.metrics["write-records"], 0);
    const before = await recordsOut();
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await recordsOut()).toBeGreaterThan(before);
    // Rates need two samples of a subtask's counters (taken a second apart).
    const vertex = await waitFor("rates of the sink's subtasks", async () => {
      const v = await getJson(`${address}/jobs/${id}/vertices/${sink!.id}`);
      return v.subtasks.length === 2 && v.subtasks.every((s: any) => s.metrics["read-records-per-second"] !== null) ? v : undefined;
    });
    for (const s of vertex.subtasks) {
      expect(s.status).toBe("RUNNING");
      expect(s.metrics["read-records"]).toBeGreaterThan(0);
      expect(s.metrics["read-records-per-second"]).toBeGreaterThan(0);
    }

    const bp = await getJson(`${address}/jobs/${id}/vertices/${source!.id}/backpressure`);
    expect(["ok", "low", "high"]).toContain(bp.backpressureLevel);
    for (const s of bp.subtasks) {
      for (const r of [s.ratio, s.idleRatio, s.busyRatio]) expect(r).toBeGreaterThanOrEqual(0);
      expect(s.ratio + s.idleRatio + s.busyRatio).toBeCloseTo(1, 5);
    }
    const watermarks = await getJson(`${address}/jobs/${id}/vertices/${sink!.id}/watermarks`);
    expect(watermarks.map((w: any) => w.id)).toEqual(["0.currentInputWatermark", "0.currentOutputWatermark", "1.currentInputWatermark", "1.currentOutputWatermark"]);

    const checkpoints = await waitFor("a completed checkpoint in the history", async () => {
      const c = await getJson(`${address}/jobs/${id}/checkpoints`);
      return c.counts.completed > 0 ? c : undefined;
    });
    const done = checkpoints.history.find((h: any) => h.status === "COMPLETED");
    expect(done).toMatchObject({ "@class": "completed", is_savepoint: false, num_subtasks: 4, num_acknowledged_subtasks: 4 });
    expect(done.state_size).toBeGreaterThan(0);
    expect(done.latest_ack_timestamp).toBeGreaterThanOrEqual(done.trigger_timestamp);
    expect(checkpoints.summary.state_size.max).toBeGreaterThan(0);
    const details = await getJson(`${address}/jobs/${id}/checkpoints/details/${done.id}`);
    expect(details.tasks[sink!.id]).toMatchObject({ num_subtasks: 2, num_acknowledged_subtasks: 2 });
    expect((await getJson(`${address}/jobs/${id}/exceptions`)).exceptionHistory.entries).toEqual([]);

    // Prometheus: the counter of records out grows between two scrapes.
    const scrape = async () => {
      const r = await fetch(`${address}/metrics`);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await r.text();
      const lines = text.split("\n").filter((l) => l.startsWith('weir_task_records_out_total{job="account-totals",vertex="transactions-0"'));
      expect(lines).toHaveLength(2);
      expect(text).toMatch(/^weir_checkpoints_total\{job="account-totals",status="completed"\} [1-9]/m);
      return lines.reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
    };
    const first = await scrape();
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await scrape()).toBeGreaterThan(first);

    // Stop from outside: 202 with a request id, whose state becomes COMPLETED with the final checkpoint.
    const stop = await fetch(`${address}/jobs/${id}/stop`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(stop.status).toBe(202);
    const { "request-id": rid } = (await stop.json()) as { "request-id": string };
    const completed = await waitFor("the stop to complete", async () => {
      const s = await fetch(`${address}/jobs/${id}/savepoints/${rid}`).then((r) => r.json() as Promise<any>).catch(() => undefined);
      return s?.status.id === "COMPLETED" ? s : undefined;
    });
    expect(completed.operation.location).toMatch(new RegExp(`${join(tmp, "contract-chk", "account-totals")}/chk-\\d+$`));
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("stop requested through the REST API");
    expect(await committedLines(out)).not.toHaveLength(EVENTS); // it stopped before the end
    expect(await finish(args, env, out)).toEqual(expected);
  }, 120_000);

  it("answers bad requests with 4xx JSON errors that leave the job and its output untouched", async () => {
    const env = { WEIR_RUNTIME_DIR: join(tmp, "rt-bad") };
    const out = join(tmp, "bad");
    const args = [...jobArgs(out, join(tmp, "bad-chk"), EVENTS, 10_000), "--ui-port", "0"];
    const { run, address, id } = await serve(args, env);
    const json = { "content-type": "application/json" };
    const bad: [string, RequestInit, number][] = [
      ["/nope", {}, 404],
      ["/jobs/0123456789abcdef0123456789abcdef", {}, 404],
      [`/jobs/${id}/vertices/nope`, {}, 404],
      [`/jobs/${id}/checkpoints/details/abc`, {}, 404],
      [`/jobs/${id}/checkpoints/details/999999`, {}, 404],
      [`/jobs/${id}/savepoints/stop-77`, {}, 404],
      [`/jobs/${id}/stop`, { method: "POST", headers: json, body: "{not json" }, 400],
      [`/jobs/${id}/stop`, { method: "POST", headers: json, body: "[1,2]" }, 400],
      [`/jobs/${id}/stop`, { method: "POST", headers: json, body: '{"targetDirectory":42}' }, 400],
      [`/jobs/${id}/stop`, { method: "POST", headers: json, body: '{"targetDirectory":"  "}' }, 400],
      [`/jobs/${id}/savepoints`, { method: "POST", headers: json, body: '{"target-directory":["a"]}' }, 400],
      [`/jobs/${id}/savepoints`, { method: "POST", headers: json, body: '{"cancel-job":true}' }, 400],
      [`/jobs/${id}/savepoints`, { method: "POST", headers: json, body: "null" }, 400],
      // What a page of another site could send: a body-less POST, or JSON with its Origin.
      [`/jobs/${id}/stop`, { method: "POST" }, 415],
      [`/jobs/${id}/savepoints`, { method: "POST" }, 415],
      [`/jobs/${id}/stop`, { method: "POST", headers: { ...json, origin: "http://attacker.example" }, body: "{}" }, 403],
      [`/jobs/${id}/stop`, { method: "POST", headers: json, body: '{"drain":true}' }, 400],
      [`/jobs/${id}/stop`, { method: "POST", headers: { "content-type": "text/plain" }, body: "stop" }, 400],
      [`/jobs/${id}/stop`, { method: "POST", headers: { "content-type": "application/xml" }, body: "<stop/>" }, 415],
      [`/jobs/${id}/stop`, { method: "POST", headers: json, body: JSON.stringify({ pad: "x".repeat(100_000) }) }, 413],
      [`/jobs/${id}?mode=explode`, { method: "PATCH" }, 400],
      [`/jobs/someone-else/stop`, { method: "POST", headers: json, body: "{}" }, 404],
      [`/jobs/${id}`, { method: "DELETE" }, 404],
      [`/jobs/${id}/vertices/${"%ff".repeat(10)}`, {}, 400],
    ];
    for (const [path, init, status] of bad) {
      const r = await fetch(`${address}${path}`, init);
      expect(r.status, `${init.method ?? "GET"} ${path}`).toBe(status);
      const body = (await r.json()) as { errors: string[] };
      expect(body.errors.length, path).toBeGreaterThan(0);
    }
    expect((await getJson(`${address}/jobs/${id}`)).state).toBe("RUNNING");
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).not.toContain("requested through the REST API");
    expect((await committedLines(out)).sort()).toEqual(expected);
  }, 120_000);
});

describe("weir list, stop and cancel", () => {
  it("list the running job; cancel and stop it from another terminal; the same command then finishes it exactly once", async () => {
    const env = { WEIR_RUNTIME_DIR: join(tmp, "rt-cli") };
    const out = join(tmp, "cli");
    // Slow enough (~13 s) that the resumed run is still running when `weir stop` reaches it on a loaded machine.
    const args = [...jobArgs(out, join(tmp, "cli-chk"), EVENTS, 3_000), "--ui-port", "0"];
    expect((await cli(["list"], env)).stdout).toMatch(/^no weir run is running on this machine/);
    // A runtime directory others may write is not trusted (entries there could point weir stop elsewhere).
    const open = join(tmp, "rt-open");
    await mkdir(open, { mode: 0o777 });
    await chmod(open, 0o777);
    const refused = await cli(["list"], { WEIR_RUNTIME_DIR: open });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("RUNTIME_DIR_NOT_PRIVATE");
    const missing = await cli(["stop", "account-totals"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("JOB_NOT_RUNNING");

    const first = await serve(args, env);
    await waitFor("a completed checkpoint", async () => ((await getJson(`${first.address}/jobs/${first.id}/checkpoints`)).counts.completed > 0 ? true : undefined));
    const listed = await cli(["list"], env);
    expect(listed.stdout).toMatch(new RegExp(`^account-totals  id ${first.id}  RUNNING  ${first.address}  pid ${first.run.pid} `));
    const cancelled = await cli(["cancel", "account-totals"], env);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain("'account-totals' cancelled");
    const firstExit = await first.run.exited;
    expect(firstExit.code, firstExit.stderr).toBe(0);
    expect(firstExit.stderr).toMatch(/'account-totals' cancelled; its latest completed checkpoint is \d+/);
    expect((await cli(["list"], env)).stdout).toMatch(/^no weir run is running/);

    const second = await serve(args, env);
    expect(second.run.stderr()).toContain("resuming 'account-totals' from checkpoint");
    const stopped = await cli(["stop", second.id], env);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/'account-totals' stopped at .*chk-\d+; the same weir run command resumes it/);
    expect((await second.run.exited).code).toBe(0);

    expect(await finish(args, env, out)).toEqual(expected);
  }, 120_000);

  it("take savepoints that are self-contained: one while running, one when stopping; each restores at another parallelism, exactly once, even moved and renamed into a new checkpoint directory", async () => {
    const env = { WEIR_RUNTIME_DIR: join(tmp, "rt-sp") };
    const out = join(tmp, "sp");
    const checkpoints = join(tmp, "sp-chk");
    // Slow enough (~13 s) to be still running after three `weir` commands on a loaded machine.
    const args = [...jobArgs(out, checkpoints, EVENTS, 3_000), "--ui-port", "0"];
    const running = await serve(args, env);
    // A directory that cannot be made: one line naming it, and the job runs on.
    const refused = await cli(["savepoint", "account-totals", "/proc/weir-no-such-dir", "--timeout", "20s"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\/proc\/weir-no-such-dir.*SAVEPOINT_FAILED/);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect((await getJson(`${running.address}/jobs/${running.id}`)).state).toBe("RUNNING");
    const taken = await cli(["savepoint", "account-totals"], env);
    expect(taken.code, taken.stderr).toBe(0);
    // The default directory: savepoints/ beside the checkpoint directory.
    const early = /written to (\S+);/.exec(taken.stdout)![1]!;
    expect(early.startsWith(join(tmp, "savepoints", "savepoint-account-totals-chk"))).toBe(true);
    const stopped = await cli(["stop", "account-totals", "--savepoint", join(tmp, "stop-savepoints")], env);
    expect(stopped.code, stopped.stderr).toBe(0);
    const late = /stopped with the savepoint (\S+);/.exec(stopped.stdout)![1]!;
    expect((await running.run.exited).code).toBe(0);
    // Copies, not links into the checkpoint directory; inspect names it a savepoint.
    const files = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    for (const f of await files(late)) expect((await stat(f)).nlink, f).toBe(1);
    expect((await cli(["checkpoints", "inspect", late], env)).stdout).toMatch(/^savepoint of job 'account-totals' \(checkpoint \d+\)/);

    // Another job's savepoint is refused in one line naming both jobs.
    const wrongJob = await runOrKill(["run", "jobs/word-count.ts", "--no-ui", "--no-progress", "--checkpoint-dir", join(tmp, "wc-chk"), "--from", early], undefined, env);
    expect(wrongJob.code).toBe(1);
    expect(wrongJob.stderr).toContain(`--from ${early} is a savepoint of job 'account-totals', not of 'word-count'`);
    expect(wrongJob.stderr).toContain("CHECKPOINT_OF_ANOTHER_JOB");

    // The early savepoint, at parallelism 1: the output committed after it is retracted, and the run ends exactly once.
    expect(await finish([...jobArgs(out, checkpoints, EVENTS, 12_000), "--no-ui", "--parallelism", "1", "--from", early], env, out)).toEqual(expected);

    // The stop savepoint, renamed and moved, into a new checkpoint directory (the old one gone), at parallelism 3.
    const out2 = join(tmp, "sp-again");
    const partial = await runOrKill([...jobArgs(out2, join(tmp, "sp2-chk"), EVENTS, 6_000), "--no-ui"], 2_500, env);
    expect(partial.killedByUs).toBe(true);
    const stopAgain = await serve([...jobArgs(out2, join(tmp, "sp2-chk"), EVENTS, 6_000), "--ui-port", "0"], env);
    const second = await cli(["stop", stopAgain.id, "--savepoint", join(tmp, "stop2")], env);
    expect(second.code, second.stderr).toBe(0);
    expect((await stopAgain.run.exited).code).toBe(0);
    const moved = join(tmp, "elsewhere", "my-savepoint");
    await mkdir(join(tmp, "elsewhere"));
    await rename(/stopped with the savepoint (\S+);/.exec(second.stdout)![1]!, moved);
    await rm(join(tmp, "sp2-chk"), { recursive: true });
    const resumed = [...jobArgs(out2, join(tmp, "sp3-chk"), EVENTS, 1_000_000), "--no-ui", "--parallelism", "3", "--from", moved];
    expect(await finish(resumed, env, out2)).toEqual(expected);

    // Starting over with --fresh leaves savepoints alone.
    expect(await finish([...args.slice(0, -2), "--no-ui", "--fresh", "--overwrite-output"], env, out)).toEqual(expected);
    expect((await cli(["checkpoints", "inspect", early], env)).code).toBe(0);
  }, 180_000);

  it("beyond loopback, stop and cancel need the token from the 0600 file named at start", async () => {
    const env = { WEIR_RUNTIME_DIR: join(tmp, "rt-token") };
    const out = join(tmp, "token");
    const checkpoints = join(tmp, "token-chk");
    const args = [...jobArgs(out, checkpoints, EVENTS, 6_000), "--ui-port", "0", "--ui-host", "0.0.0.0"];
    const { run, address, id } = await serve(args, env);
    const tokenFile = join(checkpoints, "account-totals", ".ui-token");
    expect(run.stderr()).toContain(`mutating calls need the token in ${tokenFile}`);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    for (const auth of [undefined, "Bearer wrong", "Basic abc"]) {
      const r = await fetch(`${address}/jobs/${id}?mode=cancel`, { method: "PATCH", headers: auth === undefined ? {} : { authorization: auth } });
      expect(r.status).toBe(401);
    }
    expect((await getJson(`${address}/jobs/${id}`)).state).toBe("RUNNING"); // reads need no token
    const stopped = await cli(["stop", "account-totals"], env); // reads the token file
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((await run.exited).code).toBe(0);
    await expect(stat(tokenFile)).rejects.toThrow(/ENOENT/);
    expect(await finish([...args.slice(0, -4), "--no-ui"], env, out)).toEqual(expected);
  }, 120_000);

  it("takes the next port when the asked one is taken; --no-ui serves nothing and lists nothing", async () => {
    const env = { WEIR_RUNTIME_DIR: join(tmp, "rt-port") };
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const out = join(tmp, "port");
      const { run, address } = await serve([...jobArgs(out, join(tmp, "port-chk"), 2_000, 1_000_000), "--ui-port", String(taken)], env);
      expect(Number(new URL(address).port)).not.toBe(taken);
      expect((await run.exited).code).toBe(0);
    } finally {
      blocker.close();
    }
    const quiet = startWeir([...jobArgs(join(tmp, "quiet"), join(tmp, "quiet-chk"), 20_000, 10_000), "--no-ui"], env);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await cli(["list"], env)).stdout).toMatch(/^no weir run is running/);
    const exit = await quiet.exited;
    expect(exit.code).toBe(0);
    expect(exit.stderr).not.toContain("REST API");
  }, 60_000);
});
