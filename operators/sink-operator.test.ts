/**
 * The sink operator's two-phase-commit books, against the real file sink in a temporary
 * directory (what readers see: files not starting with a dot) and, for commit failures, a small
 * transactional writer that keeps the contract and records every call.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../common/manual-clock.ts";
import { externalError, internalError, isWeirError } from "../common/errors.ts";
import type { SinkWriter } from "../connectors/sink.ts";
import { toFiles, type FileCommittable } from "../connectors/file-sink.ts";
import { sinkOperator, type SinkOperator } from "./sink-operator.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "weir-sink-op-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fileSinkOperator = async (): Promise<SinkOperator<number>> => {
  const writer = await toFiles<number>(join(dir, "out")).createWriter({
    jobName: "j",
    operatorName: "files",
    subtask: 0,
    parallelism: 1,
    runId: "r1",
    checkpointIntervalMs: 1_000,
  });
  return sinkOperator("files", writer);
};

/** What a reader of the output directory sees: the committed records, sorted. */
const visible = async (): Promise<number[]> => {
  const out = join(dir, "out");
  const names = (await readdir(out)).filter((n) => !n.startsWith("."));
  const lines: number[] = [];
  for (const n of names) for (const l of (await readFile(join(out, n), "utf8")).split("\n")) if (l !== "") lines.push(Number(l));
  return lines.sort((a, b) => a - b);
};

const write = async (op: SinkOperator<number>, records: number[]) => {
  await op.processBatch(records, []);
};

describe("sink operator with the file sink", () => {
  it("carries an aborted checkpoint's committables into the next checkpoint and commits them when it completes", async () => {
    const op = await fileSinkOperator();
    await write(op, [1, 2]);
    await op.preCommit(1);
    const first = op.pendingCommittables();
    expect(first).toHaveLength(1);
    // Checkpoint 1 is aborted: no commitUpTo(1). Its part file stays pending, invisible.
    await write(op, [3]);
    await op.preCommit(2);
    const carried = op.pendingCommittables() as FileCommittable[];
    expect(carried).toHaveLength(2);
    expect(carried[0]).toEqual(first[0]); // oldest first: checkpoint 1's file, then 2's
    expect(await visible()).toEqual([]);
    await op.commitUpTo(2);
    expect(await visible()).toEqual([1, 2, 3]);
    expect(op.pendingCommittables()).toEqual([]);
    await op.close?.();
  });

  it("commitUpTo(n) commits checkpoints up to n only; later ones stay pending for their own completion", async () => {
    const op = await fileSinkOperator();
    for (const id of [1, 2, 3]) {
      await write(op, [id * 10]);
      await op.preCommit(id);
    }
    await op.commitUpTo(2);
    expect(await visible()).toEqual([10, 20]);
    expect(op.pendingCommittables()).toHaveLength(1);
    await op.commitUpTo(3);
    expect(await visible()).toEqual([10, 20, 30]);
    await op.close?.();
  });

  it("committing again what is already committed (a repeated notification, or recovery) changes nothing", async () => {
    const op = await fileSinkOperator();
    await write(op, [1, 2]);
    await op.preCommit(1);
    const committables = op.pendingCommittables();
    await op.commitUpTo(1);
    await op.commitUpTo(1);
    expect(await visible()).toEqual([1, 2]);
    // Recovery commits the checkpoint's committables once more: idempotent, nothing duplicated.
    await op.writer.commit(committables);
    expect(await visible()).toEqual([1, 2]);
    await op.close?.();
  });

  it("a checkpoint with nothing written adds no committable", async () => {
    const op = await fileSinkOperator();
    await op.preCommit(1);
    expect(op.pendingCommittables()).toEqual([]);
    await op.commitUpTo(1);
    expect(await visible()).toEqual([]);
    await op.close?.();
  });
});

describe("sink operator with a writer that cuts on call", () => {
  it("lists only the committables of checkpoints up to the one asked for", async () => {
    const op = await fileSinkOperator();
    expect(op.cutsOnCall).toBe(true);
    await write(op, [1]);
    const first = op.preCommit(1);
    await write(op, [2]);
    await Promise.all([first, op.preCommit(2)]);
    expect(op.pendingCommittables(1)).toHaveLength(1);
    expect(op.pendingCommittables(2)).toHaveLength(2);
    expect(op.pendingCommittables()).toHaveLength(2);
    await op.commitUpTo(1);
    expect(await visible()).toEqual([1]);
    await op.close?.();
  });

  it("is broken by a failed pre-commit: later writes and pre-commits fail with its error", async () => {
    const writer: SinkWriter<number, string> = {
      cutsOnCall: true,
      write: () => undefined,
      preCommit: () => Promise.reject(externalError("DISK_GONE", "the disk went away")),
      commit: async () => undefined,
      close: async () => undefined,
    };
    const op = sinkOperator("files", writer);
    await expect(op.preCommit(1)).rejects.toMatchObject({ code: "DISK_GONE", operator: "files" });
    expect(() => op.processBatch([1], [])).toThrow("the disk went away");
    await expect(op.preCommit(2)).rejects.toMatchObject({ code: "DISK_GONE" });
  });

  it("a writer that does not cut on call stays usable after a failed pre-commit (the engine awaited it)", async () => {
    let fail = true;
    const writer: SinkWriter<number, string> = {
      write: () => undefined,
      preCommit: () => (fail ? Promise.reject(externalError("FLAKY", "flaky")) : Promise.resolve(["t"])),
      commit: async () => undefined,
      close: async () => undefined,
    };
    const op = sinkOperator("txns", writer);
    await expect(op.preCommit(1)).rejects.toMatchObject({ code: "FLAKY" });
    fail = false;
    expect(op.processBatch([1], [])).toBeUndefined();
    await op.preCommit(2);
    expect(op.pendingCommittables()).toEqual(["t"]);
  });
});

/**
 * A transactional writer that keeps the contract: preCommit returns the open transaction's id,
 * commit makes its records visible once (idempotent). `failures` lists the errors the next
 * commit attempts throw; a failing attempt may first commit (as a lost acknowledgement would).
 */
class RecordingWriter implements SinkWriter<number, string> {
  readonly calls: string[] = [];
  readonly visible: number[] = [];
  failures: { error: Error; afterCommitting: boolean }[] = [];
  private open: number[] = [];
  private readonly prepared = new Map<string, number[]>();
  private readonly committed = new Set<string>();
  private next = 0;
  constructor(private readonly clock: ManualClock) {}

  write(records: readonly number[]): void {
    this.open.push(...records);
  }

  async preCommit(checkpointId: number): Promise<readonly string[]> {
    const txn = `txn-${this.next++}`;
    this.prepared.set(txn, this.open);
    this.open = [];
    this.calls.push(`preCommit ${checkpointId} -> ${txn}`);
    return [txn];
  }

  async commit(txns: readonly string[]): Promise<void> {
    this.calls.push(`commit ${txns.join(",")} @${this.clock.now()}`);
    const failure = this.failures.shift();
    if (failure !== undefined && !failure.afterCommitting) throw failure.error;
    for (const txn of txns) {
      if (this.committed.has(txn)) continue;
      this.committed.add(txn);
      this.visible.push(...this.prepared.get(txn)!);
    }
    if (failure !== undefined) throw failure.error;
  }

  async close(): Promise<void> {}
}

/** Waits (without time passing) until the operator is sleeping before its next attempt, or done. */
const untilWaiting = async (clock: ManualClock, settled: () => boolean) => {
  while (clock.pendingTimers === 0 && !settled()) await new Promise((r) => setImmediate(r));
};

describe("sink operator commit retries", () => {
  const retriable = () => externalError("BROKER_DOWN", "connection refused", { retriable: true });

  it("retries a retriable commit failure after a doubling backoff on the clock until it succeeds", async () => {
    const clock = new ManualClock(0);
    const writer = new RecordingWriter(clock);
    const op = sinkOperator("txns", writer, { clock, retry: { attempts: 5, delayMs: 100 } });
    writer.write([1, 2]);
    await op.preCommit(1);
    writer.failures = [
      { error: retriable(), afterCommitting: false },
      { error: retriable(), afterCommitting: true }, // committed, but the acknowledgement was lost
    ];
    let done = false;
    const committing = op.commitUpTo(1).then(() => (done = true));
    const attempts = () => writer.calls.filter((c) => c.startsWith("commit")).length;
    for (const [n, wait] of [
      [1, 100],
      [2, 200],
    ] as const) {
      await untilWaiting(clock, () => done);
      clock.advance(wait - 1);
      await new Promise((r) => setImmediate(r));
      expect(attempts()).toBe(n); // the backoff has not passed yet
      clock.advance(1);
    }
    await committing;
    expect(writer.calls).toEqual(["preCommit 1 -> txn-0", "commit txn-0 @0", "commit txn-0 @100", "commit txn-0 @300"]);
    expect(writer.visible).toEqual([1, 2]); // committed once, although three attempts ran
    expect(op.pendingCommittables()).toEqual([]);
  });

  it("gives up after the last attempt with an error naming the sink; the committables stay pending", async () => {
    const clock = new ManualClock(0);
    const writer = new RecordingWriter(clock);
    const op = sinkOperator("txns", writer, { clock, retry: { attempts: 2, delayMs: 100 } });
    writer.write([1]);
    await op.preCommit(1);
    writer.failures = [0, 1].map(() => ({ error: retriable(), afterCommitting: false }));
    let error: unknown;
    const committing = op.commitUpTo(1).catch((e: unknown) => (error = e));
    await untilWaiting(clock, () => error !== undefined);
    clock.advance(100);
    await committing;
    expect(isWeirError(error) && error.operator).toBe("txns");
    expect(writer.calls.filter((c) => c.startsWith("commit"))).toHaveLength(2);
    expect(op.pendingCommittables()).toEqual(["txn-0"]);
    expect(writer.visible).toEqual([]);
  });

  it("does not retry a non-retriable failure", async () => {
    const clock = new ManualClock(0);
    const writer = new RecordingWriter(clock);
    const op = sinkOperator("txns", writer, { clock, retry: { attempts: 5, delayMs: 100 } });
    writer.write([1]);
    await op.preCommit(1);
    writer.failures = [{ error: internalError("TXN_FENCED", "producer fenced"), afterCommitting: false }];
    await expect(op.commitUpTo(1)).rejects.toMatchObject({ code: "TXN_FENCED", operator: "txns" });
    expect(writer.calls.filter((c) => c.startsWith("commit"))).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it("commits checkpoints one after another in order, even when a later notification comes first", async () => {
    const clock = new ManualClock(0);
    const writer = new RecordingWriter(clock);
    const op = sinkOperator("txns", writer, { clock });
    for (const id of [1, 2]) {
      writer.write([id]);
      await op.preCommit(id);
    }
    await Promise.all([op.commitUpTo(2), op.commitUpTo(1)]);
    expect(writer.calls.filter((c) => c.startsWith("commit"))).toEqual(["commit txn-0 @0", "commit txn-1 @0"]);
    expect(writer.visible).toEqual([1, 2]);
  });
});
