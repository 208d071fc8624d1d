import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Channel } from "./channel.ts";
import { barrier, batchOf, endOfInput, watermark } from "./elements.ts";
import { InputGate } from "./input-gate.ts";

describe("InputGate", () => {
  it("alternates between busy channels (no starvation)", () => {
    const a = new Channel<string>(8);
    const b = new Channel<string>(8);
    for (let i = 0; i < 3; i++) {
      a.push(batchOf([`a${i}`]));
      b.push(batchOf([`b${i}`]));
    }
    const gate = new InputGate([a, b]);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) seen.push(gate.poll()!.channel);
    expect(seen).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it("does not read a blocked channel until unblocked", () => {
    const a = new Channel<string>(8);
    const b = new Channel<string>(8);
    a.push(batchOf(["a"]));
    b.push(batchOf(["b"]));
    const gate = new InputGate([a, b]);
    gate.block(0);
    expect(gate.poll()).toEqual({ channel: 1, element: { kind: "batch", records: ["b"] } });
    expect(gate.poll()).toBeUndefined();
    gate.unblockAll();
    expect(gate.poll()).toEqual({ channel: 0, element: { kind: "batch", records: ["a"] } });
  });

  it("peek() shows what poll() returns next, leaving it queued, skipping blocked channels", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), fc.nat(9)), { maxLength: 20 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), (pushes, blocked) => {
        const channels = [new Channel<number>(32), new Channel<number>(32), new Channel<number>(32)];
        for (const [c, v] of pushes) channels[c]!.push(batchOf([v]));
        const gate = new InputGate(channels);
        blocked.forEach((b, c) => b && gate.block(c));
        for (;;) {
          const seen = gate.peek();
          expect(gate.peek()).toEqual(seen);
          const got = gate.poll();
          expect(got).toEqual(seen);
          if (got === undefined) break;
        }
      }),
    );
  });

  it("take() waits for the first channel that gets data", async () => {
    const a = new Channel<string>(8);
    const b = new Channel<string>(8);
    const gate = new InputGate([a, b]);
    const next = gate.take();
    expect(next).toBeInstanceOf(Promise);
    b.push(endOfInput);
    await expect(next).resolves.toEqual({ channel: 1, element: { kind: "end" } });
  });

  it("delivers every element of every channel exactly once, in per-channel order", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer(), { maxLength: 10 }), { minLength: 1, maxLength: 5 }), (perChannel) => {
        const channels = perChannel.map((items) => {
          const c = new Channel<number>(16);
          for (const x of items) c.push(batchOf([x]));
          return c;
        });
        const gate = new InputGate(channels);
        const got: number[][] = perChannel.map(() => []);
        for (let g = gate.poll(); g !== undefined; g = gate.poll()) {
          if (g.element.kind === "batch") got[g.channel]!.push(...g.element.records);
        }
        expect(got).toEqual(perChannel);
      }),
    );
  });
});

describe("InputGate: taking only control elements (a task whose operator blocks input)", () => {
  it("pollControl takes a barrier, watermark or end at a channel's head and passes over channels whose head is a batch", () => {
    const a = new Channel<string>(8);
    const b = new Channel<string>(8);
    a.push(batchOf(["a"]));
    a.push(barrier(1, 0)); // behind a: not taken before it
    b.push(watermark(5));
    b.push(endOfInput);
    const gate = new InputGate([a, b]);
    expect(gate.pollControl()).toEqual({ channel: 1, element: watermark(5) });
    expect(gate.pollControl()).toEqual({ channel: 1, element: endOfInput });
    expect(gate.pollControl()).toBeUndefined();
    expect(gate.poll()).toEqual({ channel: 0, element: batchOf(["a"]) });
    expect(gate.pollControl()).toEqual({ channel: 0, element: barrier(1, 0) });
  });

  it("whenControl resolves when an empty channel receives a control element; not for a batch, nor for anything behind a batch", async () => {
    const watch = (gate: InputGate<string>) => {
      const state = { resolved: false };
      void gate.whenControl().then(() => (state.resolved = true));
      return state;
    };
    const behind = new Channel<string>(8);
    behind.push(batchOf(["a"]));
    const blockedByBatch = watch(new InputGate([behind]));
    behind.push(barrier(1, 0));
    const empty = new Channel<string>(8);
    const gotBatch = watch(new InputGate([empty]));
    empty.push(batchOf(["b"]));
    const other = new Channel<string>(8);
    const gotBarrier = watch(new InputGate([new Channel<string>(8), other]));
    other.push(barrier(2, 0));
    await Promise.resolve();
    expect(blockedByBatch.resolved).toBe(false);
    expect(gotBatch.resolved).toBe(false);
    expect(gotBarrier.resolved).toBe(true);
  });
});
