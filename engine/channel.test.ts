import { describe, expect, it } from "vitest";
import { Channel } from "./channel.ts";
import { batchOf, endOfInput } from "./elements.ts";

describe("Channel", () => {
  it("delivers elements in order", () => {
    const c = new Channel<number>(4);
    expect(c.push(batchOf([1]))).toBeUndefined();
    expect(c.push(batchOf([2, 3]))).toBeUndefined();
    expect(c.push(endOfInput)).toBeUndefined();
    expect(c.poll()).toEqual({ kind: "batch", records: [1] });
    expect(c.poll()).toEqual({ kind: "batch", records: [2, 3] });
    expect(c.poll()).toEqual({ kind: "end" });
    expect(c.poll()).toBeUndefined();
  });

  it("makes the producer wait while full, and releases it when the consumer takes one", async () => {
    const c = new Channel<number>(2);
    c.push(batchOf([1]));
    c.push(batchOf([2]));
    let released = false;
    const waiting = c.push(batchOf([3]));
    expect(waiting).toBeInstanceOf(Promise);
    void waiting!.then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    expect(c.size).toBe(2);
    c.poll();
    await waiting;
    expect(released).toBe(true);
    expect(c.size).toBe(2);
    expect(c.poll()).toEqual({ kind: "batch", records: [2] });
    expect(c.poll()).toEqual({ kind: "batch", records: [3] });
  });

  it("rejects a second concurrent push (one producer per channel)", () => {
    const c = new Channel<number>(1);
    c.push(batchOf([1]));
    void c.push(batchOf([2]));
    expect(() => c.push(batchOf([3]))).toThrow(/one producer/);
  });

  it("wakes a reader registered before data arrives, once", () => {
    const c = new Channel<number>(2);
    let wakes = 0;
    c.onReadable(() => wakes++);
    expect(wakes).toBe(0);
    c.push(batchOf([1]));
    c.push(batchOf([2]));
    expect(wakes).toBe(1);
  });

  it("refuses a capacity below one", () => {
    expect(() => new Channel<number>(0)).toThrow(/positive integer/);
  });
});
