import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeStats, readRunStats, validateStats } from "./stats-files.ts";

const file = (overrides: Record<string, unknown> = {}) => ({
  system: "flink",
  query: "q5",
  firstEventAtMs: 1000.5,
  samples: [
    [1000, 0],
    [1100, 50],
  ],
  splitsEnd: { "0": 100 },
  buckets: { "0": { count: 2, digest: "00000000000000ff" } },
  latencyUs: { count: 2, p50: 110, p99: 200, max: 195, histogram: [[110, 1], [200, 1]] },
  checkpoints: [{ id: 1, completedAtMs: 1050 }],
  outputRows: 2,
  ...overrides,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "weir-stats-files-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("stats files", () => {
  it("accepts a well-formed file", () => {
    expect(validateStats(file(), "f")).toEqual(file());
  });

  it.each([
    [{ system: "spark" }, /system is "spark"/],
    [{ samples: [] }, /samples/],
    [{ splitsEnd: { a: 1 } }, /splitsEnd/],
    [{ buckets: { "0": { count: 1, digest: "FF" } } }, /bucket 0/],
    [{ buckets: { x: { count: 1, digest: "00000000000000ff" } } }, /bucket key "x"/],
    [{ latencyUs: { count: 3, p50: 1, p99: 1, max: 1, histogram: [[1, 2]] } }, /not the histogram's total/],
    [{ checkpoints: [{ id: 1 }] }, /checkpoints/],
    [{ outputRows: -1 }, /outputRows/],
    [{ firstEventAtMs: "soon" }, /firstEventAtMs/],
  ])("rejects a malformed file loudly (%j)", (overrides, message) => {
    expect(() => validateStats(file(overrides), "/x/flink.json")).toThrow(message);
    expect(() => validateStats(file(overrides), "/x/flink.json")).toThrow(/malformed stats file \/x\/flink\.json/);
  });

  it("merges files: buckets and rows added, histograms merged, splits and checkpoints united", () => {
    const a = validateStats(file(), "a");
    const b = validateStats(
      file({ firstEventAtMs: 999, splitsEnd: { "1": 101 }, buckets: { "0": { count: 1, digest: "0000000000000001" }, "1": { count: 1, digest: "0000000000000002" } }, checkpoints: [{ id: 1, completedAtMs: 1040 }, { id: 2, completedAtMs: 3000 }], outputRows: 2 }),
      "b",
    );
    const m = mergeStats([a, b], "test");
    expect(m.files).toBe(2);
    expect(m.firstEventAtMs).toBe(999);
    expect(m.splitsEnd).toEqual({ "0": 100, "1": 101 });
    expect(m.buckets).toEqual({ "0": { count: 3, digest: "0000000000000100" }, "1": { count: 1, digest: "0000000000000002" } });
    expect(m.latencyUs.count).toBe(4);
    expect(m.checkpoints).toEqual([{ id: 1, completedAtMs: 1040 }, { id: 2, completedAtMs: 3000 }]);
    expect(m.outputRows).toBe(4);
    expect(() => mergeStats([a, a], "test")).toThrow(/split 0 is reported by two files/);
    expect(() => mergeStats([a, validateStats(file({ query: "q7", splitsEnd: { "1": 1 } }), "c")], "test")).toThrow(/disagree/);
  });

  it("reads every <prefix>.*.json, and fails loudly without any or with a broken one", async () => {
    const prefix = join(dir, "run1");
    expect(() => readRunStats(prefix)).toThrow(/no stats file .*run1\.\*\.json was written/);
    await writeFile(`${prefix}.flink-0.json`, JSON.stringify(file()));
    await writeFile(`${prefix}.flink-1.json`, JSON.stringify(file({ splitsEnd: { "1": 7 } })));
    await writeFile(join(dir, "run10.flink-0.json"), "not even JSON"); // another prefix: ignored
    expect(readRunStats(prefix).files).toBe(2);
    await writeFile(`${prefix}.flink-2.json`, "{");
    expect(() => readRunStats(prefix)).toThrow(/malformed stats file .*run1\.flink-2\.json: not JSON/);
  });
});
