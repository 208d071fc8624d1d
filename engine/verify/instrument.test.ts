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
import { outputTag } from "../../operators/side-output.ts";
import { broadcastState } from "../../state/broadcast-state.ts";
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

  it("does not envelope an operator whose input is not hash-partitioned: asyncMap (keyed state for its records in flight) stays as it is", () => {
    const built = buildJob(
      job("async", (env) =>
        env
          .source(generator({ splits: 1, recordsPerSplit: 3, generate: ({ index }) => index }), { name: "n" })
          .asyncMap(async (x: number) => x + 1, { name: "lookup" })
          .map((x) => x * 2, { name: "double" })
          .sink(collectSink<number>(), { name: "out" }),
      ),
      { params: paramsFrom({}), parallelism: 2 },
    );
    expect(verifyNodes(built).map((n) => [n.name, n.keyed, n.async, n.keyedInput])).toEqual([
      ["n", false, false, false],
      ["lookup", false, true, false],
      ["double", false, false, false],
      ["out", false, false, false],
    ]);
    const instrumented = instrumentForVerify(built, { dir, redirectSinks: true });
    expect(instrumented.nodes.map((n) => n.name)).toEqual(["n", "verify.tap.n", "lookup", "verify.tap.lookup", "double", "verify.tap.double", "out"]);
    expect(instrumented.nodes[2]!.spec).toBe(built.nodes[1]!.spec);
  });

  it("decides envelopes and keyed sink inputs the same way at every parallelism (a sink with its own parallelism gets no envelopes)", () => {
    const definition = job("own-parallelism", (env) =>
      env
        .source(generator({ splits: 1, recordsPerSplit: 3, generate: ({ index }) => index }), { name: "n" })
        .keyBy((x) => x % 2)
        .reduce((a, b) => a + b, { name: "sum" })
        .sink(collectSink<number>(), { name: "out", parallelism: 1 }),
    );
    const at = (parallelism: number) => verifyNodes(buildJob(definition, { params: paramsFrom({}), parallelism }));
    expect(at(1).find((n) => n.name === "out")!.keyedInput).toBe(false);
    expect(at(1)).toEqual(at(3));
  });

  it("instruments by the nodes it is given (the parent's decisions), and refuses a job whose graph is not the one they describe", () => {
    const built = buildJob(definition(collectSink()), { params: paramsFrom({}), parallelism: 2 });
    const nodes = verifyNodes(built).map((n) => (n.name === "out" ? { ...n, keyedInput: false } : n));
    const instrumented = instrumentForVerify(built, { dir, redirectSinks: true, nodes });
    // The sink takes plain records (from the unwrap node) since the parent said so.
    expect(instrumented.nodes.find((n) => n.name === "out")!.inputs.map((e) => instrumented.nodes[e.from]!.name)).toEqual(["verify.unwrap.count"]);
    expect(() => instrumentForVerify(built, { dir, redirectSinks: true, nodes: nodes.slice(1) })).toThrow(/VERIFY_GRAPH_CHANGED|another graph/);
  });

  it("a keyed process function's side records reach its selected side output only, not its main consumers", async () => {
    const main = collectSink<string>("main");
    const side = collectSink<number>("side");
    const odd = outputTag<number>("odd");
    const built = buildJob(
      job("side", (env) => {
        const result = env
          .source(generator({ splits: 1, recordsPerSplit: 10, generate: ({ index }) => index }), { name: "n" })
          .keyBy((x) => x % 3)
          .process<string>(
            {
              processElement(x, ctx, out) {
                if (x % 2 === 1) ctx.output(odd, x);
                else out.collect(`even ${x}`);
              },
            },
            { name: "split" },
          );
        result.sink(main, { name: "main-out" });
        result.sideOutput(odd).sink(side, { name: "side-out" });
      }),
      { params: paramsFrom({}), parallelism: 2 },
    );
    await runJob({ plan: planJob(instrumentForVerify(built, { dir, redirectSinks: false })), stateBackend: "heap" });
    expect(main.all().sort()).toEqual(["even 0", "even 2", "even 4", "even 6", "even 8"]);
    expect(side.all().sort()).toEqual([1, 3, 5, 7, 9]);
  });

  it("a keyed broadcast process function's output from the broadcast side has no key (k null) in its tap", async () => {
    const rules = broadcastState<string, number>("rules");
    const built = buildJob(
      job("bcast", (env) => {
        const ruleStream = env.source(generator({ splits: 1, recordsPerSplit: 20, generate: ({ index }) => index }), { name: "rules" }).broadcast(rules);
        env
          .source(generator({ splits: 2, recordsPerSplit: 200, generate: ({ split, index }) => index * 2 + split }), { name: "events" })
          .keyBy((x) => x % 5)
          .connect(ruleStream)
          .process<string>(
            {
              processElement(x, _ctx, out) {
                out.collect(`event ${x}`);
              },
              processBroadcastElement(r, ctx, out) {
                ctx.broadcastState(rules).put(String(r), r);
                out.collect(`rule ${r}`);
              },
            },
            { name: "apply" },
          )
          .sink(collectSink<string>(), { name: "out" });
      }),
      { params: paramsFrom({}), parallelism: 2 },
    );
    const apply = built.nodes.find((n) => n.name === "apply")!.id;
    await runJob({ plan: planJob(instrumentForVerify(built, { dir, redirectSinks: false })), stateBackend: "heap" });
    const tap = (await read(tapDir(dir, apply))) as { k: string | null; v: string }[];
    expect(tap).toHaveLength(400 + 2 * 20);
    for (const e of tap) expect([e.v, e.k]).toEqual([e.v, e.v.startsWith("rule") ? null : String(Number(e.v.split(" ")[1]) % 5)]);
  });
});
