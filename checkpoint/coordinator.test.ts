import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  CheckpointCoordinator,
  defaultCoordinatorConfig,
  type CoordinatorCommand,
  type CoordinatorConfig,
  type CoordinatorEvent,
} from "./coordinator.ts";

const TASKS = ["map-0", "map-1", "sink-0"] as const;

interface Setup {
  readonly config?: Partial<CoordinatorConfig>;
  readonly tasks?: readonly string[];
  readonly firstId?: number;
  readonly now?: number;
  readonly retained?: readonly number[];
}

const make = (setup: Setup = {}): CheckpointCoordinator =>
  new CheckpointCoordinator({
    config: { ...defaultCoordinatorConfig, intervalMs: 100, timeoutMs: 1_000, ...setup.config },
    tasks: setup.tasks ?? TASKS,
    firstId: setup.firstId ?? 1,
    now: setup.now ?? 0,
    ...(setup.retained === undefined ? {} : { retained: setup.retained }),
  });

const tick = (now: number): CoordinatorEvent => ({ kind: "tick", now });
const request = (now: number, final = false): CoordinatorEvent => ({ kind: "request", now, final });
const ack = (id: number, task: string, snapshot: unknown = `${task}@${id}`, now = 0): CoordinatorEvent => ({
  kind: "ack",
  now,
  id,
  task,
  snapshot,
});
const decline = (id: number, task: string, now: number): CoordinatorEvent => ({ kind: "decline", now, id, task, reason: "disk full" });
const written = (id: number, now: number): CoordinatorEvent => ({ kind: "metadata-written", now, id });
const metadataFailed = (id: number, now: number): CoordinatorEvent => ({ kind: "metadata-failed", now, id, reason: "EIO" });

/** Commands as short strings ("trigger 3", "fail-job") for order-sensitive comparisons. */
const kinds = (commands: readonly CoordinatorCommand[]): string[] => commands.map((c) => ("id" in c ? `${c.kind} ${c.id}` : c.kind));

/** Acks `id` from every task (default TASKS) and returns the commands of the last ack. */
const ackAll = (c: CheckpointCoordinator, id: number, tasks: readonly string[] = TASKS): CoordinatorCommand[] => {
  let last: CoordinatorCommand[] = [];
  for (const t of tasks) last = c.handle(ack(id, t));
  return last;
};

/** Triggers (by tick at `now`), acks and completes one checkpoint; returns the completion's commands. */
const completeOne = (c: CheckpointCoordinator, id: number, now: number, tasks: readonly string[] = TASKS): CoordinatorCommand[] => {
  ackAll(c, id, tasks);
  return c.handle(written(id, now));
};

describe("CheckpointCoordinator: periodic triggering", () => {
  it("triggers nothing before the interval has passed since construction", () => {
    const c = make({ now: 1_000 });
    expect(c.handle(tick(1_000))).toEqual([]);
    expect(c.handle(tick(1_099))).toEqual([]);
    expect(c.pendingIds).toEqual([]);
  });

  it("triggers at exactly the interval, with firstId and the tick's time as timestamp", () => {
    const c = make({ now: 1_000, firstId: 7 });
    expect(c.handle(tick(1_100))).toEqual([{ kind: "trigger", id: 7, timestamp: 1_100, final: false, stop: false }]);
    expect(c.pendingIds).toEqual([7]);
  });

  it("gives increasing ids to successive checkpoints, one interval apart", () => {
    const c = make({ firstId: 42 });
    const triggered: number[] = [];
    for (let now = 100; now <= 500; now += 100) {
      const cmds = c.handle(tick(now));
      const trig = cmds.filter((x) => x.kind === "trigger");
      expect(trig).toHaveLength(1);
      triggered.push(trig[0]!.id);
      completeOne(c, trig[0]!.id, now);
    }
    expect(triggered).toEqual([42, 43, 44, 45, 46]);
  });

  it("measures the interval from the last trigger, not from the last tick", () => {
    const c = make();
    c.handle(tick(100));
    completeOne(c, 1, 110);
    expect(kinds(c.handle(tick(150)))).toEqual([]);
    expect(kinds(c.handle(tick(199)))).toEqual([]);
    expect(kinds(c.handle(tick(200)))).toEqual(["trigger 2"]);
  });

  it("waits minPauseMs after a completion even when the interval has passed", () => {
    const c = make({ config: { minPauseMs: 300 } });
    c.handle(tick(100));
    completeOne(c, 1, 150); // settled at 150 → next allowed at max(200, 450)
    expect(c.handle(tick(200))).toEqual([]);
    expect(c.handle(tick(449))).toEqual([]);
    expect(kinds(c.handle(tick(450)))).toEqual(["trigger 2"]);
  });

  it("with minPause 0 triggers the next one in the completion itself if the interval has passed", () => {
    const c = make();
    c.handle(tick(100));
    ackAll(c, 1);
    expect(kinds(c.handle(written(1, 250)))).toEqual(["notify-complete 1", "trigger 2"]);
  });

  it("never has more than one checkpoint in flight by default", () => {
    const c = make();
    expect(kinds(c.handle(tick(100)))).toEqual(["trigger 1"]);
    for (let now = 200; now < 1_000; now += 100) expect(c.handle(tick(now))).toEqual([]);
    expect(c.pendingIds).toEqual([1]);
  });

  it("allows maxConcurrent checkpoints in flight, and no more", () => {
    const c = make({ config: { maxConcurrent: 2 } });
    expect(kinds(c.handle(tick(100)))).toEqual(["trigger 1"]);
    expect(kinds(c.handle(tick(200)))).toEqual(["trigger 2"]);
    expect(c.handle(tick(300))).toEqual([]);
    expect(c.pendingIds).toEqual([1, 2]);
  });
});

describe("CheckpointCoordinator: requested checkpoints", () => {
  it("a request triggers at once, before the interval", () => {
    const c = make();
    expect(c.handle(request(5))).toEqual([{ kind: "trigger", id: 1, timestamp: 5, final: false, stop: false }]);
  });

  it("a request ignores the min pause", () => {
    const c = make({ config: { minPauseMs: 10_000 } });
    c.handle(tick(100));
    completeOne(c, 1, 100);
    expect(c.handle(tick(5_000))).toEqual([]);
    expect(kinds(c.handle(request(5_001)))).toEqual(["trigger 2"]);
  });

  it("a request waits for a free slot, then triggers when the pending one completes", () => {
    const c = make();
    c.handle(tick(100));
    expect(c.handle(request(120, true))).toEqual([]);
    expect(c.pendingIds).toEqual([1]);
    ackAll(c, 1);
    const cmds = c.handle(written(1, 130));
    expect(cmds).toEqual([
      { kind: "notify-complete", id: 1 },
      { kind: "trigger", id: 2, timestamp: 130, final: true, stop: false },
    ]);
  });

  it("a request waiting for a slot triggers on the tick after the pending one aborts", () => {
    const c = make();
    c.handle(tick(100));
    expect(c.handle(request(120))).toEqual([]);
    expect(kinds(c.handle(decline(1, "map-0", 130)))).toEqual(["abort 1"]);
    expect(kinds(c.handle(tick(131)))).toEqual(["trigger 2"]);
  });

  it("a request is used up by its trigger: the next one is periodic again", () => {
    const c = make();
    c.handle(request(10));
    completeOne(c, 1, 20);
    expect(c.handle(tick(50))).toEqual([]);
    expect(kinds(c.handle(tick(110)))).toEqual(["trigger 2"]);
  });

  it("a final request marks trigger and write-metadata final, and finishes only after metadata-written", () => {
    const c = make();
    expect(c.handle(request(10, true))).toEqual([{ kind: "trigger", id: 1, timestamp: 10, final: true, stop: false }]);
    expect(c.end).toBeUndefined();
    c.handle(ack(1, "map-0", "s0"));
    c.handle(ack(1, "map-1", "s1"));
    const write = c.handle(ack(1, "sink-0", "s2"));
    expect(write).toEqual([
      {
        kind: "write-metadata",
        id: 1,
        timestamp: 10,
        final: true,
        snapshots: new Map([
          ["map-0", "s0"],
          ["map-1", "s1"],
          ["sink-0", "s2"],
        ]),
      },
    ]);
    expect(c.end).toBeUndefined();
    expect(c.handle(written(1, 20))).toEqual([
      { kind: "notify-complete", id: 1 },
      { kind: "finish", id: 1, outcome: "finished" },
    ]);
    expect(c.end).toBe("finished");
  });

  it("a non-final checkpoint completing does not finish the job", () => {
    const c = make();
    c.handle(request(10, false));
    completeOne(c, 1, 20);
    expect(c.end).toBeUndefined();
  });

  it("a request still waiting when the final checkpoint completes is dropped", () => {
    const c = make();
    c.handle(request(10, true));
    expect(c.handle(request(11, false))).toEqual([]); // waits for the slot held by final 1
    expect(c.pendingIds).toEqual([1]);
    expect(kinds(completeOne(c, 1, 20))).toEqual(["notify-complete 1", "finish 1"]);
    expect(c.end).toBe("finished");
    expect(c.handle(tick(1_000))).toEqual([]);
  });

  it("a waiting non-final request is upgraded by a later final request", () => {
    const c = make();
    c.handle(tick(100));
    c.handle(request(110, false));
    c.handle(request(111, true));
    const cmds = completeOne(c, 1, 120);
    expect(cmds).toContainEqual({ kind: "trigger", id: 2, timestamp: 120, final: true, stop: false });
  });

  it("triggers nothing more once the final checkpoint has completed", () => {
    const c = make();
    c.handle(request(10, true));
    completeOne(c, 1, 20);
    expect(c.handle(tick(10_000))).toEqual([]);
    expect(c.handle(request(10_001, false))).toEqual([]);
    expect(c.pendingIds).toEqual([]);
  });

  it("re-triggers an aborted final checkpoint on the next tick, still final", () => {
    const c = make();
    c.handle(request(10, true));
    expect(kinds(c.handle(decline(1, "map-1", 20)))).toEqual(["abort 1"]);
    expect(c.end).toBeUndefined();
    expect(c.handle(tick(21))).toEqual([{ kind: "trigger", id: 2, timestamp: 21, final: true, stop: false }]);
    completeOne(c, 2, 30);
    expect(c.end).toBe("finished");
  });

  it("re-triggers a final checkpoint whose metadata failed", () => {
    const c = make();
    c.handle(request(10, true));
    ackAll(c, 1);
    expect(kinds(c.handle(metadataFailed(1, 20)))).toEqual(["abort 1"]);
    expect(c.end).toBeUndefined();
    expect(c.handle(tick(21))).toEqual([{ kind: "trigger", id: 2, timestamp: 21, final: true, stop: false }]);
  });

  // A subsumed final checkpoint must be requested again, or the job would never end.
  it("a final checkpoint subsumed by a newer non-final one is still completed as final", () => {
    const c = make({ config: { maxConcurrent: 2 } });
    expect(kinds(c.handle(request(10, true)))).toEqual(["trigger 1"]);
    expect(kinds(c.handle(tick(110)))).toEqual(["trigger 2"]); // periodic, second slot
    ackAll(c, 2);
    const cmds = c.handle(written(2, 120));
    expect(cmds).toContainEqual({ kind: "abort", id: 1, reason: "subsumed by checkpoint 2" });
    // Either checkpoint 2 carried the final flag, or a new final checkpoint is triggered.
    const finalLater = [...cmds, ...c.handle(tick(121))].some((x) => x.kind === "trigger" && x.final);
    expect(c.end === "finished" || finalLater).toBe(true);
  });
});

const stop = (now: number): CoordinatorEvent => ({ kind: "stop", now });

describe("CheckpointCoordinator: stop with a checkpoint", () => {
  it("a stop triggers a stop checkpoint at once; its completion notifies, then finishes as stopped", () => {
    const c = make();
    expect(c.handle(stop(10))).toEqual([{ kind: "trigger", id: 1, timestamp: 10, final: false, stop: true }]);
    ackAll(c, 1);
    expect(c.end).toBeUndefined();
    expect(c.handle(written(1, 20))).toEqual([
      { kind: "notify-complete", id: 1 },
      { kind: "finish", id: 1, outcome: "stopped" },
    ]);
    expect(c.end).toBe("stopped");
    expect(c.handle(tick(10_000))).toEqual([]);
    expect(c.handle(request(10_001, true))).toEqual([]);
  });

  it("a periodic checkpoint is not a stop checkpoint and does not end the job", () => {
    const c = make();
    expect(c.handle(tick(100))).toEqual([{ kind: "trigger", id: 1, timestamp: 100, final: false, stop: false }]);
    expect(kinds(completeOne(c, 1, 110))).toEqual(["notify-complete 1"]);
    expect(c.end).toBeUndefined();
  });

  it("a second stop while one is in flight or waiting changes nothing", () => {
    const c = make();
    c.handle(stop(10));
    expect(c.handle(stop(11))).toEqual([]);
    expect(kinds(completeOne(c, 1, 20))).toEqual(["notify-complete 1", "finish 1"]);

    const waiting = make();
    waiting.handle(tick(100)); // periodic 1 holds the only slot
    expect(waiting.handle(stop(101))).toEqual([]);
    expect(waiting.handle(stop(102))).toEqual([]);
    const cmds = completeOne(waiting, 1, 110);
    expect(cmds.filter((x) => x.kind === "trigger")).toEqual([{ kind: "trigger", id: 2, timestamp: 110, final: false, stop: true }]);
    expect(kinds(completeOne(waiting, 2, 120))).toEqual(["notify-complete 2", "finish 2"]);
  });

  it("a stop while a periodic checkpoint is in flight waits for it to complete, skipping the min pause", () => {
    const c = make({ config: { minPauseMs: 500 } });
    expect(kinds(c.handle(tick(100)))).toEqual(["trigger 1"]);
    expect(c.handle(stop(105))).toEqual([]); // the slot is taken
    expect(c.handle(tick(150))).toEqual([]);
    const cmds = completeOne(c, 1, 160);
    expect(cmds).toEqual([
      { kind: "notify-complete", id: 1 },
      { kind: "trigger", id: 2, timestamp: 160, final: false, stop: true },
    ]);
    expect(c.end).toBeUndefined(); // checkpoint 1 was periodic
  });

  it("a stop while a periodic checkpoint is in flight is triggered on the tick after that one times out", () => {
    const c = make();
    c.handle(tick(100));
    c.handle(stop(200));
    expect(c.handle(tick(1_100))).toEqual([
      { kind: "abort", id: 1, reason: "timed out after 1000 ms" },
      { kind: "trigger", id: 2, timestamp: 1_100, final: false, stop: true },
    ]);
  });

  it("a declined stop checkpoint is aborted and stop is triggered again on the next tick, with a new id", () => {
    const c = make({ config: { minPauseMs: 10_000 } });
    c.handle(stop(10));
    expect(kinds(c.handle(decline(1, "map-0", 20)))).toEqual(["abort 1"]);
    expect(c.end).toBeUndefined();
    expect(c.handle(tick(21))).toEqual([{ kind: "trigger", id: 2, timestamp: 21, final: false, stop: true }]);
    expect(kinds(completeOne(c, 2, 30))).toEqual(["notify-complete 2", "finish 2"]);
    expect(c.end).toBe("stopped");
  });

  it("a timed-out stop checkpoint is retried, and the job keeps running meanwhile", () => {
    const c = make();
    c.handle(stop(0));
    ackAll(c, 1, ["map-0"]);
    const cmds = c.handle(tick(1_000));
    expect(cmds).toEqual([
      { kind: "abort", id: 1, reason: "timed out after 1000 ms" },
      { kind: "trigger", id: 2, timestamp: 1_000, final: false, stop: true },
    ]);
    expect(c.handle(ack(1, "map-1"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("discarded");
  });

  it("a stop checkpoint whose metadata failed is retried", () => {
    const c = make();
    c.handle(stop(0));
    ackAll(c, 1);
    expect(kinds(c.handle(metadataFailed(1, 5)))).toEqual(["abort 1"]);
    expect(kinds(c.handle(tick(6)))).toEqual(["trigger 2"]);
    expect(kinds(completeOne(c, 2, 7))).toEqual(["notify-complete 2", "finish 2"]);
  });

  it("a stop checkpoint failing more than tolerableFailures times in a row fails the job", () => {
    const c = make({ config: { tolerableFailures: 1 } });
    c.handle(stop(0));
    expect(kinds(c.handle(decline(1, "map-0", 1)))).toEqual(["abort 1"]);
    c.handle(tick(2));
    expect(kinds(c.handle(decline(2, "map-0", 3)))).toEqual(["abort 2", "fail-job"]);
  });

  it("a final request wins over a waiting stop: the final checkpoint ends the job as finished", () => {
    const c = make();
    c.handle(tick(100));
    c.handle(stop(101));
    c.handle(request(102, true));
    const cmds = completeOne(c, 1, 110);
    expect(cmds).toContainEqual({ kind: "trigger", id: 2, timestamp: 110, final: true, stop: false });
    expect(kinds(completeOne(c, 2, 120))).toEqual(["notify-complete 2", "finish 2"]);
    expect(c.end).toBe("finished");
  });

  it("a stop checkpoint subsumed by a newer one is requested again", () => {
    const c = make({ config: { maxConcurrent: 2 } });
    expect(kinds(c.handle(stop(10)))).toEqual(["trigger 1"]);
    expect(kinds(c.handle(tick(110)))).toEqual(["trigger 2"]);
    const cmds = completeOne(c, 2, 120);
    expect(cmds).toContainEqual({ kind: "abort", id: 1, reason: "subsumed by checkpoint 2" });
    expect(cmds).toContainEqual({ kind: "trigger", id: 3, timestamp: 120, final: false, stop: true });
  });

  it("retention's discards come before finish", () => {
    const c = make({ config: { retain: 1 }, retained: [4] });
    c.handle(stop(10));
    expect(kinds(completeOne(c, 1, 20))).toEqual(["notify-complete 1", "discard 4", "finish 1"]);
  });
});

describe("CheckpointCoordinator: acknowledgements", () => {
  it("reports success for a first ack from an expected task of a pending checkpoint", () => {
    const c = make();
    c.handle(tick(100));
    expect(c.handle(ack(1, "map-0"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("success");
  });

  it("reports duplicate for a second ack of the same task, and keeps the first snapshot", () => {
    const c = make();
    c.handle(tick(100));
    c.handle(ack(1, "map-0", "first"));
    expect(c.handle(ack(1, "map-0", "second"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("duplicate");
    c.handle(ack(1, "map-1"));
    const [write] = c.handle(ack(1, "sink-0"));
    expect(write?.kind === "write-metadata" && write.snapshots.get("map-0")).toBe("first");
  });

  it("a duplicate ack after all acks does not write the metadata twice", () => {
    const c = make();
    c.handle(tick(100));
    expect(kinds(ackAll(c, 1))).toEqual(["write-metadata 1"]);
    expect(c.handle(ack(1, "sink-0"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("duplicate");
  });

  it("reports unknown for an id never triggered", () => {
    const c = make();
    c.handle(tick(100));
    expect(c.handle(ack(99, "map-0"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("unknown");
    expect(c.handle(ack(0, "map-0"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("unknown");
  });

  it("reports unknown for a task outside the expected set, which does not count toward completion", () => {
    const c = make();
    c.handle(tick(100));
    c.handle(ack(1, "map-0"));
    c.handle(ack(1, "map-1"));
    expect(c.handle(ack(1, "intruder"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("unknown");
    expect(kinds(c.handle(ack(1, "sink-0")))).toEqual(["write-metadata 1"]);
  });

  it("reports discarded for an aborted id", () => {
    const c = make();
    c.handle(tick(100));
    c.handle(decline(1, "map-0", 110));
    expect(c.handle(ack(1, "map-1"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("discarded");
  });

  it("reports discarded for a completed id", () => {
    const c = make();
    c.handle(tick(100));
    completeOne(c, 1, 110);
    expect(c.handle(ack(1, "map-1"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("discarded");
  });

  it("writes metadata only after the last expected task acked, with every task's snapshot", () => {
    const c = make();
    c.handle(tick(100));
    expect(c.handle(ack(1, "map-0", { offsets: [1, 2] }))).toEqual([]);
    expect(c.handle(ack(1, "sink-0", { txn: "t-1" }))).toEqual([]);
    const cmds = c.handle(ack(1, "map-1", null));
    expect(cmds).toHaveLength(1);
    const write = cmds[0]!;
    expect(write.kind).toBe("write-metadata");
    if (write.kind !== "write-metadata") return;
    expect(write).toMatchObject({ id: 1, timestamp: 100, final: false });
    expect(new Map(write.snapshots)).toEqual(
      new Map<string, unknown>([
        ["map-0", { offsets: [1, 2] }],
        ["sink-0", { txn: "t-1" }],
        ["map-1", null],
      ]),
    );
  });

  it("does not notify completion on write-metadata, only on metadata-written", () => {
    const c = make();
    c.handle(tick(100));
    const cmds = ackAll(c, 1);
    expect(cmds.some((x) => x.kind === "notify-complete")).toBe(false);
    expect(c.completedIds).toEqual([]);
    expect(c.pendingIds).toEqual([1]);
    expect(c.handle(written(1, 120))).toEqual([{ kind: "notify-complete", id: 1 }]);
    expect(c.completedIds).toEqual([1]);
    expect(c.pendingIds).toEqual([]);
  });

  it("ignores metadata-written for a checkpoint still waiting for acks, or unknown", () => {
    const c = make();
    c.handle(tick(100));
    c.handle(ack(1, "map-0"));
    expect(c.handle(written(1, 110))).toEqual([]);
    expect(c.handle(written(77, 110))).toEqual([]);
    expect(c.completedIds).toEqual([]);
    expect(c.pendingIds).toEqual([1]);
  });

  it("completes with a single task", () => {
    const c = make({ tasks: ["only"] });
    c.handle(tick(100));
    expect(kinds(c.handle(ack(1, "only")))).toEqual(["write-metadata 1"]);
  });
});

describe("CheckpointCoordinator: aborts", () => {
  it("metadata-failed aborts the checkpoint and the job keeps checkpointing", () => {
    const c = make();
    c.handle(tick(100));
    ackAll(c, 1);
    const cmds = c.handle(metadataFailed(1, 110));
    expect(cmds).toEqual([{ kind: "abort", id: 1, reason: expect.stringContaining("EIO") }]);
    expect(c.pendingIds).toEqual([]);
    expect(c.handle(written(1, 111))).toEqual([]);
    expect(c.completedIds).toEqual([]);
    expect(kinds(c.handle(tick(200)))).toEqual(["trigger 2"]);
  });

  it("a decline aborts at once, naming the task and reason; later acks are discarded", () => {
    const c = make();
    c.handle(tick(100));
    c.handle(ack(1, "map-0"));
    const cmds = c.handle(decline(1, "map-1", 105));
    expect(cmds).toHaveLength(1);
    expect(cmds[0]).toMatchObject({ kind: "abort", id: 1 });
    expect(cmds[0]!.kind === "abort" && cmds[0]!.reason).toMatch(/map-1.*disk full/);
    c.handle(ack(1, "map-1"));
    expect(c.handle(ack(1, "sink-0"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("discarded");
  });

  it("a decline of an unknown id does nothing", () => {
    const c = make();
    c.handle(tick(100));
    expect(c.handle(decline(5, "map-0", 110))).toEqual([]);
    expect(c.pendingIds).toEqual([1]);
  });

  it("times out on a tick at exactly timeoutMs after the trigger, not before", () => {
    const c = make({ config: { timeoutMs: 500 } });
    c.handle(tick(100));
    c.handle(ack(1, "map-0"));
    expect(c.handle(tick(599))).toEqual([]);
    const cmds = c.handle(tick(600));
    expect(cmds[0]).toEqual({ kind: "abort", id: 1, reason: expect.stringContaining("500") });
    expect(c.pendingIds).not.toContain(1);
  });

  it("times out on a tick after timeoutMs, and may trigger the next one on the same tick", () => {
    const c = make({ config: { timeoutMs: 500 } });
    c.handle(tick(100));
    expect(kinds(c.handle(tick(5_000)))).toEqual(["abort 1", "trigger 2"]);
  });

  it("does not time out a checkpoint whose metadata is being written", () => {
    const c = make({ config: { timeoutMs: 500 } });
    c.handle(tick(100));
    ackAll(c, 1);
    expect(c.handle(tick(10_000))).toEqual([]);
    expect(c.pendingIds).toEqual([1]);
    expect(kinds(c.handle(written(1, 10_001)))).toEqual(["notify-complete 1", "trigger 2"]);
  });

  it("a request also expires timed-out checkpoints before deciding", () => {
    const c = make({ config: { timeoutMs: 500 } });
    c.handle(tick(100));
    expect(kinds(c.handle(request(700)))).toEqual(["abort 1", "trigger 2"]);
  });

  it("a failure counts as settling for the min pause", () => {
    const c = make({ config: { minPauseMs: 300 } });
    c.handle(tick(100));
    c.handle(decline(1, "map-0", 150));
    expect(c.handle(tick(449))).toEqual([]);
    expect(kinds(c.handle(tick(450)))).toEqual(["trigger 2"]);
  });
});

describe("CheckpointCoordinator: subsumption", () => {
  it("completing n aborts pending older checkpoints but not newer ones", () => {
    const c = make({ config: { maxConcurrent: 3 } });
    c.handle(tick(100));
    c.handle(tick(200));
    c.handle(tick(300));
    expect(c.pendingIds).toEqual([1, 2, 3]);
    const cmds = completeOne(c, 2, 310);
    expect(cmds).toEqual([
      { kind: "notify-complete", id: 2 },
      { kind: "abort", id: 1, reason: "subsumed by checkpoint 2" },
    ]);
    expect(c.pendingIds).toEqual([3]);
    expect(c.completedIds).toEqual([2]);
    expect(c.handle(ack(1, "map-0"))).toEqual([]);
    expect(c.lastAckOutcome).toBe("discarded");
  });

  it("subsumes an older checkpoint even while its metadata is being written; its metadata-written is then ignored", () => {
    const c = make({ config: { maxConcurrent: 2 } });
    c.handle(tick(100));
    c.handle(tick(200));
    ackAll(c, 1);
    expect(kinds(completeOne(c, 2, 210))).toEqual(["notify-complete 2", "abort 1"]);
    expect(c.handle(written(1, 220))).toEqual([]);
    expect(c.completedIds).toEqual([2]);
  });

  it("subsumed aborts are not counted as failures", () => {
    const c = make({ config: { maxConcurrent: 3, tolerableFailures: 0 } });
    c.handle(tick(100));
    c.handle(tick(200));
    c.handle(tick(300));
    const cmds = completeOne(c, 3, 310);
    expect(kinds(cmds)).toEqual(["notify-complete 3", "abort 1", "abort 2"]);
    expect(cmds.some((x) => x.kind === "fail-job")).toBe(false);
  });
});

describe("CheckpointCoordinator: retention", () => {
  it("discards completed checkpoints beyond retain, oldest first", () => {
    const c = make({ config: { retain: 2 } });
    const discards: number[] = [];
    for (let i = 1; i <= 5; i++) {
      c.handle(tick(i * 100));
      for (const cmd of completeOne(c, i, i * 100 + 10)) if (cmd.kind === "discard") discards.push(cmd.id);
      expect(c.completedIds).toHaveLength(Math.min(i, 2));
    }
    expect(discards).toEqual([1, 2, 3]);
    expect(c.completedIds).toEqual([4, 5]);
  });

  it("discard comes after notify-complete in the same command list", () => {
    const c = make({ config: { retain: 1 } });
    c.handle(tick(100));
    completeOne(c, 1, 110);
    c.handle(tick(200));
    expect(kinds(completeOne(c, 2, 210))).toEqual(["notify-complete 2", "discard 1"]);
  });

  it("counts checkpoints retained from before a restart, discarding them first", () => {
    const c = make({ config: { retain: 2 }, retained: [3, 5], firstId: 6 });
    expect(c.completedIds).toEqual([3, 5]);
    c.handle(tick(100));
    expect(kinds(completeOne(c, 6, 110))).toEqual(["notify-complete 6", "discard 3"]);
    c.handle(tick(200));
    expect(kinds(completeOne(c, 7, 210))).toEqual(["notify-complete 7", "discard 5"]);
    expect(c.completedIds).toEqual([6, 7]);
  });

  it("reports an ack for a retained id as discarded", () => {
    const c = make({ retained: [3], firstId: 4 });
    c.handle(ack(3, "map-0"));
    expect(c.lastAckOutcome).toBe("discarded");
  });

  it("keeps at least one completed checkpoint even with retain 0", () => {
    const c = make({ config: { retain: 0 } });
    c.handle(tick(100));
    expect(kinds(completeOne(c, 1, 110))).toEqual(["notify-complete 1"]);
    c.handle(tick(200));
    expect(kinds(completeOne(c, 2, 210))).toEqual(["notify-complete 2", "discard 1"]);
  });
});

describe("CheckpointCoordinator: tolerable failures", () => {
  const failOnce = (c: CheckpointCoordinator, now: number): CoordinatorCommand[] => {
    const [trig] = c.handle(request(now));
    if (trig?.kind !== "trigger") throw new Error(`expected a trigger, got ${JSON.stringify(trig)}`);
    return c.handle(decline(trig.id, "map-0", now));
  };

  it("fails the job after more than N consecutive failures, not at N", () => {
    const c = make({ config: { tolerableFailures: 2 } });
    expect(kinds(failOnce(c, 10))).toEqual(["abort 1"]);
    expect(kinds(failOnce(c, 20))).toEqual(["abort 2"]);
    const third = failOnce(c, 30);
    expect(kinds(third)).toEqual(["abort 3", "fail-job"]);
    expect(third[1]).toMatchObject({ kind: "fail-job", reason: expect.stringContaining("3 checkpoints failed in a row") });
  });

  it("with 0 tolerable failures the first failure fails the job", () => {
    const c = make({ config: { tolerableFailures: 0 } });
    expect(kinds(failOnce(c, 10))).toEqual(["abort 1", "fail-job"]);
  });

  it("a completion resets the count", () => {
    const c = make({ config: { tolerableFailures: 1 } });
    failOnce(c, 10);
    c.handle(request(20));
    completeOne(c, 2, 25);
    expect(kinds(failOnce(c, 30))).toEqual(["abort 3"]);
    expect(kinds(failOnce(c, 40))).toEqual(["abort 4", "fail-job"]);
  });

  it("timeouts and metadata failures count too", () => {
    const c = make({ config: { tolerableFailures: 1, timeoutMs: 50 } });
    c.handle(request(0));
    expect(kinds(c.handle(tick(50)))).toEqual(["abort 1"]);
    c.handle(request(60));
    ackAll(c, 2);
    expect(kinds(c.handle(metadataFailed(2, 70)))).toEqual(["abort 2", "fail-job"]);
  });

  it("tolerates any number of failures by default", () => {
    const c = make();
    for (let i = 0; i < 50; i++) expect(failOnce(c, i * 10).some((x) => x.kind === "fail-job")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Property test: random event sequences against invariants tracked outside the coordinator.

type Step =
  | { readonly kind: "tick"; readonly dt: number }
  | { readonly kind: "request"; readonly final: boolean }
  | { readonly kind: "stop" }
  | { readonly kind: "ack"; readonly id: IdPick; readonly task: number }
  | { readonly kind: "decline"; readonly id: IdPick; readonly task: number }
  | { readonly kind: "written"; readonly id: IdPick }
  | { readonly kind: "failed"; readonly id: IdPick };

/** An id: one of the currently pending ones (by index), or any small number. */
type IdPick = { readonly pending: number } | { readonly raw: number };

const idPick: fc.Arbitrary<IdPick> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(3).map((pending) => ({ pending })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 25 }).map((raw) => ({ raw })) },
);

const PROP_TASKS = ["t0", "t1", "t2"];
const taskIndex = fc.nat(PROP_TASKS.length); // PROP_TASKS.length means an unknown task

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(150).map((dt) => ({ kind: "tick" as const, dt })) },
  { weight: 1, arbitrary: fc.boolean().map((final) => ({ kind: "request" as const, final })) },
  { weight: 1, arbitrary: fc.constant({ kind: "stop" as const }) },
  { weight: 20, arbitrary: fc.record({ id: idPick, task: taskIndex }).map((s) => ({ kind: "ack" as const, ...s })) },
  { weight: 1, arbitrary: fc.record({ id: idPick, task: taskIndex }).map((s) => ({ kind: "decline" as const, ...s })) },
  { weight: 3, arbitrary: idPick.map((id) => ({ kind: "written" as const, id })) },
  { weight: 1, arbitrary: idPick.map((id) => ({ kind: "failed" as const, id })) },
);

const propConfig: fc.Arbitrary<CoordinatorConfig> = fc.record({
  intervalMs: fc.integer({ min: 1, max: 500 }),
  timeoutMs: fc.integer({ min: 1, max: 3_000 }),
  minPauseMs: fc.integer({ min: 0, max: 500 }),
  maxConcurrent: fc.integer({ min: 1, max: 3 }),
  retain: fc.integer({ min: 1, max: 2 }),
  tolerableFailures: fc.oneof(fc.constant(Infinity), fc.nat(3)),
});

describe("CheckpointCoordinator: invariants under random events (property)", () => {
  it("completes only fully acked checkpoints, after their metadata is written, in increasing order; ends only by a final or stop checkpoint", () => {
    // How often the generated runs reach each command: guards against a generator that never completes anything.
    const seen = { "write-metadata": 0, "notify-complete": 0, abort: 0, discard: 0, "fail-job": 0, trigger: 0, finish: 0 };
    let stopsTriggered = 0;
    fc.assert(
      fc.property(propConfig, fc.integer({ min: 1, max: 10 }), fc.array(step, { minLength: 10, maxLength: 200, size: "max" }), (config, firstId, steps) => {
        const c = new CheckpointCoordinator({ config, tasks: PROP_TASKS, firstId, now: 0 });
        const expected = new Set(PROP_TASKS);
        let now = 0;
        const triggered = new Set<number>();
        const finalOf = new Map<number, boolean>();
        const stopOf = new Map<number, boolean>();
        let ended: "finished" | "stopped" | undefined;
        const acked = new Map<number, Map<string, unknown>>(); // first ack per task after trigger
        const metadataRequested = new Set<number>();
        const settled = new Set<number>(); // aborted or completed
        const completed: number[] = [];
        let lastTriggered = -Infinity;
        let snapshotSeq = 0;

        for (const s of steps) {
          const pending = c.pendingIds;
          const resolve = (pick: IdPick): number =>
            "pending" in pick ? (pending.length > 0 ? pending[pick.pending % pending.length]! : firstId) : pick.raw;
          let event: CoordinatorEvent;
          switch (s.kind) {
            case "tick":
              now += s.dt;
              event = { kind: "tick", now };
              break;
            case "request":
              event = { kind: "request", now, final: s.final };
              break;
            case "stop":
              event = { kind: "stop", now };
              break;
            case "ack": {
              const id = resolve(s.id);
              const task = PROP_TASKS[s.task] ?? "ghost";
              const snapshot = { task, seq: snapshotSeq++ };
              event = { kind: "ack", now, id, task, snapshot };
              const mine = acked.get(id);
              if (mine !== undefined && expected.has(task) && !mine.has(task)) mine.set(task, snapshot);
              break;
            }
            case "decline":
              event = { kind: "decline", now, id: resolve(s.id), task: PROP_TASKS[s.task] ?? "ghost", reason: "r" };
              break;
            case "written":
              event = { kind: "metadata-written", now, id: resolve(s.id) };
              break;
            case "failed":
              event = { kind: "metadata-failed", now, id: resolve(s.id), reason: "r" };
              break;
          }

          const commands = c.handle(event);

          for (const cmd of commands) {
            seen[cmd.kind]++;
            switch (cmd.kind) {
              case "trigger":
                expect(triggered.has(cmd.id)).toBe(false);
                expect(cmd.id).toBeGreaterThan(lastTriggered);
                expect(cmd.id).toBeGreaterThanOrEqual(firstId);
                expect(cmd.timestamp).toBe(now);
                expect(ended).toBeUndefined();
                expect(cmd.final && cmd.stop).toBe(false);
                lastTriggered = cmd.id;
                triggered.add(cmd.id);
                finalOf.set(cmd.id, cmd.final);
                stopOf.set(cmd.id, cmd.stop);
                if (cmd.stop) stopsTriggered++;
                acked.set(cmd.id, new Map());
                break;
              case "write-metadata": {
                expect(triggered.has(cmd.id)).toBe(true);
                expect(settled.has(cmd.id)).toBe(false);
                expect(metadataRequested.has(cmd.id)).toBe(false);
                // Every expected task acked this id since its trigger, and the snapshots are theirs.
                const mine = acked.get(cmd.id)!;
                expect(new Set(mine.keys())).toEqual(expected);
                expect(new Set(cmd.snapshots.keys())).toEqual(expected);
                for (const [task, snap] of mine) expect(cmd.snapshots.get(task)).toBe(snap);
                expect(cmd.final).toBe(finalOf.get(cmd.id));
                metadataRequested.add(cmd.id);
                break;
              }
              case "notify-complete":
                expect(event.kind).toBe("metadata-written");
                expect(event.kind === "metadata-written" && event.id).toBe(cmd.id);
                expect(metadataRequested.has(cmd.id)).toBe(true);
                expect(settled.has(cmd.id)).toBe(false);
                if (completed.length > 0) expect(cmd.id).toBeGreaterThan(completed[completed.length - 1]!);
                completed.push(cmd.id);
                settled.add(cmd.id);
                break;
              case "abort":
                expect(triggered.has(cmd.id)).toBe(true);
                expect(settled.has(cmd.id)).toBe(false);
                settled.add(cmd.id);
                break;
              case "discard":
                expect(completed).toContain(cmd.id);
                break;
              case "fail-job":
                break;
              case "finish": {
                // Right after the notify-complete of a final or stop checkpoint, once.
                expect(ended).toBeUndefined();
                expect(completed[completed.length - 1]).toBe(cmd.id);
                expect(cmd.outcome).toBe(finalOf.get(cmd.id) === true ? "finished" : stopOf.get(cmd.id) === true ? "stopped" : "neither");
                ended = cmd.outcome;
                break;
              }
            }
          }

          // In flight = triggered and not yet settled; never more than maxConcurrent.
          const inFlight = [...triggered].filter((id) => !settled.has(id)).sort((a, b) => a - b);
          expect(inFlight.length).toBeLessThanOrEqual(config.maxConcurrent);
          expect([...c.pendingIds].sort((a, b) => a - b)).toEqual(inFlight);
          expect(c.end).toBe(ended);
          // The first final or stop checkpoint to complete ends the job.
          const ender = completed.find((id) => finalOf.get(id) === true || stopOf.get(id) === true);
          expect(ended).toBe(ender === undefined ? undefined : finalOf.get(ender) === true ? "finished" : "stopped");
        }
      }),
      { numRuns: 200 },
    );
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(10);
    expect(stopsTriggered).toBeGreaterThan(10);
  });
});
