/** Which channel gets which record, per edge mode (engine/output.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChannelWriter } from "./channel.ts";
import { barrier, watermark, type StreamElement } from "./elements.ts";
import type { Partitioning } from "./graph.ts";
import { Output } from "./output.ts";
import type { ChainEdgeMode } from "./plan.ts";
import { isWeirError } from "../common/errors.ts";
import { isSideRecord, outputTag, sideRecord } from "../operators/side-output.ts";

const recorder = () => {
  const got: StreamElement<unknown>[] = [];
  const writer: ChannelWriter<unknown> = { push: (e) => void got.push(e) };
  return { got, writer, records: () => got.flatMap((e) => (e.kind === "batch" ? [...e.records] : [])) };
};

const outputWith = (mode: ChainEdgeMode, partitioning: Partitioning, n: number) => {
  const channels = Array.from({ length: n }, recorder);
  const output = new Output([{ mode, partitioning, channels: channels.map((c) => c.writer), consumerName: "down" }], 128);
  return { output, channels };
};

const custom = (partitioner: (key: any, n: number) => number, key: (r: any) => unknown = (r) => r): Partitioning => ({ kind: "custom", key, partitioner });

describe("Output routing", () => {
  it("broadcast: every batch reaches every channel, whole", () => {
    const { output, channels } = outputWith("broadcast", { kind: "broadcast" }, 3);
    output.emit([1, 2]);
    output.emit([3]);
    for (const c of channels) expect(c.records()).toEqual([1, 2, 3]);
  });

  it("rescale and round-robin: whole batches in turn over the subtask's channels", () => {
    for (const mode of ["rescale", "round-robin"] as const) {
      const { output, channels } = outputWith(mode, { kind: mode === "rescale" ? "rescale" : "rebalance" }, 2);
      output.emit([1, 2]);
      output.emit([3]);
      output.emit([4, 5]);
      expect(channels.map((c) => c.records())).toEqual([
        [1, 2, 4, 5],
        [3],
      ]);
    }
  });

  it("round-robin: two targets of one output each take their own turns (both balance)", () => {
    const a = Array.from({ length: 2 }, recorder);
    const b = Array.from({ length: 2 }, recorder);
    const target = (chs: typeof a) => ({ mode: "round-robin" as const, partitioning: { kind: "rebalance" as const }, channels: chs.map((c) => c.writer), consumerName: "down" });
    const output = new Output([target(a), target(b)], 128);
    for (let i = 0; i < 4; i++) output.emit([i]);
    for (const chs of [a, b]) expect(chs.map((c) => c.records())).toEqual([[0, 2], [1, 3]]);
  });

  it("custom: each record goes to the subtask the partitioner returns for its key, in order", () => {
    const seen: [unknown, number][] = [];
    const { output, channels } = outputWith(
      "custom",
      custom(
        (k: string, n) => {
          seen.push([k, n]);
          return k.length % n;
        },
        (r: { w: string }) => r.w,
      ),
      3,
    );
    output.emit([{ w: "a" }, { w: "bb" }, { w: "ccc" }, { w: "dddd" }]);
    expect(channels.map((c) => c.records())).toEqual([[{ w: "ccc" }], [{ w: "a" }, { w: "dddd" }], [{ w: "bb" }]]);
    expect(seen).toEqual([["a", 3], ["bb", 3], ["ccc", 3], ["dddd", 3]]);
  });

  it("custom with one consumer subtask still checks the partitioner's result", () => {
    const { output } = outputWith("custom", custom(() => 1), 1);
    expect(() => output.emit([7])).toThrow(/returned 1 for key 7; it must return an integer partition in 0\.\.0/);
  });

  it.each([
    [3, "3"],
    [-1, "-1"],
    [1.5, "1.5"],
    [Number.NaN, "NaN"],
    ["1", '"1"'],
  ])("custom: a partitioner returning %s fails with BAD_PARTITION naming the operator and the value", (returned, shown) => {
    const { output } = outputWith("custom", custom(() => returned as number), 3);
    let error: unknown;
    try {
      output.emit(["x"]);
    } catch (e) {
      error = e;
    }
    expect(isWeirError(error) && error.code).toBe("BAD_PARTITION");
    expect(isWeirError(error) && error.domain).toBe("user");
    expect(isWeirError(error) && error.operator).toBe("down");
    expect(String((error as Error).message)).toContain(`operator 'down' returned ${shown} for key "x"`);
  });

  it("custom: a throwing partitioner fails naming the operator and the record", () => {
    const { output } = outputWith("custom", custom(() => {
      throw new Error("boom");
    }), 2);
    expect(() => output.emit([{ id: 9 }])).toThrow(/down \(partitionCustom\)' threw on record \{"id":9\}.*boom/);
  });

  it("control elements reach every channel of every mode", () => {
    const a = Array.from({ length: 2 }, recorder);
    const b = Array.from({ length: 2 }, recorder);
    const all = new Output(
      [
        { mode: "rescale", partitioning: { kind: "rescale" }, channels: a.map((c) => c.writer), consumerName: "a" },
        { mode: "custom", partitioning: custom(() => 0), channels: b.map((c) => c.writer), consumerName: "b" },
      ],
      128,
    );
    all.broadcast(watermark(5));
    all.broadcast(barrier(1, 0));
    for (const c of [...a, ...b]) expect(c.got.map((e) => e.kind)).toEqual(["watermark", "barrier"]);
  });
  it("property: every record reaches exactly one channel (broadcast: every channel once), whatever the batches", () => {
    const modes = ["round-robin", "rescale", "custom", "hash", "broadcast"] as const;
    fc.assert(
      fc.property(fc.constantFrom(...modes), fc.integer({ min: 1, max: 5 }), fc.array(fc.array(fc.nat(1000), { maxLength: 20 }), { maxLength: 10 }), (mode, n, batches) => {
        const partitioning: Partitioning =
          mode === "custom"
            ? custom((k: number, m) => k % m)
            : mode === "hash"
              ? { kind: "hash", key: (r: number) => r }
              : mode === "broadcast"
                ? { kind: "broadcast" }
                : { kind: mode === "rescale" ? "rescale" : "rebalance" };
        const { output, channels } = outputWith(mode, partitioning, n);
        for (const b of batches) output.emit(b);
        const sent = batches.flat().sort((a, b) => a - b);
        if (mode === "broadcast") {
          for (const c of channels) expect([...c.records()].sort((a, b) => (a as number) - (b as number))).toEqual(sent);
        } else {
          expect(channels.flatMap((c) => c.records()).sort((a, b) => (a as number) - (b as number))).toEqual(sent);
        }
        if (mode === "custom") channels.forEach((c, j) => c.records().forEach((r) => expect((r as number) % n).toBe(j)));
      }),
    );
  });

  it("property: after any routing (side records dropped or not), each record arrives with the timestamp it was sent with", () => {
    const modes = ["pointwise", "round-robin", "rescale", "custom", "hash", "broadcast"] as const;
    const record = fc.record({ id: fc.nat(), side: fc.boolean() });
    const stamp = fc.oneof(fc.integer({ min: -1e6, max: 1e12 }), fc.constant(Number.NaN));
    const batch = fc.array(fc.tuple(record, stamp), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(fc.constantFrom(...modes), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.array(fc.tuple(batch, fc.boolean()), { maxLength: 8 }), (mode, n0, mainOnly, batches) => {
        const n = mode === "pointwise" ? 1 : n0;
        const id = (r: unknown) => (isSideRecord(r) ? (r.value as { id: number }).id : (r as { id: number }).id);
        const partitioning: Partitioning =
          mode === "custom"
            ? custom((k: number, m) => k % m, id)
            : mode === "hash"
              ? { kind: "hash", key: id }
              : mode === "broadcast"
                ? { kind: "broadcast" }
                : mode === "pointwise"
                  ? { kind: "forward" }
                  : { kind: mode === "rescale" ? "rescale" : "rebalance" };
        const channels = Array.from({ length: n }, recorder);
        const output = new Output([{ mode, partitioning, channels: channels.map((c) => c.writer), consumerName: "down", mainOnly }], 128);
        // Records numbered in sending order; side records are SideRecords (dropped on a mainOnly edge).
        const sent: { record: unknown; stamp: number | undefined }[] = [];
        let next = 0;
        for (const [records, stamped] of batches) {
          const all = records.map(([r, t]) => {
            const k = next++;
            const record = r.side ? sideRecord(outputTag<unknown>("s"), { id: k }) : { id: k };
            sent.push({ record, stamp: stamped ? t : undefined });
            return record;
          });
          output.emit(all, stamped ? records.map(([, t]) => t) : undefined);
        }
        const expected = sent.filter((s) => !(mainOnly && isSideRecord(s.record)));
        const received = channels.flatMap((c) =>
          c.got.flatMap((e) => {
            if (e.kind !== "batch") return [];
            if (e.timestamps !== undefined) expect(e.timestamps.length).toBe(e.records.length);
            return e.records.map((record, i) => ({ record, stamp: e.timestamps?.[i] }));
          }),
        );
        const key = (s: { record: unknown }) => JSON.stringify(s.record);
        const byRecord = (xs: typeof sent) => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
        // Broadcast: every channel gets each record once.
        const want = mode === "broadcast" ? Array.from({ length: n }, () => expected).flat() : expected;
        expect(byRecord(received)).toEqual(byRecord(want));
      }),
    );
  });
});
