import { describe, expect, test } from "vitest";
import { isWeirError } from "../../common/errors.ts";
import type { StreamElement } from "../elements.ts";
import { RingChannelReader, RingChannelWriter, ringBytesFor } from "./ring-channel.ts";
import { allocateRing } from "./spsc-ring.ts";

/** Both ends of one ring channel, in this thread (the ring does not care which thread an end is on). */
const pair = (capacityBytes = 1 << 16) => {
  const sab = allocateRing({ capacityBytes });
  const teardown = new AbortController();
  return {
    writer: new RingChannelWriter(sab, { signal: teardown.signal, consumerName: "sum" }),
    reader: new RingChannelReader(sab, { signal: teardown.signal }),
    teardown,
  };
};

const drain = (reader: RingChannelReader): StreamElement<unknown>[] => {
  const out: StreamElement<unknown>[] = [];
  for (let e = reader.poll(); e !== undefined; e = reader.poll()) out.push(e);
  return out;
};

const readable = (reader: RingChannelReader) => new Promise<void>((resolve) => reader.onReadable(resolve));

describe("ring channel (a channel across threads)", () => {
  test("elements come out in order, control elements in band with the batches", () => {
    const { writer, reader } = pair();
    const sent: StreamElement<unknown>[] = [
      { kind: "batch", records: [{ k: "a", v: 1 }] },
      { kind: "watermark", timestamp: 10 },
      { kind: "barrier", checkpointId: 3, timestamp: 99 },
      { kind: "batch", records: [{ k: "b", v: 2 }, { k: "c", v: 3 }] },
      { kind: "idle" },
      { kind: "end" },
    ];
    for (const e of sent) expect(writer.push(e)).toBeUndefined();
    expect(reader.peek()).toEqual(sent[0]);
    expect(drain(reader)).toEqual(sent);
    expect(reader.poll()).toBeUndefined();
  });

  test("a full ring makes the producer wait until the consumer reads (backpressure), and nothing is lost", async () => {
    const { writer, reader } = pair(1 << 12);
    const batch = (i: number): StreamElement<unknown> => ({ kind: "batch", records: Array.from({ length: 20 }, (_, j) => ({ i, j, pad: "x".repeat(20) })) });
    let i = 0;
    let pending: Promise<void> | undefined;
    while ((pending = writer.push(batch(i))) === undefined) i++;
    // batch i did not fit: its push settles only once the reader frees room
    let written = false;
    void pending.then(() => (written = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(written).toBe(false);
    const got = drain(reader);
    await pending;
    expect(written).toBe(true);
    got.push(...drain(reader));
    const ids = got.map((e) => (e.kind === "batch" ? (e.records[0] as { i: number }).i : -1));
    expect(ids).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
  });

  test("a batch larger than a frame is split into consecutive batches, records in order", async () => {
    const { writer, reader } = pair(1 << 12); // frames up to ~2 KiB
    const records = Array.from({ length: 500 }, (_, n) => ({ n, text: `record-${n}` }));
    const pushed = writer.push({ kind: "batch", records });
    const got: unknown[] = [];
    const reading = (async () => {
      while (got.length < records.length) {
        await readable(reader);
        for (const e of drain(reader)) if (e.kind === "batch") got.push(...e.records);
      }
    })();
    await pushed;
    await reading;
    expect(got).toEqual(records);
  });

  test("a split batch keeps each record's timestamp with it", async () => {
    const { writer, reader } = pair(1 << 12);
    const records = Array.from({ length: 500 }, (_, n) => ({ n, text: `record-${n}` }));
    const timestamps = records.map((r) => (r.n % 9 === 0 ? Number.NaN : 1_700_000_000_000 + r.n * 3));
    const pushed = writer.push({ kind: "batch", records, timestamps });
    const got: [unknown, number][] = [];
    const reading = (async () => {
      while (got.length < records.length) {
        await readable(reader);
        for (const e of drain(reader)) if (e.kind === "batch") e.records.forEach((r, i) => got.push([r, e.timestamps![i]!]));
      }
    })();
    await pushed;
    await reading;
    expect(got).toEqual(records.map((r, i) => [r, timestamps[i]]));
  });

  test("a single record too large for the ring is a user error naming the consumer", async () => {
    const { writer } = pair(1 << 10);
    const error = await Promise.resolve(writer.push({ kind: "batch", records: [{ blob: "y".repeat(4000) }] })).catch((e: unknown) => e);
    expect(isWeirError(error) && error.code).toBe("EXCHANGE_RECORD_TOO_LARGE");
    expect(isWeirError(error) && error.domain).toBe("user");
    expect(String((error as Error).message)).toMatch(/for 'sum' is \d+ bytes encoded.*--workers 0/);
  });

  test("a record that fits as msgpack but not as columns (UTF-16 text) still crosses, whole", () => {
    const { writer, reader } = pair(1 << 14); // frames up to ~8 KiB
    const record = { id: 1, body: `${"a".repeat(5000)}€` }; // ~5 KB as msgpack, ~10 KB as UTF-16 columns
    expect(writer.push({ kind: "batch", records: [record] })).toBeUndefined();
    expect(drain(reader)).toEqual([{ kind: "batch", records: [record] }]);
  });

  test("a record msgpackr cannot encode is a user error naming the consumer, not a retried internal failure", async () => {
    const { writer } = pair();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const bad of [{ s: Symbol("x") }, cyclic]) {
      const error = await Promise.resolve()
        .then(() => writer.push({ kind: "batch", records: [bad] }))
        .catch((e: unknown) => e);
      expect(isWeirError(error) && [error.code, error.domain, error.retriable]).toEqual(["EXCHANGE_RECORD_NOT_ENCODABLE", "user", false]);
      expect(String((error as Error).message)).toMatch(/for 'sum' cannot cross to another thread: .*--workers 0/);
    }
  });

  test("rings are 1 MiB up to 64 crossing channels, then shrink (powers of two, at least 256 KiB)", () => {
    expect(ringBytesFor(1)).toBe(1 << 20);
    expect(ringBytesFor(64)).toBe(1 << 20);
    expect(ringBytesFor(65)).toBe(1 << 19);
    expect(ringBytesFor(240)).toBe(1 << 18);
    expect(ringBytesFor(4096)).toBe(1 << 18);
  });

  test("onReadable calls back once something is written, and at once when something is queued", async () => {
    const { writer, reader } = pair();
    let called = 0;
    reader.onReadable(() => called++);
    expect(called).toBe(0);
    writer.push({ kind: "end" });
    await new Promise((r) => setTimeout(r, 10));
    expect(called).toBe(1);
    reader.onReadable(() => called++);
    expect(called).toBe(2);
    expect(reader.poll()).toEqual({ kind: "end" });
  });

  test("teardown ends the waits: a blocked push never settles, a waiting reader never calls back", async () => {
    const { writer, reader, teardown } = pair(1 << 10);
    let called = false;
    const other = pair(1 << 10);
    other.reader.onReadable(() => (called = true));
    let blocked: Promise<void> | undefined;
    while ((blocked = writer.push({ kind: "batch", records: ["z".repeat(100)] })) === undefined);
    let settled = false;
    void blocked!.then(() => (settled = true));
    teardown.abort();
    other.teardown.abort();
    await new Promise((r) => setTimeout(r, 20));
    drain(reader);
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    expect(called).toBe(false);
  });
});
