import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generator } from "../../connectors/generator-source.ts";
import { toFiles } from "../../connectors/file-sink.ts";
import { buildJob, job } from "../job.ts";
import { paramsFrom } from "../params.ts";
import { planJob } from "../plan.ts";
import { runJob } from "../runtime.ts";
import { collectSink } from "../../test/support/run.ts";
import { applyVerifyHook, instrumentForVerify, redirectedSinkDir, tapDir, verifyNodes, VERIFY_ENV } from "./instrument.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "weir-instrument-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const words = ["a", "b", "a", "c", "b", "a"];
const definition = (sink: ReturnType<typeof collectSink<{ word: string; n: number }>>) =>
  job("instrumented", (env) =>
    env
      .source(generator({ splits: 1, recordsPerSplit: words.length, generate: ({ index }) => words[index]! }), { name: "words" })
      .map((w) => ({ word: w, n: 1 }), { name: "one" })
      .keyBy((x) => x.word)
      .reduce((a, b) => ({ word: a.word, n: a.n + b.n }), { name: "count" })
      .sink(sink, { name: "out" }),
  );

const read = async (d: string) => (await toFiles(d).readCommitted!()) ?? [];

describe("instrumentForVerify", () => {
  it("taps every source and operator, wraps keyed output in keyed envelopes, keeps uids and a topological order", () => {
    const built = buildJob(definition(collectSink()), { params: paramsFrom({}), parallelism: 2 });
    const instrumented = instrumentForVerify(built, { dir, redirectSinks: true });
    const names = instrumented.nodes.map((n) => n.name);
    expect(names).toEqual(["words", "verify.tap.words", "one", "verify.tap.one", "count", "verify.unwrap.count", "verify.tap.count", "out"]);
    for (const n of instrumented.nodes) for (const e of n.inputs) expect(e.from).toBeLessThan(n.id);
    // The redirected sink is fed the envelopes: its input is keyed.
    expect(instrumented.nodes.find((n) => n.name === "out")!.inputs.map((e) => e.from)).toEqual([4]);
    expect(verifyNodes(built).map((n) => [n.name, n.kind, n.keyed, n.keyedInput])).toEqual([
      ["words", "source", false, false],
      ["one", "operator", false, false],
      ["count", "operator", true, false],
      ["out", "sink", false, true],
    ]);
    expect(() => planJob(instrumented)).not.toThrow();
  });

  it("without the environment variable the graph is the job's own", () => {
    const built = buildJob(definition(collectSink()), { params: paramsFrom({}), parallelism: 1 });
    expect(applyVerifyHook(built, {})).toBe(built);
    expect(applyVerifyHook(built, { [VERIFY_ENV]: JSON.stringify({ dir, redirectSinks: false }) }).nodes).toHaveLength(8);
  });

  it("a run commits each operator's output to its tap, keyed output with its key, and the job's own sink still gets plain records", async () => {
    const sink = collectSink<{ word: string; n: number }>();
    const built = buildJob(definition(sink), { params: paramsFrom({}), parallelism: 2 });
    await runJob({ plan: planJob(instrumentForVerify(built, { dir, redirectSinks: false })), stateBackend: "heap" });
    expect(await read(tapDir(dir, 0))).toEqual(words);
    expect((await read(tapDir(dir, 1))).length).toBe(words.length);
    const count = (await read(tapDir(dir, 2))) as { k: string; v: { word: string; n: number } }[];
    expect(count.filter((e) => e.k === '"a"').map((e) => e.v.n)).toEqual([1, 2, 3]);
    for (const e of count) expect(JSON.parse(e.k)).toBe(e.v.word);
    expect(sink.all().map((r) => `${r.word}${r.n}`).sort()).toEqual(["a1", "a2", "a3", "b1", "b2", "c1"]);
  });

  it("redirects each sink to a scratch exactly-once file sink", async () => {
    const sink = collectSink<{ word: string; n: number }>();
    const built = buildJob(definition(sink), { params: paramsFrom({}), parallelism: 1 });
    await runJob({ plan: planJob(instrumentForVerify(built, { dir, redirectSinks: true })), stateBackend: "heap" });
    expect(sink.all()).toEqual([]);
    expect((await read(redirectedSinkDir(dir, 3))).length).toBe(words.length);
  });
});
