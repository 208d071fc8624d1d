/**
 * The driver as glue: its tick timer runs on an injected manual clock, its commands run against
 * real checkpoint storage in a temporary directory, and its tasks are small recorders that ack,
 * decline or stay silent as each test says.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../common/manual-clock.ts";
import { isWeirError } from "../common/errors.ts";
import { defaultCoordinatorConfig, type CoordinatorConfig } from "./coordinator.ts";
import { CheckpointDriver, type CompletedCheckpoint, type DriverTask } from "./driver.ts";
import { checkpointPath, listCheckpointIds, readMetadata } from "./storage.ts";

const JOB = "driver-test";

type Answer = "ack" | "decline" | "silent";

/** A task that records what the driver tells it and answers each trigger as `answer` says. */
class RecordingTask implements DriverTask {
  readonly triggers: { id: number; stop: boolean }[] = [];
  readonly completed: number[] = [];
  answer: (id: number) => Answer = () => "ack";
  constructor(
    readonly id: string,
    private readonly driver: CheckpointDriver,
  ) {}

  ackNow(id: number): void {
    this.driver.ack(id, { task: this.id, sources: [], keyed: [], sinks: [], durationMs: 0 });
  }

  async onTrigger(id: number, stop: boolean): Promise<void> {
    this.triggers.push({ id, stop });
    const answer = this.answer(id);
    if (answer === "ack") this.ackNow(id);
    else if (answer === "decline") this.driver.decline(id, this.id, "disk full");
  }

  async notifyComplete(id: number): Promise<void> {
    this.completed.push(id);
  }
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "weir-driver-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Setup {
  readonly clock: ManualClock;
  readonly driver: CheckpointDriver;
  readonly tasks: readonly RecordingTask[];
  readonly log: string[];
  readonly completed: CompletedCheckpoint[];
  /** Advances the clock by `ms` and waits until the driver has run every command that caused. */
  advance(ms: number): Promise<void>;
}

const setUp = (config: Partial<CoordinatorConfig> = {}): Setup => {
  const clock = new ManualClock(0);
  const log: string[] = [];
  const completed: CompletedCheckpoint[] = [];
  const driver = new CheckpointDriver({
    job: JOB,
    root,
    maxParallelism: 128,
    config: { ...defaultCoordinatorConfig, intervalMs: 1_000, timeoutMs: 3_000, ...config },
    firstId: 1,
    retained: [],
    clock,
    log: (line) => log.push(line),
    onCompleted: (c) => completed.push(c),
  });
  const tasks = [new RecordingTask("a", driver), new RecordingTask("b", driver)];
  driver.start(tasks);
  return {
    clock,
    driver,
    tasks,
    log,
    completed,
    advance: async (ms) => {
      // One tick period at a time, so each tick's commands run before the next tick.
      for (let left = ms; left > 0; left -= 200) {
        clock.advance(Math.min(200, left));
        await driver.settled();
      }
    },
  };
};

const ids = (tasks: readonly RecordingTask[]) => tasks.map((t) => t.triggers.map((x) => x.id));
const exists = (id: number) => existsSync(checkpointPath(root, JOB, id));

describe("CheckpointDriver with a manual clock", () => {
  it("triggers on the clock's interval, writes _metadata, then notifies every task; the job keeps running", async () => {
    const s = setUp();
    await s.advance(800);
    expect(ids(s.tasks)).toEqual([[], []]);
    await s.advance(200);
    expect(ids(s.tasks)).toEqual([[1], [1]]);
    expect(s.tasks.map((t) => t.completed)).toEqual([[1], [1]]);
    const metadata = await readMetadata(checkpointPath(root, JOB, 1));
    expect(metadata).toMatchObject({ job: JOB, id: 1, timestamp: 1_000, completedAt: 1_000, final: false });
    expect(metadata.tasks.map((t) => t.task).sort()).toEqual(["a", "b"]);
    expect(s.completed.map((c) => c.id)).toEqual([1]);
    await s.advance(1_000);
    expect(s.tasks[0]!.completed).toEqual([1, 2]);
    expect(await listCheckpointIds(root, JOB)).toEqual([1, 2]);
    s.driver.close();
  });

  it("a checkpoint a task never answers times out: it is aborted, its directory deleted, and the next one completes", async () => {
    const s = setUp();
    s.tasks[1]!.answer = (id) => (id === 1 ? "silent" : "ack");
    await s.advance(1_000);
    expect(exists(1)).toBe(true);
    await s.advance(2_800);
    expect(s.log).toEqual([]);
    await s.advance(200); // 4_000: 3 s after the trigger
    expect(s.log).toEqual(["checkpoint 1 aborted: timed out after 3000 ms"]);
    expect(exists(1)).toBe(false);
    // The interval had passed: checkpoint 2 was triggered on the same tick and completed.
    expect(s.tasks[0]!.triggers).toEqual([
      { id: 1, stop: false },
      { id: 2, stop: false },
    ]);
    expect(s.tasks.map((t) => t.completed)).toEqual([[2], [2]]);
    // A late ack of the aborted checkpoint changes nothing.
    s.tasks[1]!.ackNow(1);
    await s.driver.settled();
    expect(exists(1)).toBe(false);
    expect(await listCheckpointIds(root, JOB)).toEqual([2]);
    s.driver.close();
  });

  it("a declined checkpoint is aborted at once and deleted; the job keeps checkpointing", async () => {
    const s = setUp();
    s.tasks[0]!.answer = (id) => (id === 1 ? "decline" : "ack");
    await s.advance(1_000);
    expect(s.log).toEqual(["checkpoint 1 aborted: declined by a: disk full"]);
    expect(exists(1)).toBe(false);
    await s.advance(1_000);
    expect(s.tasks.map((t) => t.completed)).toEqual([[2], [2]]);
    s.driver.close();
  });

  it("waits minPauseMs after a completion before the next periodic trigger", async () => {
    const s = setUp({ minPauseMs: 2_500 });
    await s.advance(1_000);
    expect(s.tasks[0]!.completed).toEqual([1]);
    await s.advance(2_400); // 3_400: the interval passed long ago, the pause (until 3_500) not yet
    expect(s.tasks[0]!.triggers.map((t) => t.id)).toEqual([1]);
    await s.advance(200); // the tick at 3_600
    expect(s.tasks[0]!.triggers.map((t) => t.id)).toEqual([1, 2]);
    expect((await readMetadata(checkpointPath(root, JOB, 2))).timestamp).toBe(3_600);
    s.driver.close();
  });

  it("a stop while a checkpoint is in flight waits for it, then takes a stop checkpoint and resolves done once it is committed", async () => {
    const s = setUp();
    s.tasks[1]!.answer = (id) => (id === 1 ? "silent" : "ack");
    await s.advance(1_000);
    s.driver.requestStop();
    await s.driver.settled();
    expect(s.tasks[0]!.triggers).toEqual([{ id: 1, stop: false }]);
    let outcome: unknown;
    void s.driver.done.then((o) => (outcome = o));
    s.tasks[1]!.ackNow(1); // checkpoint 1 completes; the stop checkpoint follows at once
    await s.driver.settled();
    expect(s.tasks[0]!.triggers).toEqual([
      { id: 1, stop: false },
      { id: 2, stop: true },
    ]);
    expect(await s.driver.done).toEqual({ kind: "stopped", id: 2 });
    expect(outcome).toEqual({ kind: "stopped", id: 2 });
    expect(s.tasks.map((t) => t.completed)).toEqual([
      [1, 2],
      [1, 2],
    ]);
    // The driver closed itself: its timer is gone and no tick triggers anything more.
    expect(s.clock.pendingTimers).toBe(0);
    await s.advance(5_000);
    expect(s.tasks[0]!.triggers).toHaveLength(2);
  });

  it("a stop checkpoint that is declined is aborted and retried as a stop checkpoint on the next tick", async () => {
    const s = setUp();
    s.tasks[1]!.answer = (id) => (id === 1 ? "decline" : "ack");
    s.driver.requestStop();
    await s.driver.settled();
    expect(s.log).toEqual(["checkpoint 1 aborted: declined by b: disk full"]);
    expect(exists(1)).toBe(false);
    await s.advance(200);
    expect(s.tasks[0]!.triggers).toEqual([
      { id: 1, stop: true },
      { id: 2, stop: true },
    ]);
    expect(await s.driver.done).toEqual({ kind: "stopped", id: 2 });
  });

  it("a stop checkpoint that times out is retried; a second stop request does not start another", async () => {
    const s = setUp();
    s.tasks[0]!.answer = (id) => (id === 1 ? "silent" : "ack");
    s.driver.requestStop();
    s.driver.requestStop();
    await s.driver.settled();
    expect(s.tasks[1]!.triggers).toEqual([{ id: 1, stop: true }]);
    await s.advance(3_000);
    expect(s.log).toEqual(["checkpoint 1 aborted: timed out after 3000 ms"]);
    expect(s.tasks[1]!.triggers).toEqual([
      { id: 1, stop: true },
      { id: 2, stop: true },
    ]);
    expect(await s.driver.done).toEqual({ kind: "stopped", id: 2 });
  });

  it("the final checkpoint (sources exhausted) resolves done as finished, with final metadata", async () => {
    const s = setUp();
    s.driver.requestFinal();
    expect(await s.driver.done).toEqual({ kind: "finished", id: 1 });
    expect((await readMetadata(checkpointPath(root, JOB, 1))).final).toBe(true);
    expect(s.completed).toMatchObject([{ id: 1, final: true }]);
  });

  it("rejects done with a retriable CHECKPOINT_FAILED when a task cannot commit", async () => {
    const s = setUp();
    s.tasks[0]!.notifyComplete = () => Promise.reject(new Error("commit refused"));
    await s.advance(1_000);
    const error = await s.driver.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWeirError(error) && error.code).toBe("CHECKPOINT_FAILED");
    expect(isWeirError(error) && error.retriable).toBe(true);
    expect(String((error as Error).message)).toContain("commit refused");
  });
});
