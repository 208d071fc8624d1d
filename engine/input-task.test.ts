/**
 * Barrier alignment as the real InputTask carries it out (DESIGN §4 step 3), with real channels,
 * gate, chain runner and sink operator: producers push generated batches, watermarks, barriers
 * and ends onto several channels in a generated interleaving with the task's own progress.
 *
 * Invariant: the records the sink has seen when checkpoint n's synchronous part runs (its
 * preCommit) are, on every input, exactly the records before barrier n, in channel order; each
 * barrier is snapshotted, acknowledged and forwarded once, in order; nothing is lost, duplicated
 * or reordered per channel.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { TaskSnapshot } from "../checkpoint/metadata.ts";
import type { SinkWriter } from "../connectors/sink.ts";
import { WatermarkMark } from "../operators/operator.ts";
import { sinkOperator } from "../operators/sink-operator.ts";
import { ChainRunner } from "./chain-runner.ts";
import { Channel } from "./channel.ts";
import { barrier, batchOf, endOfInput, watermark, type StreamElement } from "./elements.ts";
import { InputGate } from "./input-gate.ts";
import { InputTask } from "./input-task.ts";
import { newJobMetrics } from "./metrics.ts";
import { Output } from "./output.ts";
import type { CheckpointBridge } from "./subtask.ts";

interface ChannelPlan {
  /** segments[i] = batches before barrier i+1 (the last segment follows the last barrier carried). */
  readonly segments: readonly (readonly string[][])[];
  /** How many barriers (1..carried) this channel carries before it ends. */
  readonly carried: number;
}

const channelPlan = (c: number, m: number): fc.Arbitrary<ChannelPlan> =>
  fc
    .record({
      sizes: fc.array(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }), { minLength: m + 1, maxLength: m + 1 }),
      carried: fc.integer({ min: 0, max: m }),
    })
    .map(({ sizes, carried }) => ({
      // Record names are unique and name their channel: channel, segment, batch, index.
      segments: sizes.slice(0, carried + 1).map((batches, s) => batches.map((n, b) => Array.from({ length: n }, (_, i) => `c${c}s${s}b${b}r${i}`))),
      carried,
    }));

const scenario = fc.integer({ min: 1, max: 4 }).chain((k) =>
  fc.integer({ min: 1, max: 4 }).chain((m) =>
    fc.record({
      k: fc.constant(k),
      m: fc.constant(m),
      plans: fc.tuple(...Array.from({ length: k }, (_, c) => channelPlan(c, m))),
      // Each entry: push the next element of channel (x mod k) when x < 2k, else let the task run.
      schedule: fc.array(fc.nat(3 * k - 1), { maxLength: 80 }),
    }),
  ),
);

/** A channel's elements: batches, a watermark after odd segments, barriers, then end. */
const elementsOf = (plan: ChannelPlan): StreamElement<string>[] => {
  const out: StreamElement<string>[] = [];
  plan.segments.forEach((batches, s) => {
    for (const records of batches) out.push(batchOf(records));
    if (s % 2 === 1) out.push(watermark(s));
    if (s < plan.carried) out.push(barrier(s + 1, 1_000 + s));
  });
  out.push(endOfInput);
  return out;
};

/** Records of a channel that precede barrier n, in order (all of them if it never carries n). */
const recordsBefore = (plan: ChannelPlan, n: number): string[] => plan.segments.slice(0, n).flat(2);

const ofChannel = (records: readonly string[], c: number): string[] => records.filter((r) => r.startsWith(`c${c}s`));

/** Lets the task run until it waits for input (it never waits on time here). */
const letRun = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs one scenario through a real InputTask; returns what the sink saw. */
const runTask = async (plans: readonly ChannelPlan[], schedule: readonly number[]) => {
  const k = plans.length;
  const elements = plans.map(elementsOf);
  const channels = elements.map((els) => new Channel<unknown>(els.length + 1));
  const downstream = new Channel<unknown>(1_000);
  const written: string[] = [];
  const snapshots: { id: number; written: string[] }[] = [];
  const acks: number[] = [];
  const declines: string[] = [];
  const writer: SinkWriter<string, never> = {
    write: (records) => void written.push(...records),
    preCommit: async (id) => {
      snapshots.push({ id, written: [...written] });
      return [];
    },
    commit: async () => undefined,
    close: async () => undefined,
  };
  const sink = sinkOperator("recorder", writer as SinkWriter<unknown>);
  const chain = new ChainRunner({
    operators: [sink],
    sink,
    output: new Output([{ mode: "pointwise", partitioning: { kind: "forward" }, channels: [downstream], consumerName: "down" }], 128),
    metrics: newJobMetrics(0),
  });
  const bridge = testBridge({
    ack: (id: number, _snapshot: TaskSnapshot) => void acks.push(id),
    decline: (id, _task, reason) => void declines.push(`${id}: ${reason}`),
  });
  const task = new InputTask({
    id: "t",
    chain,
    keyed: [],
    sink: { operator: "recorder", subtask: 0, op: sink },
    bridge,
    gate: new InputGate(channels),
    sides: channels.map(() => 0 as const),
    now: () => 0,
  });

  const pushed = channels.map(() => 0);
  const pushNext = (c: number): void => {
    const el = elements[c]![pushed[c]!];
    if (el === undefined) return;
    pushed[c]!++;
    expect(channels[c]!.push(el)).toBeUndefined(); // never full: capacity covers everything
  };
  const running = task.run();
  for (const x of schedule) {
    if (x < 2 * k) pushNext(x % k);
    else await letRun();
  }
  for (let c = 0; c < k; c++) while (pushed[c]! < elements[c]!.length) pushNext(c);
  await running;
  await letRun(); // the last asynchronous part acknowledges
  const forwarded: StreamElement<unknown>[] = [];
  for (let el = downstream.poll(); el !== undefined; el = downstream.poll()) forwarded.push(el);
  return { written, snapshots, acks, declines, forwarded };
};


/** A checkpoint bridge for tests that never write a checkpoint: acks and declines as given. */
const testBridge = (calls: Partial<Pick<CheckpointBridge, "ack" | "decline">> = {}): CheckpointBridge => ({
  directory: (id) => `/unused/chk-${id}`,
  root: "/unused",
  triggeredAt: () => 0,
  pendingIds: () => [],
  ack: calls.ack ?? (() => undefined),
  decline: calls.decline ?? (() => undefined),
  now: () => 0,
});

describe("InputTask: barrier alignment (property)", () => {
  it("sees before snapshot n exactly the records before barrier n on every input, in channel order; each barrier snapshots, acks and goes downstream once, in order", async () => {
    let snapshotsSeen = 0;
    let multiChannelSnapshots = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ k, m, plans, schedule }) => {
        const { written, snapshots, acks, declines, forwarded } = await runTask(plans, schedule);
        const maxCarried = Math.max(...plans.map((p) => p.carried));
        const ids = Array.from({ length: maxCarried }, (_, i) => i + 1);
        expect(snapshots.map((s) => s.id)).toEqual(ids);
        expect(acks).toEqual(ids);
        expect(declines).toEqual([]);
        for (const snap of snapshots) {
          for (let c = 0; c < k; c++) expect(ofChannel(snap.written, c)).toEqual(recordsBefore(plans[c]!, snap.id));
        }
        // Nothing lost, duplicated or reordered on any channel.
        expect(written).toHaveLength(plans.reduce((n, p) => n + recordsBefore(p, m + 1).length, 0));
        for (let c = 0; c < k; c++) expect(ofChannel(written, c)).toEqual(recordsBefore(plans[c]!, m + 1));
        // Downstream gets each barrier once, in order, and the end last.
        const barriers = forwarded.flatMap((e) => (e.kind === "barrier" ? [e.checkpointId] : []));
        expect(barriers).toEqual(ids);
        expect(forwarded[forwarded.length - 1]).toEqual(endOfInput);
        snapshotsSeen += snapshots.length;
        if (k > 1) multiChannelSnapshots += snapshots.length;
      }),
      { numRuns: 300 },
    );
    // The generator must actually exercise alignment across several channels.
    expect(snapshotsSeen).toBeGreaterThan(200);
    expect(multiChannelSnapshots).toBeGreaterThan(100);
  });
});

describe("InputTask: prefetch hints", () => {
  it("hints the head operator with the batch queued next, before processing the current one", async () => {
    const channel = new Channel<unknown>(8);
    const events: string[] = [];
    const head = {
      prefetch: (records: readonly unknown[]) => void events.push(`hint ${records.join(",")}`),
      processBatch: (records: readonly unknown[]) => void events.push(`process ${records.join(",")}`),
    };
    const chain = new ChainRunner({
      operators: [head],
      sink: undefined,
      output: new Output([], 128),
      metrics: newJobMetrics(0),
    });
    const bridge = testBridge();
    for (const el of [batchOf(["a"]), batchOf(["b"]), watermark(5), batchOf(["c"]), endOfInput]) channel.push(el);
    const task = new InputTask({ id: "t", chain, keyed: [], sink: undefined, bridge, gate: new InputGate([channel]), sides: [0], now: () => 0 });
    await task.run();
    // No hint past a watermark (the next element is not a batch), none at the end.
    expect(events).toEqual(["hint b", "process a", "process b", "process c"]);
  });
});

describe("InputTask: operators that wake it and hand watermarks on themselves (async I/O)", () => {
  it("emits output that became ready while the input is idle, and a held watermark after the records before it", async () => {
    const channel = new Channel<unknown>(8);
    const downstream = new Channel<unknown>(100);
    const held: unknown[] = [];
    let ready: unknown[] = [];
    const head = {
      emitsWatermarks: true,
      processBatch: (records: readonly unknown[]) => void held.push(...records),
      processWatermark: (w: number) => void held.push(new WatermarkMark(w)),
      processingTimeDue: () => (ready.length > 0 ? -Infinity : undefined),
      processProcessingTime: (_now: number, out: unknown[]) => {
        out.push(...ready);
        ready = [];
      },
    };
    const seen: string[] = [];
    const after = {
      processBatch: (records: readonly unknown[], out: unknown[]) => {
        seen.push(`records ${records.join(",")}`);
        out.push(...records);
      },
      processWatermark: (w: number) => void seen.push(`watermark ${w}`),
    };
    const chain = new ChainRunner({
      operators: [head, after],
      sink: undefined,
      output: new Output([{ mode: "pointwise", partitioning: { kind: "forward" }, channels: [downstream], consumerName: "down" }], 128),
      metrics: newJobMetrics(0),
    });
    const task = new InputTask({ id: "t", chain, keyed: [], sink: undefined, bridge: testBridge(), gate: new InputGate([channel]), sides: [0], now: () => 0 });
    const running = task.run();
    for (const el of [batchOf(["a", "b"]), watermark(5), batchOf(["c"])]) channel.push(el);
    await letRun();
    expect(downstream.poll()).toBeUndefined(); // held by the head
    // The results come in while the input stays idle: a wake-up gets them out.
    ready = held.splice(0).map((x) => (x instanceof WatermarkMark ? x : String(x).toUpperCase()));
    task.wake();
    await letRun();
    const forwarded: StreamElement<unknown>[] = [];
    for (let el = downstream.poll(); el !== undefined; el = downstream.poll()) forwarded.push(el);
    expect(forwarded).toEqual([batchOf(["A", "B"]), watermark(5), batchOf(["C"])]);
    expect(seen).toEqual(["records A,B", "watermark 5", "records C"]);
    channel.push(endOfInput);
    await running;
  });
});

describe("InputTask: an operator that blocks input (async I/O at capacity)", () => {
  it("takes no record batch while blocked, but still takes barriers; fires what is due when it unblocks", async () => {
    const channel = new Channel<unknown>(8);
    const downstream = new Channel<unknown>(100);
    const processed: string[] = [];
    let unblock: (() => void) | undefined;
    let blocked: Promise<void> | undefined;
    let fired = 0;
    const head = {
      processBatch: (records: readonly unknown[], out: unknown[]) => {
        processed.push(...records.map(String));
        out.push(...records);
        blocked = new Promise<void>((resolve) => (unblock = resolve));
      },
      inputBlocked: () => blocked,
      processingTimeDue: () => -Infinity,
      processProcessingTime: () => void fired++,
    };
    const chain = new ChainRunner({
      operators: [head],
      sink: undefined,
      output: new Output([{ mode: "pointwise", partitioning: { kind: "forward" }, channels: [downstream], consumerName: "down" }], 128),
      metrics: newJobMetrics(0),
    });
    const acks: number[] = [];
    const task = new InputTask({
      id: "t",
      chain,
      keyed: [],
      sink: undefined,
      bridge: testBridge({ ack: (id) => void acks.push(id) }),
      gate: new InputGate([channel]),
      sides: [0],
      now: () => 0,
    });
    const running = task.run();
    for (const el of [batchOf(["a"]), barrier(1, 0), batchOf(["b"])]) channel.push(el);
    await letRun();
    await letRun();
    expect(processed).toEqual(["a"]); // b waits
    expect(acks).toEqual([1]); // the barrier did not
    const firedBefore = fired;
    blocked = undefined;
    unblock!();
    await letRun();
    expect(processed).toEqual(["a", "b"]);
    expect(fired).toBeGreaterThan(firedBefore);
    blocked = undefined;
    unblock!();
    channel.push(endOfInput);
    await running;
    const forwarded: StreamElement<unknown>[] = [];
    for (let el = downstream.poll(); el !== undefined; el = downstream.poll()) forwarded.push(el);
    expect(forwarded.filter((e) => e.kind !== "watermark")).toEqual([batchOf(["a"]), barrier(1, 0), batchOf(["b"]), endOfInput]);
  });
});

describe("InputTask: a barrier that arrives while an operator blocks input", () => {
  it("is taken and acknowledged although the blocking call never settles, on every input", async () => {
    const channels = [new Channel<unknown>(8), new Channel<unknown>(8)];
    const processed: string[] = [];
    const never = new Promise<void>(() => undefined); // a hung call, no timeout
    let blocked: Promise<void> | undefined;
    const head = {
      processBatch: (records: readonly unknown[]) => {
        processed.push(...records.map(String));
        blocked = never;
      },
      inputBlocked: () => blocked,
    };
    const chain = new ChainRunner({ operators: [head], sink: undefined, output: new Output([], 128), metrics: newJobMetrics(0) });
    const acks: number[] = [];
    const task = new InputTask({
      id: "t",
      chain,
      keyed: [],
      sink: undefined,
      bridge: testBridge({ ack: (id) => void acks.push(id) }),
      gate: new InputGate(channels),
      sides: [0, 0],
      now: () => 0,
    });
    void task.run();
    channels[0]!.push(batchOf(["a"]));
    await letRun();
    await letRun();
    expect(processed).toEqual(["a"]);
    // The task now waits for room; barrier 1 arrives on both inputs meanwhile.
    channels[1]!.push(barrier(1, 0));
    await letRun();
    channels[0]!.push(barrier(1, 0));
    await letRun();
    await letRun();
    expect(acks).toEqual([1]);
  });
});
