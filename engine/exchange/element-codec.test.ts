import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { StreamElement } from "../elements.ts";
import { isSideRecord, outputTag, sideRecord } from "../../operators/side-output.ts";
import { decodeElement, encodeBatch, encodeControl, newBatchDecoder, newBatchEncoder } from "./element-codec.ts";

const roundTrip = (element: StreamElement<unknown>): StreamElement<unknown> => {
  const frame = element.kind === "batch" ? encodeBatch(newBatchEncoder(), element.records).slice() : encodeControl(element);
  return decodeElement(newBatchDecoder(), frame);
};

describe("stream elements as bytes", () => {
  test("every control element comes back as it went in", () => {
    const controls: StreamElement<never>[] = [
      { kind: "watermark", timestamp: 1_733_000_000_123 },
      { kind: "watermark", timestamp: Number.NEGATIVE_INFINITY },
      { kind: "idle" },
      { kind: "barrier", checkpointId: 42, timestamp: 1_733_000_000_456 },
      { kind: "end" },
    ];
    for (const c of controls) expect(roundTrip(c)).toEqual(c);
  });

  test("records keep their types: nested objects, Map, Set, Date, bigint, undefined fields, unicode", () => {
    const records = [
      { auction: 1001, bidder: 7, price: 12.5, channel: "Google", url: "https://a/b?x=ü€😀", extra: undefined, when: new Date(1_700_000_000_000) },
      { nested: { list: [1, "two", null, true], map: new Map<string, number>([["a", 1]]), set: new Set([1, 2]) }, big: 2n ** 70n },
      "a bare string",
      [1, 2, 3],
      42,
      null,
    ];
    expect(roundTrip({ kind: "batch", records })).toEqual({ kind: "batch", records });
  });

  test("side-output records stay side-output records (plain tagged objects, no class to lose)", () => {
    const late = sideRecord(outputTag<{ bid: number }>("late-bids"), { bid: 3 });
    const back = roundTrip({ kind: "batch", records: [late, { bid: 4 }] });
    expect(back.kind === "batch" && back.records.map(isSideRecord)).toEqual([true, false]);
    expect(back).toEqual({ kind: "batch", records: [late, { bid: 4 }] });
  });

  test("a batch is a column frame (0xC1, kind 5) or a msgpack frame (never 0xC1), and any JSON-like batch survives", () => {
    fc.assert(
      // Without an own "__proto__" key: msgpackr decodes it as "__proto_" (its guard against
      // prototype pollution), on every path that uses it (exchanges, state values). Known limit.
      fc.property(fc.array(fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')), { minLength: 1, maxLength: 20 }), (records) => {
        const frame = encodeBatch(newBatchEncoder(), records).slice();
        if (frame[0] === 0xc1) expect(frame[1]).toBe(5);
        const back = decodeElement(newBatchDecoder(), frame);
        // JSON round trip normalises -0 to 0 as msgpack does not
        expect(JSON.stringify(back)).toEqual(JSON.stringify({ kind: "batch", records }));
      }),
    );
  });

  test("one encoder and one decoder carry a stream of batches of changing shapes", () => {
    const encoder = newBatchEncoder();
    const decoder = newBatchDecoder();
    for (let i = 0; i < 200; i++) {
      const records = Array.from({ length: 1 + (i % 7) }, (_, j) => (j % 2 === 0 ? { id: i, [`f${i % 13}`]: j } : { other: `x${i}`, j }));
      const frame = encodeBatch(encoder, records).slice();
      expect(decodeElement(decoder, frame)).toEqual({ kind: "batch", records });
    }
  });

  test("property: a batch's timestamps (NaN: none) come back with it, column or msgpack frame, stamped or not", () => {
    const encoder = newBatchEncoder();
    const decoder = newBatchDecoder();
    const record = fc.oneof(fc.record({ id: fc.nat(), name: fc.string() }), fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')));
    const stamp = fc.oneof(fc.double({ noNaN: true }), fc.constant(Number.NaN), fc.integer({ min: -1e12, max: 1e13 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(record, stamp), { minLength: 1, maxLength: 30 }), fc.boolean(), (pairs, stamped) => {
        const records = pairs.map(([r]) => r);
        const timestamps = stamped ? pairs.map(([, t]) => t) : undefined;
        const back = decodeElement(decoder, encodeBatch(encoder, records, timestamps).slice());
        expect(back.kind).toBe("batch");
        if (back.kind !== "batch") return;
        expect(JSON.stringify(back.records)).toEqual(JSON.stringify(records));
        if (timestamps === undefined) expect(back.timestamps).toBeUndefined();
        else expect(back.timestamps!.map((t) => Object.is(t, -0) ? "-0" : t)).toEqual(timestamps.map((t) => Object.is(t, -0) ? "-0" : t));
      }),
    );
  });

  test("bytes no encoder wrote are refused with EXCHANGE_BAD_FRAME", () => {
    expect(() => decodeElement(newBatchDecoder(), Uint8Array.of(0xc1, 99))).toThrow(/unknown control frame kind 99/);
    expect(() => decodeElement(newBatchDecoder(), encodeBatch(newBatchEncoder(), "not an array" as unknown as unknown[]).slice())).toThrow(
      /did not hold an array/,
    );
  });
});
