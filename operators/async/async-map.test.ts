import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { OperatorHarness, type HarnessElement, type HarnessSnapshot } from "../harness.ts";
import { asyncMapOperator, type AsyncMapSettings } from "./async-map.ts";

/** Lets promise callbacks run (completions reach the operator, and its signal of them the task). */
const settle = async () => {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

interface Call {
  readonly input: number;
  resolve(value: string): void;
  reject(e: unknown): void;
  settled: boolean;
}

/** A fake service whose every call waits until the test settles it. */
const service = () => {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fn = (input: number) =>
    new Promise<string>((resolve, reject) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const call: Call = {
        input,
        settled: false,
        resolve: (v) => {
          if (call.settled) return;
          call.settled = true;
          inFlight--;
          resolve(v);
        },
        reject: (e) => {
          if (call.settled) return;
          call.settled = true;
          inFlight--;
          reject(e);
        },
      };
      calls.push(call);
    });
  return {
    fn,
    calls,
    pending: () => calls.filter((c) => !c.settled),
    get maxInFlight() {
      return maxInFlight;
    },
    /** Answers the pending call for `input`. */
    answer(input: number) {
      const call = calls.find((c) => c.input === input && !c.settled);
      if (call === undefined) throw new Error(`no pending call for ${input}`);
      call.resolve(`r${input}`);
    },
  };
};

const settings = (fn: (x: number) => Promise<string>, overrides: Partial<AsyncMapSettings<number, string>> = {}): AsyncMapSettings<number, string> => ({
  name: "lookup",
  fn,
  capacity: 100,
  ordered: true,
  timeoutMs: undefined,
  retries: 0,
  retryDelayMs: 100,
  ...overrides,
});

const open = (s: AsyncMapSettings<number, string>, options: Parameters<typeof OperatorHarness.open>[1] = {}) =>
  OperatorHarness.open(asyncMapOperator(s), options);

describe("asyncMap: results", () => {
  it("ordered: emits in input order, whatever order the calls complete in, and wakes the idle task for them", async () => {
    const svc = service();
    const h = await open(settings(svc.fn));
    expect(await h.processElements([1, 2, 3])).toEqual([]);
    expect(svc.calls.map((c) => c.input)).toEqual([1, 2, 3]); // issued together
    svc.answer(3);
    svc.answer(2);
    await settle();
    expect(await h.processWakeup()).toEqual([]); // 1 still in flight
    svc.answer(1);
    await settle();
    expect(h.wakeups).toBeGreaterThan(0);
    expect(await h.processWakeup()).toEqual(["r1", "r2", "r3"]);
  });

  it("unordered: emits each result as it completes", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { ordered: false }));
    await h.processElements([1, 2, 3]);
    svc.answer(3);
    await settle();
    expect(await h.processWakeup()).toEqual(["r3"]);
    svc.answer(1);
    svc.answer(2);
    await settle();
    expect(await h.processWakeup()).toEqual(["r1", "r2"]);
  });

  it("results that completed are emitted with the next batch too, and a function may answer without a Promise", async () => {
    const h = await open(settings(((x: number) => (x < 0 ? `now${x}` : Promise.resolve(`r${x}`))) as (x: number) => Promise<string>));
    expect(await h.processElements([-1, -2])).toEqual(["now-1", "now-2"]);
    await h.processElements([1]);
    await settle();
    expect(await h.processElements([-3])).toEqual(["r1", "now-3"]);
  });

  it("unordered: a watermark is emitted only after every record before it, and no record after it overtakes it", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { ordered: false }));
    await h.processElements([1, 2]);
    await h.processWatermark(10);
    await h.processElements([3]);
    svc.answer(3);
    await settle();
    expect(await h.processWakeup()).toEqual([]); // 3 came after the watermark: held back
    svc.answer(2);
    await settle();
    await h.processWakeup();
    svc.answer(1);
    await settle();
    await h.processWakeup();
    expect(h.elements).toEqual([{ record: "r2" }, { record: "r1" }, { watermark: 10 }, { record: "r3" }]);
  });

  it("a watermark with nothing in flight before it goes out at once; consecutive ones are kept as the latest", async () => {
    const svc = service();
    const h = await open(settings(svc.fn));
    await h.processWatermark(5);
    expect(h.elements).toEqual([{ watermark: 5 }]);
    await h.processElements([1]);
    await h.processWatermark(6);
    await h.processWatermark(7);
    svc.answer(1);
    await settle();
    await h.processWakeup();
    expect(h.elements).toEqual([{ watermark: 5 }, { record: "r1" }, { watermark: 7 }]);
  });
});

describe("asyncMap: capacity", () => {
  it("never has more than `capacity` calls in flight, and blocks input while `capacity` records are queued", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { capacity: 2 }));
    expect(h.inputBlocked()).toBeUndefined();
    // A batch is queued whole; what does not fit waits for room, not for the task.
    expect(await h.processElements([1, 2, 3, 4, 5])).toEqual([]);
    expect(svc.calls.map((c) => c.input)).toEqual([1, 2]);
    expect(h.inputBlocked()).toBeInstanceOf(Promise); // the task takes no more records
    svc.answer(2); // not the head: no room in ordered mode
    await settle();
    expect(await h.processWakeup()).toEqual([]);
    expect(svc.calls).toHaveLength(2);
    svc.answer(1);
    await settle();
    expect(await h.processWakeup()).toEqual(["r1", "r2"]);
    expect(svc.calls.map((c) => c.input)).toEqual([1, 2, 3, 4]);
    expect(h.inputBlocked()).toBeInstanceOf(Promise); // 3, 4 and 5 queued
    svc.answer(3);
    svc.answer(4);
    await settle();
    expect(await h.processWakeup()).toEqual(["r3", "r4"]);
    expect(svc.calls.map((c) => c.input)).toEqual([1, 2, 3, 4, 5]);
    expect(h.inputBlocked()).toBeUndefined(); // only 5 queued
    expect(svc.maxInFlight).toBe(2);
  });

  it("the promise of inputBlocked settles when a call completes", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { capacity: 1 }));
    await h.processElements([1, 2]);
    let settled = false;
    void h.inputBlocked()!.then(() => (settled = true));
    await settle();
    expect(settled).toBe(false);
    svc.answer(1);
    await settle();
    expect(settled).toBe(true);
  });

  it("endInput waits for every call in flight and emits all results", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { ordered: false }));
    await h.processElements([1, 2, 3]);
    let done = false;
    const ended = h.endInput().then(() => (done = true));
    svc.answer(2);
    await settle();
    expect(done).toBe(false);
    svc.answer(1);
    svc.answer(3);
    await ended;
    expect(h.output).toEqual(["r2", "r1", "r3"]);
  });
});

/** Input order: batches of records and watermarks; `choices` pick which pending call completes next. */
const scriptArb = fc.record({
  steps: fc.array(fc.oneof(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 7 }), fc.constant("watermark" as const), fc.constant("answer" as const)), {
    maxLength: 25,
  }),
  choices: fc.array(fc.nat(), { minLength: 1, maxLength: 50 }),
  capacity: fc.integer({ min: 1, max: 6 }),
  ordered: fc.boolean(),
});

type Script = typeof scriptArb extends fc.Arbitrary<infer S> ? S : never;

/** Like `service`, but every result names its input, and completion order is chosen by the test. */
const orderScript = async (script: Script) => {
  const calls: { input: number; resolve: () => void; settled: boolean }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fn = (input: number) =>
    new Promise<string>((resolve) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const call = {
        input,
        settled: false,
        resolve: () => {
          call.settled = true;
          inFlight--;
          resolve(`r${input}`);
        },
      };
      calls.push(call);
    });
  const h = await open(settings(fn, { capacity: script.capacity, ordered: script.ordered }));
  let c = 0;
  const answerOne = () => {
    const pending = calls.filter((x) => !x.settled);
    if (pending.length > 0) pending[script.choices[c++ % script.choices.length]! % pending.length]!.resolve();
  };
  const arrivals: HarnessElement<number>[] = [];
  let next = 0;
  let time = 0;
  const untilDone = async (work: Promise<unknown>) => {
    let done = false;
    void work.then(() => (done = true));
    await settle();
    while (!done) {
      answerOne();
      await settle();
    }
    await work;
  };
  /** What a task does while the operator blocks input: waits for completions and emits them. */
  const untilUnblocked = async () => {
    while (h.inputBlocked() !== undefined) {
      answerOne();
      await settle();
      await h.processWakeup();
    }
  };
  for (const step of script.steps) {
    if (step === "watermark") {
      arrivals.push({ watermark: ++time });
      await h.processWatermark(time);
    } else if (step === "answer") {
      answerOne();
      await settle();
      await h.processWakeup();
    } else {
      await untilUnblocked();
      const batch = step.map(() => next++);
      for (const input of batch) arrivals.push({ record: input });
      await h.processElements(batch);
    }
  }
  await untilDone(h.endInput());
  return { h, arrivals, maxInFlight, calls };
};

describe("asyncMap: order properties", () => {
  it("ordered: output = inputs in order with watermarks in place; unordered: same multiset, each watermark after exactly the records before it", async () => {
    await fc.assert(
      fc.asyncProperty(scriptArb, async (script) => {
        const { h, arrivals, maxInFlight, calls } = await orderScript(script);
        expect(maxInFlight).toBeLessThanOrEqual(script.capacity);
        expect(calls.map((c) => c.input)).toEqual(arrivals.flatMap((a) => ("record" in a ? [a.record] : [])));
        const expected = arrivals.map((a) => ("record" in a ? { record: `r${a.record}` } : a));
        // Of watermarks with no record between them, some may be left out, never the latest.
        const emittedWatermarks = h.elements.flatMap((x) => ("watermark" in x ? [x.watermark] : []));
        const arrivedWatermarks = arrivals.flatMap((x) => ("watermark" in x ? [x.watermark] : []));
        expect(emittedWatermarks.every((w, i) => (i === 0 || w > emittedWatermarks[i - 1]!) && arrivedWatermarks.includes(w))).toBe(true);
        const collapse = (xs: readonly HarnessElement<unknown>[]) =>
          xs.filter((x, i) => !("watermark" in x) || !(xs[i + 1] !== undefined && "watermark" in xs[i + 1]!));
        if (script.ordered) {
          expect(collapse(h.elements)).toEqual(collapse(expected));
          return;
        }
        // Unordered: the records between two watermarks are the same set, in any order.
        const segments = (xs: readonly HarnessElement<unknown>[]) => {
          const out: { records: string[]; watermark: number | undefined }[] = [{ records: [], watermark: undefined }];
          for (const x of xs) {
            if ("watermark" in x) {
              out[out.length - 1]!.watermark = x.watermark;
              out.push({ records: [], watermark: undefined });
            } else out[out.length - 1]!.records.push(JSON.stringify(x.record));
          }
          return out.map((s) => ({ ...s, records: s.records.sort() }));
        };
        expect(segments(collapse(h.elements))).toEqual(segments(collapse(expected)));
      }),
      { numRuns: 100 },
    );
  });
});

describe("asyncMap: timeouts and retries", () => {
  it("retries a timed-out call after retryDelay, doubling the delay, and ignores the abandoned attempt's late result", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { timeoutMs: 100, retries: 2, retryDelayMs: 10 }));
    await h.processElements([7]);
    await h.setProcessingTime(100); // attempt 1 times out
    expect(svc.calls).toHaveLength(1);
    await h.setProcessingTime(109);
    expect(svc.calls).toHaveLength(1);
    await h.setProcessingTime(110); // retry 1, 10ms later
    expect(svc.calls).toHaveLength(2);
    await h.setProcessingTime(210); // attempt 2 times out
    await h.setProcessingTime(229);
    expect(svc.calls).toHaveLength(2);
    await h.setProcessingTime(230); // retry 2, 20ms later
    expect(svc.calls).toHaveLength(3);
    svc.calls[0]!.resolve("late");
    svc.calls[2]!.resolve("answered");
    await settle();
    expect(await h.processWakeup()).toEqual(["answered"]);
    expect(await h.endInput()).toEqual([]);
  });

  it("fails the job with ASYNC_TIMEOUT naming the operator, the record, the attempts and the timeout once retries are spent", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { timeoutMs: 50, retries: 1, retryDelayMs: 5 }));
    await h.processElements([41, 42]);
    svc.answer(41);
    await settle();
    await h.setProcessingTime(50);
    await h.setProcessingTime(55);
    expect(svc.calls.map((c) => c.input)).toEqual([41, 42, 42]);
    const failure = await h.setProcessingTime(105).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(h.wakeups).toBeGreaterThan(0);
    expect(failure).toMatchObject({ code: "ASYNC_TIMEOUT", domain: "user", operator: "lookup" });
    expect((failure as Error).message).toBe(
      "operator 'lookup' gave up on record 42 (input 1 of subtask 0) after 2 attempts: the last one timed out after 50ms. If the service is slow rather than down, raise asyncMap's timeout or retries",
    );
    // Every later call fails the same way.
    await expect(h.processElements([43])).rejects.toMatchObject({ code: "ASYNC_TIMEOUT" });
  });

  it("fails with ASYNC_REQUEST_FAILED and the cause when the call keeps rejecting (or throwing)", async () => {
    let n = 0;
    const fn = (x: number): Promise<string> => {
      n++;
      if (n === 1) throw new Error("connection refused");
      return Promise.reject(new Error(`HTTP 503 for ${x}`));
    };
    const h = await open(settings(fn, { retries: 2, retryDelayMs: 1 }));
    await h.processElements([{ id: 9 } as unknown as number]);
    await settle();
    await h.setProcessingTime(1);
    await settle();
    await h.setProcessingTime(3);
    await settle();
    expect(n).toBe(3);
    const failure = await h.processWakeup().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: "ASYNC_REQUEST_FAILED", operator: "lookup" });
    expect((failure as Error).message).toContain(`operator 'lookup' gave up on record {"id":9} (input 0 of subtask 0) after 3 attempts: HTTP 503 for [object Object]`);
    expect((failure as Error & { cause: Error }).cause.message).toBe("HTTP 503 for [object Object]");
  });

  it("a call that fails once and then answers is emitted once", async () => {
    let n = 0;
    const h = await open(settings((x) => (++n === 1 ? Promise.reject(new Error("blip")) : Promise.resolve(`r${x}`)), { retries: 1, retryDelayMs: 0 }));
    await h.processElements([5]);
    await settle();
    await h.setProcessingTime(0);
    await settle();
    expect(await h.processWakeup()).toEqual(["r5"]);
  });
});

describe("asyncMap: checkpoints", () => {
  /** Snapshot of a subtask with inputs `pending` in flight after emitting `emitted`. */
  const inFlightSnapshot = async (opts: { inputs: number[]; answered: number[]; subtask?: number; parallelism?: number; capacity?: number; ordered?: boolean }) => {
    const svc = service();
    const h = await open(settings(svc.fn, { capacity: opts.capacity ?? 100, ordered: opts.ordered ?? true }), {
      subtask: opts.subtask ?? 0,
      parallelism: opts.parallelism ?? 1,
    });
    await h.processElements(opts.inputs);
    for (const a of opts.answered) svc.answer(a);
    await settle();
    await h.processWakeup();
    return { snapshot: await h.snapshot(), emitted: [...h.output], h, svc };
  };

  /** Restores `snapshots` into subtask `subtask` of `parallelism`, answers every call, returns what it emitted and what it called. */
  const restoreAndFinish = async (snapshots: HarnessSnapshot[], subtask: number, parallelism: number, capacity = 100, ordered = true) => {
    const svc = service();
    const h = await open(settings(svc.fn, { capacity, ordered }), { restore: snapshots, subtask, parallelism });
    let done = false;
    const ended = h.endInput().then(() => (done = true));
    await settle();
    while (!done) {
      expect(svc.pending().length).toBeLessThanOrEqual(capacity);
      const next = svc.pending()[0];
      if (next !== undefined) next.resolve(`r${next.input}`);
      await settle();
    }
    await ended;
    return { emitted: h.output, called: svc.calls.map((c) => c.input), h };
  };

  it("stores the records in flight (and those completed but not emitted) and calls them again on restore, in order, each result once", async () => {
    // 1..3 emitted; 5 completed but held behind 4 (ordered); 4, 6, 7 in flight.
    const { snapshot, emitted } = await inFlightSnapshot({ inputs: [1, 2, 3, 4, 5, 6, 7], answered: [1, 2, 3, 5] });
    expect(emitted).toEqual(["r1", "r2", "r3"]);
    const after = await restoreAndFinish([snapshot], 0, 1);
    expect(after.called).toEqual([4, 5, 6, 7]);
    expect([...emitted, ...after.emitted]).toEqual(["r1", "r2", "r3", "r4", "r5", "r6", "r7"]);
  });

  it("a restored run takes new input after the restored records, and its own snapshot no longer holds what it emitted", async () => {
    const { snapshot } = await inFlightSnapshot({ inputs: [1, 2, 3], answered: [1] });
    const svc = service();
    const h = await open(settings(svc.fn), { restore: snapshot });
    await h.processElements([10]);
    expect(svc.calls.map((c) => c.input)).toEqual([2, 3, 10]);
    svc.answer(10);
    svc.answer(3);
    await settle();
    await h.processWakeup();
    const mid = await h.snapshot(); // 2 is still in flight: 2, 3 and 10 stay stored
    svc.answer(2);
    await settle();
    expect(await h.processWakeup()).toEqual(["r2", "r3", "r10"]);
    expect(await h.storedCells()).toBe(0);
    const again = await restoreAndFinish([mid], 0, 1);
    expect(again.called).toEqual([2, 3, 10]);
    const empty = await restoreAndFinish([await h.snapshot()], 0, 1);
    expect(empty.called).toEqual([]);
  });

  it("a restored subtask numbers new records above the restored ones, so a new record never overwrites a stored one", async () => {
    const { snapshot } = await inFlightSnapshot({ inputs: [1, 2], answered: [] });
    const svc = service();
    const h = await open(settings(svc.fn), { restore: snapshot });
    await h.processElements([10, 11, 12]);
    const again = await restoreAndFinish([await h.snapshot()], 0, 1);
    expect(again.called).toEqual([1, 2, 10, 11, 12]);
  });

  it.each([
    [1, 2],
    [2, 1],
    [2, 3],
    [3, 2],
  ])("restored from parallelism %i at parallelism %i: every record in flight is called again by exactly one subtask", async (from, to) => {
    const before: string[] = [];
    const snapshots: HarnessSnapshot[] = [];
    const inFlight: number[] = [];
    for (let s = 0; s < from; s++) {
      const inputs = Array.from({ length: 40 }, (_, i) => s * 1000 + i);
      const answered = inputs.filter((x) => x % 3 === 0 || x % 1000 < 5);
      const { snapshot, emitted } = await inFlightSnapshot({ inputs, answered, subtask: s, parallelism: from, ordered: false });
      before.push(...emitted);
      snapshots.push(snapshot);
      inFlight.push(...inputs.filter((x) => !answered.includes(x)));
    }
    const called: number[] = [];
    const after: string[] = [];
    for (let s = 0; s < to; s++) {
      const r = await restoreAndFinish(snapshots, s, to, 100, false);
      called.push(...r.called);
      after.push(...r.emitted);
    }
    expect(called.sort((a, b) => a - b)).toEqual(inFlight.sort((a, b) => a - b));
    const all = Array.from({ length: from }, (_, s) => Array.from({ length: 40 }, (_, i) => `r${s * 1000 + i}`)).flat();
    expect([...before, ...after].sort()).toEqual(all.sort());
  });

  it("restores in input order per old subtask in ordered mode", async () => {
    const a = await inFlightSnapshot({ inputs: [1, 2, 3, 4], answered: [], subtask: 0, parallelism: 2 });
    const b = await inFlightSnapshot({ inputs: [11, 12, 13], answered: [], subtask: 1, parallelism: 2 });
    const r = await restoreAndFinish([a.snapshot, b.snapshot], 0, 1);
    expect(r.emitted).toEqual(["r1", "r2", "r3", "r4", "r11", "r12", "r13"]);
  });

  it("more restored records than capacity are called as room frees, never more than capacity at once", async () => {
    const a = await inFlightSnapshot({ inputs: [1, 2, 3], answered: [], subtask: 0, parallelism: 2, capacity: 3 });
    const b = await inFlightSnapshot({ inputs: [11, 12, 13], answered: [], subtask: 1, parallelism: 2, capacity: 3 });
    const r = await restoreAndFinish([a.snapshot, b.snapshot], 0, 1, 3);
    expect(r.called).toEqual([1, 2, 3, 11, 12, 13]);
    expect(r.emitted).toEqual(["r1", "r2", "r3", "r11", "r12", "r13"]);
  });
});

describe("asyncMap: review fixes", () => {
  /** Answers every pending call of `svc` and lets the results out (endInput); returns what `h` emitted. */
  const finish = async (h: OperatorHarness<number, string>, svc: ReturnType<typeof service>) => {
    let done = false;
    const ended = h.endInput().then(() => (done = true));
    await settle();
    while (!done) {
      for (const c of svc.pending()) c.resolve(`r${c.input}`);
      await settle();
    }
    await ended;
    return h.output;
  };

  it("ordered: after a rescale p=2 → p=1 and a second restore, the restored records still come before the input taken after them", async () => {
    // p=2: subtask 1 has 11, 12 in flight (subtask 0 nothing).
    const svc0 = service();
    const a = await open(settings(svc0.fn), { subtask: 0, parallelism: 2 });
    const svc1 = service();
    const b = await open(settings(svc1.fn), { subtask: 1, parallelism: 2 });
    await b.processElements([11, 12]);
    const first = [await a.snapshot(), await b.snapshot()];
    // p=1: re-issues 11, 12, then takes 1, 2 (possibly of the same split); a checkpoint while all four are pending.
    const svc = service();
    const h = await open(settings(svc.fn), { restore: first, subtask: 0, parallelism: 1 });
    await h.processElements([1, 2]);
    expect(svc.calls.map((c) => c.input)).toEqual([11, 12, 1, 2]);
    const second = await h.snapshot();
    // Crash; restore at p=1 again: the queue order at the checkpoint is what is replayed.
    const svc2 = service();
    const again = await open(settings(svc2.fn), { restore: second, subtask: 0, parallelism: 1 });
    expect(svc2.calls.map((c) => c.input)).toEqual([11, 12, 1, 2]);
    expect(await finish(again, svc2)).toEqual(["r11", "r12", "r1", "r2"]);
  });

  it("a checkpoint stores each queued input as it was at the barrier, even if the function mutates it afterwards", async () => {
    interface Order {
      id: number;
      tier?: string;
    }
    const held: Order[] = [];
    // A function that keeps its input and mutates it later (e.g. `o.tier = await lookup(o); return o`).
    const fn = (o: Order) => {
      held.push(o);
      return new Promise<Order>(() => undefined);
    };
    const s = { ...settings(() => Promise.resolve("")), fn } as unknown as AsyncMapSettings<number, string>;
    const h = await open(s);
    await h.processElements([{ id: 1 } as unknown as number]);
    const cut = h.snapshot(); // the barrier: the input is sealed here, written later
    held[0]!.tier = "gold";
    const snapshot = await cut;
    const seen: Order[] = [];
    const restored = { ...s, fn: (o: Order) => (seen.push(structuredClone(o)), new Promise<Order>(() => undefined)) } as unknown as AsyncMapSettings<number, string>;
    await open(restored, { restore: snapshot });
    expect(seen).toEqual([{ id: 1 }]);
  });

  it("close() ends a wait for room or for the end of input (it rejects), instead of leaving it pending forever", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { capacity: 1 }));
    await h.processElements([1]);
    const blocked = h.inputBlocked();
    expect(blocked).toBeDefined();
    const ended = h.endInput();
    const outcomes = Promise.allSettled([blocked!, ended]);
    await settle();
    await h.close();
    const [b, e] = await outcomes;
    expect(b.status).toBe("rejected");
    expect(e.status).toBe("rejected");
    expect((e as PromiseRejectedResult).reason).toMatchObject({ code: "ASYNC_OPERATOR_CLOSED", operator: "lookup" });
  });

  it.each([
    ["a thenable whose `then` throws", () => ({ then: () => { throw new Error("then exploded"); } })],
    ["a thenable whose `then` getter throws", () => ({ get then(): never { throw new Error("then exploded"); } })],
  ])("%s is a failed attempt (retried), then ASYNC_REQUEST_FAILED naming the operator and record", async (_, make) => {
    let n = 0;
    const fn = (() => (n++, make())) as unknown as (x: number) => Promise<string>;
    const h = await open(settings(fn, { retries: 1, retryDelayMs: 1 }));
    await h.processElements([7]);
    await settle();
    expect(n).toBe(1);
    const failure = await h.setProcessingTime(1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(n).toBe(2); // the retry failed as synchronously
    expect(failure).toMatchObject({ code: "ASYNC_REQUEST_FAILED", operator: "lookup" });
    expect((failure as Error).message).toContain("operator 'lookup' gave up on record 7 (input 0 of subtask 0) after 2 attempts: then exploded");
  });

  it("a restored record that fails is named as restored, not by a position in this run", async () => {
    const svc = service();
    const h = await open(settings(svc.fn));
    await h.processElements([5, 6]);
    const snapshot = await h.snapshot();
    const r = await open(settings((x) => Promise.reject(new Error(`down for ${x}`))), { restore: snapshot });
    await settle();
    const failure = await r.processWakeup().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((failure as Error).message).toContain("operator 'lookup' gave up on record 5 (restored: in flight at the checkpoint) after 1 attempt: down for 5");
  });
});

describe("asyncMap: record timestamps", () => {
  it("each result carries its input's timestamp, in any completion order and after a restore; input without timestamps gives results without", async () => {
    const svc = service();
    const h = await open(settings(svc.fn, { ordered: false }));
    await h.processElements([1, 2, 3], [100, 200, 300]);
    svc.answer(3);
    svc.answer(1);
    await settle();
    expect(await h.processWakeup()).toEqual(["r3", "r1"]);
    expect(h.timestamps).toEqual([300, 100]);
    const snapshot = await h.snapshot(); // 2 is in flight, with its timestamp

    const svc2 = service();
    const restored = await open(settings(svc2.fn), { restore: snapshot });
    await restored.processElements([4]); // no timestamp
    svc2.answer(2);
    svc2.answer(4);
    await settle();
    expect(await restored.processWakeup()).toEqual(["r2", "r4"]);
    expect(restored.timestamps).toEqual([200, undefined]);

    const svc3 = service();
    const plain = await open(settings(svc3.fn));
    await plain.processElements([5]);
    svc3.answer(5);
    await settle();
    expect(await plain.processWakeup()).toEqual(["r5"]);
    expect(plain.timestamps).toEqual([undefined]);
  });
});
