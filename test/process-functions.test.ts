/**
 * Process functions: the non-keyed `process`, and side outputs (`ctx.output(tag, value)`,
 * `result.sideOutput(tag)`) from keyed, co- and non-keyed process functions, run as jobs.
 */
import { describe, expect, it } from "vitest";
import { generator, job, outputTag, valueState, type Collector } from "../index.ts";
import { collectSink, multiset, runDefinition } from "./support/run.ts";

const numbers = (n: number) => generator({ splits: 3, recordsPerSplit: n, generate: ({ split, index }) => split * 1000 + index });

describe("non-keyed process", () => {
  it("emits any number of records per input and runs endInput once per subtask", async () => {
    const out = collectSink<string>();
    const definition = job("np", (env) => {
      env
        .source(numbers(50))
        .process({
          processElement(n, ctx, o: Collector<string>) {
            for (let i = 0; i < n % 3; i++) o.collect(`${n}.${i}`);
          },
          endInput(ctx, o) {
            o.collect(`end-${ctx.subtask}/${ctx.parallelism}`);
          },
        })
        .sink(out);
    });
    await runDefinition(definition, { parallelism: 2 });
    const expected: string[] = ["end-0/2", "end-1/2"];
    for (let s = 0; s < 3; s++) for (let i = 0; i < 50; i++) for (let j = 0; j < (s * 1000 + i) % 3; j++) expected.push(`${s * 1000 + i}.${j}`);
    expect(multiset(out.all())).toEqual(multiset(expected));
  });

  it("names the operator and the record when the function throws", async () => {
    const definition = job("np-throws", (env) => {
      env
        .source(numbers(5))
        .process(
          {
            processElement(n, _ctx, o: Collector<number>) {
              if (n === 1003) throw new Error("bad number");
              o.collect(n);
            },
          },
          { name: "checker" },
        )
        .sink(collectSink());
    });
    await expect(runDefinition(definition)).rejects.toThrow(/operator 'checker' threw on record 1003 .*bad number/);
  });
});

describe("side outputs", () => {
  const small = outputTag<number>("small");
  const words = outputTag<string>("words");

  it("splits a non-keyed stream: main consumers (keyed too) never see side records, each tag's stream gets its values", async () => {
    const main = collectSink<{ parity: number; count: number }>("main");
    const smalls = collectSink<number>("smalls");
    const texts = collectSink<string>("texts");
    const definition = job("side", (env) => {
      const result = env.source(numbers(100)).process({
        processElement(n, ctx, o: Collector<number>) {
          if (n < 50) ctx.output(small, n);
          else o.collect(n);
          if (n % 25 === 0) ctx.output(words, `n=${n}`);
        },
      });
      // The main output is consumed first (over a hash edge), the side outputs are selected after.
      result
        .map((n) => ({ parity: n % 2, count: 1 }))
        .keyBy((r) => r.parity)
        .reduce((a, b) => ({ parity: a.parity, count: a.count + b.count }))
        .sink(main);
      result.sideOutput(small).sink(smalls);
      result.sideOutput(words).rebalance().map((w) => w.toUpperCase()).sink(texts);
    });
    await runDefinition(definition, { parallelism: 2 });
    const all = [...Array(3).keys()].flatMap((s) => [...Array(100).keys()].map((i) => s * 1000 + i));
    const big = all.filter((n) => n >= 50);
    expect(multiset(smalls.all())).toEqual(multiset(all.filter((n) => n < 50)));
    expect(multiset(texts.all())).toEqual(multiset(all.filter((n) => n % 25 === 0).map((n) => `N=${n}`)));
    const finalCount = (parity: number) => Math.max(...main.all().filter((r) => r.parity === parity).map((r) => r.count));
    expect(finalCount(0)).toBe(big.filter((n) => n % 2 === 0).length);
    expect(finalCount(1)).toBe(big.filter((n) => n % 2 === 1).length);
    expect(main.all()).toHaveLength(big.length);
  });

  it("drops values for a tag the job does not select, and leaves the main output alone", async () => {
    const main = collectSink<number>();
    const definition = job("side-unselected", (env) => {
      env
        .source(numbers(20))
        .process({
          processElement(n, ctx, o: Collector<number>) {
            ctx.output(small, n);
            o.collect(n);
          },
        })
        .sink(main);
    });
    await runDefinition(definition, { parallelism: 2 });
    expect(multiset(main.all())).toEqual(multiset([...Array(3).keys()].flatMap((s) => [...Array(20).keys()].map((i) => s * 1000 + i))));
  });

  it("come from keyed process functions, in processElement and in onTimer, with their key's state", async () => {
    const totals = collectSink<string>("totals");
    const alerts = collectSink<string>("alerts");
    const closing = outputTag<string>("closing");
    const definition = job("side-keyed", (env) => {
      const result = env
        .source(numbers(30))
        .keyBy((n) => n % 4)
        .process({
          state: { sum: valueState(0) },
          processElement(n, ctx, o: Collector<string>) {
            const sum = ctx.state.sum.value() + n;
            ctx.state.sum.update(sum);
            if (n % 10 === 0) ctx.output(closing, `seen ${n} at key ${ctx.key}`);
            ctx.timerService.registerEventTimeTimer(1);
            o.collect(`${ctx.key}:${sum}`);
          },
          onTimer(_ts, ctx, _o) {
            ctx.output(closing, `final ${ctx.key}=${ctx.state.sum.value()}`);
          },
        });
      result.sink(totals);
      result.sideOutput(closing).sink(alerts);
    });
    await runDefinition(definition, { parallelism: 2 });
    const all = [...Array(3).keys()].flatMap((s) => [...Array(30).keys()].map((i) => s * 1000 + i));
    const sums = new Map<number, number>();
    for (const n of all) sums.set(n % 4, (sums.get(n % 4) ?? 0) + n);
    expect(totals.all()).toHaveLength(all.length);
    expect(multiset(alerts.all())).toEqual(
      multiset([...all.filter((n) => n % 10 === 0).map((n) => `seen ${n} at key ${n % 4}`), ...[...sums].map(([k, v]) => `final ${k}=${v}`)]),
    );
  });

  it("selecting the same tag twice gives the same stream", async () => {
    const a = collectSink<number>("a");
    const definition = job("side-twice", (env) => {
      const result = env.source(numbers(5)).process({
        processElement(n, ctx, _o: Collector<number>) {
          ctx.output(small, n);
        },
      });
      const first = result.sideOutput(small);
      expect(result.sideOutput(small)).toBe(first);
      first.sink(a);
    });
    await runDefinition(definition);
    expect(a.all()).toHaveLength(15);
  });
});
