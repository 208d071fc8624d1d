import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { WeirError } from "../common/errors.ts";
import { discard } from "../connectors/discard-sink.ts";
import { print } from "../connectors/print-sink.ts";
import type { RetractContext, Sink } from "../connectors/sink.ts";
import { formatIds, rewindOutput, type OutputRewindOptions } from "./output-rewind.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "weir-output-rewind-"));
  for (const id of [1, 2, 3, 4, 5]) await mkdir(join(root, "j", `chk-${id}`), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A sink that can retract: records each call, reports `removed` files for checkpoints after the given one. */
const retracting = (removed: number) => {
  const calls: { after: number; context: RetractContext }[] = [];
  const sink: Sink<unknown> = {
    name: "files",
    createWriter: () => {
      throw new Error("not used");
    },
    retract: async (after, context) => {
      calls.push({ after, context });
      return { removed, checkpoints: removed > 0 ? [after + 1] : [], location: "/out", unit: "part files" };
    },
  };
  return { sink, calls };
};

const options = (overrides: Partial<OutputRewindOptions>): OutputRewindOptions & { lines: string[] } => {
  const lines: string[] = [];
  return {
    root,
    job: "j",
    sinks: [],
    restoredId: 2,
    highestCompleted: 5,
    runIds: ["r1"],
    duplicateOutput: "refuse",
    existingOutput: "refuse",
    log: (l) => lines.push(l),
    lines,
    ...overrides,
  };
};

const refusal = (p: Promise<void>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as WeirError,
  );

describe("rewindOutput: restoring checkpoint n while later ones completed", () => {
  test("a sink that cannot retract (print) is refused, naming it and the checkpoints, before anything changes", async () => {
    const files = retracting(3);
    const o = options({ sinks: [{ operator: "shown", sink: print() }, { operator: "out", sink: files.sink }] });
    const error = await refusal(rewindOutput(o));
    expect(error).toBeInstanceOf(WeirError);
    expect(error?.code).toBe("DUPLICATE_OUTPUT");
    expect(error?.message).toContain("restoring checkpoint 2 of 'j', but checkpoints 3-5 had already completed: sink 'shown' cannot take back");
    expect(error?.message).not.toContain("'out'");
    expect(files.calls).toEqual([]);
    expect((await readdir(join(root, "j"))).sort()).toEqual(["chk-1", "chk-2", "chk-3", "chk-4", "chk-5"]);
  });

  test("allowed: later checkpoints are deleted, retracting sinks retract, and each says so in one line", async () => {
    const files = retracting(3);
    const o = options({ duplicateOutput: "allow", sinks: [{ operator: "shown", sink: print() }, { operator: "out", sink: files.sink }] });
    await rewindOutput(o);
    expect((await readdir(join(root, "j"))).sort()).toEqual(["chk-1", "chk-2"]);
    expect(files.calls).toEqual([{ after: 2, context: { jobName: "j", operatorName: "out", runIds: ["r1"], dryRun: false } }]);
    expect(o.lines).toEqual([
      "deleted checkpoints 3-5 of 'j': this run restores checkpoint 2",
      "sink 'shown': the output of checkpoints 3-5 will be written again (--allow-duplicate-output)",
      "sink 'out': retracted 3 part files committed by checkpoint 3 from /out (the run restores checkpoint 2)",
    ]);
  });

  test("the discard sink has nothing to take back: never refused", async () => {
    const o = options({ sinks: [{ operator: "void", sink: discard() }] });
    await rewindOutput(o);
    expect(o.lines).toEqual(["deleted checkpoints 3-5 of 'j': this run restores checkpoint 2"]);
  });

  test("restoring the latest completed checkpoint changes nothing and says nothing", async () => {
    const files = retracting(0);
    const o = options({ restoredId: 5, sinks: [{ operator: "shown", sink: print() }, { operator: "out", sink: files.sink }] });
    await rewindOutput(o);
    expect(o.lines).toEqual([]);
    expect((await readdir(join(root, "j"))).length).toBe(5);
  });
});

describe("rewindOutput: a start without a checkpoint", () => {
  test("after completed checkpoints (all unreadable now) it is refused, changing nothing; with overwrite it is a restore of checkpoint 0", async () => {
    const files = retracting(2);
    const refused = await refusal(rewindOutput(options({ restoredId: undefined, sinks: [{ operator: "out", sink: files.sink }] })));
    expect(refused?.code).toBe("NO_RESTORABLE_CHECKPOINT");
    expect(refused?.message).toContain("starting 'j' from the beginning, but checkpoints up to 5 had completed");
    expect(refused?.message).toContain("--fresh --overwrite-output");
    expect(files.calls).toEqual([]);
    expect((await readdir(join(root, "j"))).length).toBe(5);
    const error = await refusal(rewindOutput(options({ restoredId: undefined, existingOutput: "overwrite", sinks: [{ operator: "shown", sink: print() }] })));
    expect(error?.message).toContain("starting 'j' from the beginning, but checkpoints 1-5 had already completed: sink 'shown' cannot take back");
    const o = options({ restoredId: undefined, existingOutput: "overwrite", sinks: [{ operator: "out", sink: files.sink }] });
    await rewindOutput(o);
    expect(files.calls.map((c) => [c.after, c.context.dryRun])).toEqual([[0, false]]);
    expect(o.lines).toEqual([
      "deleted checkpoints 1-5 of 'j': this run starts from the beginning",
      "sink 'out': retracted 2 part files committed by checkpoint 1 from /out (the run starts from the beginning)",
    ]);
  });

  test("fresh: the lineage (chk-<n>, chk-<n>.corrupt, completed.json) is deleted only once the output check passed; other entries stay", async () => {
    const dir = join(root, "j");
    await mkdir(join(dir, "chk-6.corrupt"));
    await mkdir(join(dir, "state", "live-run"), { recursive: true });
    await mkdir(join(dir, "runs"));
    await writeFile(join(dir, "completed.json"), JSON.stringify({ id: 6 }));
    const files = retracting(4);
    const fresh = { restoredId: undefined, highestCompleted: 0, fresh: true, sinks: [{ operator: "out", sink: files.sink }] };
    expect((await refusal(rewindOutput(options(fresh))))?.code).toBe("OUTPUT_EXISTS");
    expect((await readdir(dir)).length).toBe(9);
    await rewindOutput(options({ ...fresh, existingOutput: "overwrite" }));
    expect((await readdir(dir)).sort()).toEqual(["runs", "state"]);
    expect(await readdir(join(dir, "state"))).toEqual(["live-run"]);
  });

  test("committed output of earlier runs is refused with a dry run (nothing deleted), or deleted with overwrite", async () => {
    const files = retracting(4);
    const error = await refusal(rewindOutput(options({ restoredId: undefined, highestCompleted: 0, sinks: [{ operator: "out", sink: files.sink }] })));
    expect(error?.code).toBe("OUTPUT_EXISTS");
    expect(error?.message).toContain("/out holds 4 part files committed by an earlier run of 'j' (sink 'out')");
    expect(files.calls.map((c) => [c.after, c.context.dryRun])).toEqual([[0, true]]);
    const o = options({ restoredId: undefined, highestCompleted: 0, existingOutput: "overwrite", sinks: [{ operator: "out", sink: files.sink }] });
    await rewindOutput(o);
    expect(files.calls.map((c) => [c.after, c.context.dryRun])).toEqual([[0, true], [0, false]]);
    expect(o.lines).toEqual(["sink 'out': deleted 4 part files of an earlier run of 'j' from /out (--overwrite-output)"]);
  });

  test("sinks that cannot tell (print, Kafka) are not checked on a fresh start", async () => {
    const o = options({ restoredId: undefined, highestCompleted: 0, sinks: [{ operator: "shown", sink: print() }] });
    await expect(rewindOutput(o)).resolves.toBeUndefined();
    expect(o.lines).toEqual([]);
  });
});

test("formatIds joins consecutive ids", () => {
  expect(formatIds([3])).toBe("3");
  expect(formatIds([3, 4, 5, 7, 9, 10])).toBe("3-5, 7, 9-10");
  expect(formatIds([])).toBe("");
});
