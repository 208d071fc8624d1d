import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Message } from "kafkajs";
import { OrderedSender } from "./ordered-sender.ts";

/** Key and value bytes (the test messages have no headers). */
const bytesOf = (batch: readonly Message[]) => batch.reduce((n, m) => n + Buffer.byteLength(m.key ?? "") + Buffer.byteLength(m.value ?? ""), 0);

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
        const sender = new OrderedSender(broker.send, { maxPending: 25 });
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
    const sender = new OrderedSender(() => new Promise<void>((r) => (release = r)), { maxPending: 10 });
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

  it("never gives one request more than the message and byte bounds, and keeps the order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 120 }),
        async (adds, maxBatchMessages, maxBatchBytes) => {
          const sent: Message[][] = [];
          const sender = new OrderedSender(
            async (m) => {
              sent.push(m);
              await new Promise((r) => setTimeout(r, 0));
            },
            { maxBatchMessages, maxBatchBytes },
          );
          let next = 0;
          for (const sizes of adds) await sender.add(sizes.map((n) => ({ key: String(next++), value: "x".repeat(n) })));
          await sender.flush();
          expect(sent.flat().map((m) => m.key)).toEqual(Array.from({ length: next }, (_, i) => String(i)));
          for (const batch of sent) {
            expect(batch.length).toBeLessThanOrEqual(maxBatchMessages);
            // A single message above the byte bound goes alone.
            if (batch.length > 1) expect(bytesOf(batch)).toBeLessThanOrEqual(maxBatchBytes);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("splits a large backlog by default: no send gets more than 2,000 messages or 512 KiB", async () => {
    const sent: Message[][] = [];
    let release!: () => void;
    const sender = new OrderedSender(async (m) => {
      sent.push(m);
      if (sent.length === 1) await new Promise<void>((r) => (release = r));
    });
    await sender.add(msgs(0, 1)); // in flight while the backlog builds up
    await sender.add(msgs(1, 20_000)); // small messages: the count bound applies
    await sender.add(Array.from({ length: 40 }, () => ({ value: Buffer.alloc(100_000) }))); // 4 MB: the byte bound applies
    release();
    await sender.flush();
    expect(sent.reduce((n, b) => n + b.length, 0)).toBe(20_041);
    for (const batch of sent) {
      expect(batch.length).toBeLessThanOrEqual(2_000);
      expect(bytesOf(batch)).toBeLessThanOrEqual(512 * 1024);
    }
  });
});
