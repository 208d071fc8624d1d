import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isWeirError } from "../../common/errors.ts";
import {
  RING_HEAD_INDEX,
  RING_TAIL_INDEX,
  allocateRing,
  frameSpan,
  maxFrameBytes,
  openRingReader,
  openRingWriter,
} from "./spsc-ring.ts";

/** `length` bytes that differ from frame to frame (`seed`) and along the frame. */
const frameOf = (length: number, seed: number): Uint8Array => {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed * 131 + i * 7 + 1) & 0xff;
  return bytes;
};

/** A ring whose counters start at `start` (a multiple of 4), to place frames anywhere. */
const ringAt = (capacityBytes: number, start: number) => {
  const sab = allocateRing({ capacityBytes });
  const words = new Int32Array(sab);
  words[RING_HEAD_INDEX] = start;
  words[RING_TAIL_INDEX] = start;
  return { writer: openRingWriter(sab), reader: openRingReader(sab) };
};

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isWeirError(e) ? e.code : "not a WeirError";
  }
  return undefined;
};

describe("SPSC ring", () => {
  test("an empty ring reads nothing", () => {
    const { reader } = ringAt(64, 0);
    expect(reader.isEmpty()).toBe(true);
    expect(reader.tryRead()).toBeUndefined();
    expect(reader.usedBytes()).toBe(0);
  });

  test("frames come out in order, byte for byte, including an empty frame", () => {
    const { writer, reader } = ringAt(256, 0);
    const frames = [frameOf(5, 1), frameOf(0, 2), frameOf(17, 3)];
    for (const f of frames) expect(writer.tryWrite(f)).toBe(true);
    expect(reader.usedBytes()).toBe(frameSpan(5) + frameSpan(0) + frameSpan(17));
    for (const f of frames) expect(reader.tryRead()).toEqual(f);
    expect(reader.tryRead()).toBeUndefined();
    expect(reader.usedBytes()).toBe(0);
  });

  test("a full ring refuses a frame, and takes it once the reader frees its span", () => {
    const { writer, reader } = ringAt(64, 0);
    for (let i = 0; i < 4; i++) expect(writer.tryWrite(frameOf(12, i))).toBe(true); // 4 x 16 bytes
    expect(writer.usedBytes()).toBe(64);
    expect(writer.tryWrite(frameOf(12, 4))).toBe(false);
    expect(writer.tryWrite(frameOf(0, 4))).toBe(false);
    expect(reader.tryRead()).toEqual(frameOf(12, 0));
    expect(writer.tryWrite(frameOf(12, 4))).toBe(true);
    for (let i = 1; i <= 4; i++) expect(reader.tryRead()).toEqual(frameOf(12, i));
  });

  test("a frame that does not fit before the end goes to the start, and the skipped end counts as used", () => {
    const { writer, reader } = ringAt(64, 0);
    expect(writer.tryWrite(frameOf(20, 1))).toBe(true); // 0..24
    expect(writer.tryWrite(frameOf(20, 2))).toBe(true); // 24..48
    expect(reader.tryRead()).toEqual(frameOf(20, 1));
    expect(writer.tryWrite(frameOf(20, 3))).toBe(true); // 16 bytes to the end: skipped, frame at 0..24
    expect(writer.usedBytes()).toBe(24 + 16 + 24);
    expect(reader.tryRead()).toEqual(frameOf(20, 2));
    expect(reader.tryRead()).toEqual(frameOf(20, 3));
    expect(reader.usedBytes()).toBe(0);
  });

  test("a frame waits when the end it would skip plus its span is more than is free", () => {
    const { writer, reader } = ringAt(64, 0);
    for (let i = 0; i < 3; i++) writer.tryWrite(frameOf(12, i)); // 0..48
    reader.tryRead(); // free: 16 at the end + 16 at the start
    expect(writer.tryWrite(frameOf(20, 9))).toBe(false); // needs 16 skipped + 24
    reader.tryRead();
    expect(writer.tryWrite(frameOf(20, 9))).toBe(true);
    expect(reader.tryRead()).toEqual(frameOf(12, 2));
    expect(reader.tryRead()).toEqual(frameOf(20, 9));
  });

  test("a frame that ends exactly at the end of the data region is not moved", () => {
    const { writer, reader } = ringAt(64, 40);
    expect(writer.tryWrite(frameOf(20, 1))).toBe(true); // 40..64
    expect(writer.usedBytes()).toBe(24);
    expect(writer.tryWrite(frameOf(4, 2))).toBe(true); // 0..8
    expect(reader.tryRead()).toEqual(frameOf(20, 1));
    expect(reader.tryRead()).toEqual(frameOf(4, 2));
  });

  test("the counters wrap past 2^32 (kept as int32) without losing a frame", () => {
    const { writer, reader } = ringAt(64, -8);
    for (let i = 0; i < 20; i++) {
      expect(writer.tryWrite(frameOf(10 + (i % 7), i))).toBe(true);
      expect(reader.tryRead()).toEqual(frameOf(10 + (i % 7), i));
    }
    expect(reader.released).toBeGreaterThan(0);
  });

  test("peek holds the frame until consume; consume without peek is an error", () => {
    const { writer, reader } = ringAt(64, 0);
    writer.tryWrite(frameOf(3, 1));
    expect(reader.peek()).toEqual(frameOf(3, 1));
    expect(reader.peek()).toEqual(frameOf(3, 1));
    expect(writer.usedBytes()).toBe(8);
    reader.consume();
    expect(writer.usedBytes()).toBe(0);
    expect(codeOf(() => reader.consume())).toBe("RING_NOTHING_PEEKED");
  });

  test("tryReadInto copies the next frame into the target's start; a too small target leaves it queued", () => {
    const { writer, reader } = ringAt(64, 0);
    writer.tryWrite(frameOf(10, 1));
    writer.tryWrite(frameOf(3, 2));
    const target = new Uint8Array(12).fill(0xee);
    expect(reader.tryReadInto(target)).toBe(10);
    expect(target.subarray(0, 10)).toEqual(frameOf(10, 1));
    expect(codeOf(() => reader.tryReadInto(new Uint8Array(2)))).toBe("RING_TARGET_TOO_SMALL");
    expect(reader.tryReadInto(target)).toBe(3);
    expect(target.subarray(0, 3)).toEqual(frameOf(3, 2));
    expect(reader.tryReadInto(target)).toBeUndefined();
  });

  test("a frame over maxFrameBytes is an error, not a wait; the largest frame fits an empty ring anywhere", () => {
    for (let start = 0; start < 64; start += 4) {
      const { writer, reader } = ringAt(64, start);
      expect(codeOf(() => writer.tryWrite(frameOf(maxFrameBytes(64) + 1, 0)))).toBe("RING_FRAME_TOO_LARGE");
      expect(writer.tryWrite(frameOf(maxFrameBytes(64), start))).toBe(true);
      expect(reader.tryRead()).toEqual(frameOf(maxFrameBytes(64), start));
    }
  });

  test("an end opened after frames were written (as on another thread) reads them all", () => {
    const sab = allocateRing({ capacityBytes: 64 });
    const writer = openRingWriter(sab);
    for (let i = 0; i < 3; i++) writer.tryWrite(frameOf(12, i));
    const reader = openRingReader(sab);
    for (let i = 0; i < 3; i++) expect(reader.tryRead()).toEqual(frameOf(12, i));
    expect(openRingWriter(sab).tryWrite(frameOf(12, 3))).toBe(true);
    expect(openRingReader(sab).tryRead()).toEqual(frameOf(12, 3));
  });

  test("capacity must be a power of two, and only a ring's buffer opens as one", () => {
    expect(codeOf(() => allocateRing({ capacityBytes: 100 }))).toBe("BAD_RING_CAPACITY");
    expect(codeOf(() => allocateRing({ capacityBytes: 32 }))).toBe("BAD_RING_CAPACITY");
    expect(codeOf(() => openRingReader(new SharedArrayBuffer(256)))).toBe("BAD_RING_BUFFER");
  });

  test("property: against a FIFO queue model, frames come out in order, byte for byte, within capacity", () => {
    type Op = { readonly kind: "write"; readonly length: number } | { readonly kind: "read" };
    const op = (max: number): fc.Arbitrary<Op> =>
      fc.oneof(
        fc.integer({ min: 0, max }).map((length): Op => ({ kind: "write", length })),
        fc.constant<Op>({ kind: "read" }),
      );
    const scenario = fc.constantFrom(64, 128, 256).chain((capacity) =>
      fc.record({
        capacity: fc.constant(capacity),
        start: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => n & ~3),
        ops: fc.array(op(maxFrameBytes(capacity)), { maxLength: 200 }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ capacity, start, ops }) => {
        const { writer, reader } = ringAt(capacity, start);
        const model: Uint8Array[] = [];
        let seed = 0;
        for (const o of ops) {
          if (o.kind === "write") {
            const frame = frameOf(o.length, seed++);
            const written = writer.tryWrite(frame);
            if (written) model.push(frame);
            // An empty ring takes any legal frame: refusing means frames are queued.
            else expect(model.length).toBeGreaterThan(0);
          } else {
            expect(reader.tryRead()).toEqual(model.shift());
          }
          const queued = model.reduce((sum, f) => sum + frameSpan(f.length), 0);
          expect(reader.usedBytes()).toBeGreaterThanOrEqual(queued);
          expect(reader.usedBytes()).toBeLessThanOrEqual(capacity);
          expect(reader.isEmpty()).toBe(model.length === 0);
        }
        for (const f of model.splice(0)) expect(reader.tryRead()).toEqual(f);
        expect(reader.tryRead()).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});
