/**
 * State names: each names one state of an operator, and keeps its id across a restore. A name
 * declared twice would share an id with its twin after a restore, so it is refused; names
 * starting with `__` are kept for Weir's own states (the timers state `__timers`).
 */
import { expect, it } from "vitest";
import { valueState } from "./descriptors.ts";
import { bindStates } from "./handles.ts";
import { openHeapBackend } from "./heap-backend.ts";
import { KeyedStateStore } from "./keyed-store.ts";
import { KeyedTimers } from "../operators/timers.ts";
import { generator, job, type Collector } from "../index.ts";
import { collectSink, runDefinition } from "../test/support/run.ts";

it("refuses a state name declared twice, naming the operator and the state", () => {
  const store = new KeyedStateStore({ backend: openHeapBackend(), operator: "totals" });
  store.register("__timers", { kind: "value" });
  const twice = () => store.register("__timers", { kind: "timers" });
  expect(twice).toThrow(expect.objectContaining({ code: "STATE_DECLARED_TWICE", domain: "user", operator: "totals" }));
  expect(twice).toThrow("operator 'totals' declares the state '__timers' twice; give each state its own name");
});

it("refuses a job's state named with the reserved '__' prefix, naming the operator and the state", () => {
  const store = new KeyedStateStore({ backend: openHeapBackend(), operator: "totals" });
  const bind = () => bindStates(store, { total: valueState(0), __timers: valueState(0) });
  expect(bind).toThrow(expect.objectContaining({ code: "RESERVED_STATE_NAME", domain: "user", operator: "totals" }));
  expect(bind).toThrow("operator 'totals': the state '__timers' starts with '__'");
  expect(() => bindStates(new KeyedStateStore({ backend: openHeapBackend() }), { __x: valueState(0) })).toThrow(
    expect.objectContaining({ code: "RESERVED_STATE_NAME" }),
  );
});

it("a job's states and Weir's timers state keep distinct ids across a restore", () => {
  const declare = (store: KeyedStateStore) => {
    const s = bindStates(store, { timers: valueState(0), total: valueState(0) });
    new KeyedTimers(store);
    return s;
  };
  const before = new KeyedStateStore({ backend: openHeapBackend(), operator: "totals" });
  declare(before);
  const layout = before.layout();
  expect(new Set(layout.map((e) => e.id)).size).toBe(layout.length);
  const after = new KeyedStateStore({ backend: openHeapBackend(), operator: "totals", layout });
  declare(after);
  expect(after.layout()).toEqual(layout);
});

it("a job declaring a state named '__timers' fails before it runs, naming the operator", async () => {
  const def = job("reserved", (env) =>
    env
      .source(generator({ splits: 1, recordsPerSplit: 10, generate: ({ index }) => index }))
      .keyBy((n) => n % 2)
      .process(
        {
          state: { __timers: valueState(0) },
          processElement(n, ctx, out: Collector<number>) {
            ctx.state.__timers.update(n);
            out.collect(n);
          },
        },
        { name: "totals" },
      )
      .sink(collectSink<number>()),
  );
  await expect(runDefinition(def)).rejects.toMatchObject({ code: "RESERVED_STATE_NAME", domain: "user", operator: "totals" });
});
