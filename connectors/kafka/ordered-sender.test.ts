import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Message } from "kafkajs";
import { OrderedSender } from "./ordered-sender.ts";

const msgs = (from: number, n: number): Message[] => Array.from({ length: n }, (_, i) => ({ value: String(from + i) }));

/** A fake broker whose requests complete after random delays (as concurrent sends would). */
const fakeBroker = (delays: readonly number[]) => {
  const log: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let call = 0;
  const send = async (messages: Message[]) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, delays[call++ % delays.length]));
    for (const m of messages) log.push(String(m.value));
    inFlight--;
  };
  return { send, log, maxInFlight: () => maxInFlight };
};

describe("OrderedSender", () => {
  it("delivers every message once, in the order added, with one request in flight", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }), async (sizes, delays) => {
        const broker = fakeBroker(delays);
        const sender = new OrderedSender(broker.send, 25);
        let next = 0;
        for (const n of sizes) {
          await sender.add(msgs(next, n));
          next += n;
        }
        await sender.flush();
        expect(broker.log).toEqual(Array.from({ length: next }, (_, i) => String(i)));
        expect(broker.maxInFlight()).toBe(1);
      }),
      { numRuns: 40 },
    );
  });

  it("batches what accumulates while a request is in flight", async () => {
    const sizes: number[] = [];
    let release!: () => void;
    const sender = new OrderedSender(async (m) => {
      sizes.push(m.length);
      if (sizes.length === 1) await new Promise<void>((r) => (release = r));
    });
    await sender.add(msgs(0, 1));
    await sender.add(msgs(1, 5));
    await sender.add(msgs(6, 5));
    release();
    await sender.flush();
    expect(sizes).toEqual([1, 10]);
  });

  it("keeps the first failure and rethrows it on every later call", async () => {
    const sender = new OrderedSender(async () => {
      throw new Error("broker said no");
    });
    await sender.add(msgs(0, 1));
    await expect(sender.flush()).rejects.toThrow("broker said no");
    await expect(sender.add(msgs(1, 1))).rejects.toThrow("broker said no");
  });

  it("makes add wait while maxPending messages are queued (backpressure)", async () => {
    let release!: () => void;
    const sender = new OrderedSender(() => new Promise<void>((r) => (release = r)), 10);
    await sender.add(msgs(0, 1)); // in flight
    let returned = false;
    const adding = sender.add(msgs(1, 10)).then(() => (returned = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(returned).toBe(false);
    release();
    await adding;
    expect(returned).toBe(true);
    release();
    await sender.flush();
  });
});
