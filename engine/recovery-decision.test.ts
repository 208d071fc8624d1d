import { describe, expect, it } from "vitest";
import { isWeirError } from "../common/errors.ts";
import { decideRecovery, type SinkReport } from "./recovery-decision.ts";

const fate = (subtask: number, records: number) => ({ description: `transaction 't-${subtask}' (subtask ${subtask}, ${records} records)`, records });
const report = (operator: string, r: Partial<SinkReport["report"]>): SinkReport => ({
  operator,
  report: { committed: [], aborted: [], unknown: [], abortReason: "the transaction timeout of 3000 ms passed while the job was down", ...r },
});
const previous = { id: 4, path: "/chk/job/chk-4" };

const failure = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (isWeirError(e)) return e;
    throw e;
  }
  throw new Error("expected a failure");
};

describe("decideRecovery: a checkpoint whose transactions the destination discarded", () => {
  it("resumes when nothing was discarded", () => {
    expect(decideRecovery({ job: "j", restoredId: 5, reports: [report("out", { committed: [fate(0, 10)] })], previous })).toEqual({ kind: "resume" });
  });

  it("falls back to the previous checkpoint when every transaction of n was aborted and none committed, saying so without claiming a loss", () => {
    const decision = decideRecovery({ job: "j", restoredId: 5, reports: [report("out", { aborted: [fate(0, 10), fate(1, 5)] })], previous });
    expect(decision).toMatchObject({ kind: "fallback", to: 4, operators: ["out"] });
    if (decision.kind !== "fallback") throw new Error("unreachable");
    expect(decision.line).toContain("restores checkpoint 4 instead and writes those records again");
    expect(decision.line).toContain("15 records");
    expect(decision.line).not.toMatch(/are lost/);
  });

  it("the fallback also covers a reporting sink that had nothing in checkpoint n (e.g. dead letters without bad records)", () => {
    const decision = decideRecovery({ job: "j", restoredId: 5, reports: [report("out", { aborted: [fate(0, 10)] }), report("src.dead-letters", {})], previous });
    expect(decision).toMatchObject({ kind: "fallback", to: 4, operators: ["out", "src.dead-letters"] });
  });

  it("starts from the beginning when the aborted checkpoint was the first", () => {
    const decision = decideRecovery({ job: "j", restoredId: 1, reports: [report("out", { aborted: [fate(0, 3)] })], previous: { id: 0, path: undefined } });
    expect(decision).toMatchObject({ kind: "fallback", to: 0 });
  });

  it("stops when some transactions of n committed and some were aborted, naming both and the command that continues", () => {
    const e = failure(() =>
      decideRecovery({ job: "j", restoredId: 5, reports: [report("out", { committed: [fate(0, 7)], aborted: [fate(1, 9)] })], previous }),
    );
    expect(e.code).toBe("KAFKA_TXN_LOST");
    expect(e.retriable).toBe(false);
    expect(e.message).toContain("the broker aborted 1 transaction with 9 records");
    expect(e.message).toContain("had committed (7 records)");
    expect(e.message).toContain("--from /chk/job/chk-4 --allow-duplicate-output (the committed records then appear twice)");
  });

  it("stops when whether a transaction committed cannot be told", () => {
    const e = failure(() => decideRecovery({ job: "j", restoredId: 5, reports: [report("out", { aborted: [fate(0, 2)], unknown: [fate(1, 4)] })], previous }));
    expect(e.message).toContain("cannot be told");
  });

  it("stops, pointing at older checkpoints, when checkpoint n-1 is not available", () => {
    const e = failure(() => decideRecovery({ job: "j", restoredId: 5, reports: [report("out", { aborted: [fate(0, 2)] })], previous: undefined }));
    expect(e.message).toContain("checkpoint 4 is not available");
    expect(e.message).toContain("weir checkpoints list --job j");
  });
});
