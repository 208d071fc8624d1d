/**
 * State TTL through a keyed process function in the operator harness, on its manual processing-
 * time clock: what expires when, what refreshes it, what is stored, snapshot and restore at
 * another parallelism, and a random walk against a model.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isWeirError } from "../common/errors.ts";
import { listState, mapState, valueState, type StateOptions } from "./descriptors.ts";
import { keyGroupFor, subtaskForKeyGroup, DEFAULT_MAX_PARALLELISM } from "./key-groups.ts";
import { OperatorHarness, type HarnessSnapshot } from "../operators/harness.ts";
import { openHeapBackend } from "./heap-backend.ts";
import { KeyedStateStore } from "./keyed-store.ts";
import { bindStates } from "./handles.ts";
import { migrateWithTimes } from "./ttl.ts";
import { keyedProcessOperator } from "../operators/keyed-process.ts";

type Cmd =
  | { readonly k: string; readonly op: "set"; readonly v: number }
  | { readonly k: string; readonly op: "get" }
  | { readonly k: string; readonly op: "add"; readonly v: number }
  | { readonly k: string; readonly op: "list" }
  | { readonly k: string; readonly op: "put"; readonly mk: string; readonly v: number }
  | { readonly k: string; readonly op: "mget"; readonly mk: string }
  | { readonly k: string; readonly op: "has"; readonly mk: string }
  | { readonly k: string; readonly op: "entries" }
  | { readonly k: string; readonly op: "size" };

/** One value, one list and one map state, all with `options`; reads are emitted as `key:op=result`. */
const ttlOperator = (options: StateOptions<never>) =>
  keyedProcessOperator({
    name: "ttl",
    key: (c: Cmd) => c.k,
    fn: {
      state: { v: valueState(-1, options as StateOptions<number>), l: listState<number>(options as StateOptions<number[]>), m: mapState<string, number>(options as StateOptions<Map<string, number>>) },
      processElement(c: Cmd, ctx, out: { collect(s: string): void }) {
        const s = ctx.state;
        const emit = (r: unknown) => out.collect(`${c.k}:${c.op}=${JSON.stringify(r)}`);
        switch (c.op) {
          case "set":
            return s.v.update(c.v);
          case "get":
            return emit(s.v.value());
          case "add":
            return s.l.add(c.v);
          case "list":
            return emit([...s.l.get()]);
          case "put":
            return s.m.put(c.mk, c.v);
          case "mget":
            return emit(s.m.get(c.mk) ?? null);
          case "has":
            return emit(s.m.has(c.mk));
          case "entries":
            return emit([...s.m.entries()]);
          case "size":
            return emit(s.m.size);
        }
      },
    },
  });

const open = (options: StateOptions<never>, more: Parameters<typeof OperatorHarness.open>[1] = {}) => OperatorHarness.open(ttlOperator(options), more);

/** Sets the clock to `t`, then processes `cmds`. */
const at = async (h: OperatorHarness<Cmd, string>, t: number, ...cmds: Cmd[]): Promise<string[]> => {
  await h.setProcessingTime(t);
  return h.processElements(cmds);
};

describe("state TTL (processing time)", () => {
  it("a value is visible until its last write plus the ttl, then reads as the default", async () => {
    const h = await open({ ttl: 100 });
    await at(h, 0, { k: "a", op: "set", v: 5 });
    expect(await at(h, 99, { k: "a", op: "get" })).toEqual(["a:get=5"]);
    expect(await at(h, 100, { k: "a", op: "get" })).toEqual(["a:get=-1"]);
    // The expired read removed it: a later read finds nothing either.
    expect(await at(h, 101, { k: "a", op: "get" })).toEqual(["a:get=-1"]);
  });

  it("a write refreshes the time, a read does not (onCreateAndWrite, the default)", async () => {
    const h = await open({ ttl: "100ms" });
    await at(h, 0, { k: "a", op: "set", v: 1 });
    await at(h, 50, { k: "a", op: "set", v: 2 });
    expect(await at(h, 90, { k: "a", op: "get" })).toEqual(["a:get=2"]);
    expect(await at(h, 149, { k: "a", op: "get" })).toEqual(["a:get=2"]);
    expect(await at(h, 150, { k: "a", op: "get" })).toEqual(["a:get=-1"]);
  });

  it("with onReadAndWrite a read refreshes the time of values, list elements and map entries", async () => {
    const h = await open({ ttl: 100, updateType: "onReadAndWrite" });
    await at(h, 0, { k: "a", op: "set", v: 1 }, { k: "a", op: "add", v: 7 }, { k: "a", op: "put", mk: "x", v: 3 }, { k: "a", op: "put", mk: "y", v: 4 });
    await at(h, 60, { k: "a", op: "get" }, { k: "a", op: "list" }, { k: "a", op: "mget", mk: "x" });
    expect(await at(h, 120, { k: "a", op: "get" }, { k: "a", op: "list" }, { k: "a", op: "entries" })).toEqual([
      "a:get=1",
      "a:list=[7]",
      // y was not read at 60: it expired at 100.
      'a:entries=[["x",3]]',
    ]);
    expect(await at(h, 219, { k: "a", op: "get" })).toEqual(["a:get=1"]);
    expect(await at(h, 220, { k: "a", op: "list" }, { k: "a", op: "size" })).toEqual(["a:list=[]", "a:size=0"]);
  });

  it("list elements expire one by one, each from when it was added", async () => {
    const h = await open({ ttl: 100 });
    await at(h, 0, { k: "a", op: "add", v: 1 });
    await at(h, 50, { k: "a", op: "add", v: 2 });
    expect(await at(h, 99, { k: "a", op: "list" })).toEqual(["a:list=[1,2]"]);
    expect(await at(h, 100, { k: "a", op: "list" })).toEqual(["a:list=[2]"]);
    await at(h, 120, { k: "a", op: "add", v: 3 });
    expect(await at(h, 150, { k: "a", op: "list" })).toEqual(["a:list=[3]"]);
    expect(await at(h, 220, { k: "a", op: "list" })).toEqual(["a:list=[]"]);
  });

  it("map entries expire one by one: get, has, entries and size leave the expired out", async () => {
    const h = await open({ ttl: 100 });
    await at(h, 0, { k: "a", op: "put", mk: "x", v: 1 }, { k: "a", op: "put", mk: "y", v: 2 });
    await at(h, 50, { k: "a", op: "put", mk: "y", v: 3 });
    expect(await at(h, 100, { k: "a", op: "mget", mk: "x" }, { k: "a", op: "has", mk: "x" }, { k: "a", op: "mget", mk: "y" }, { k: "a", op: "entries" }, { k: "a", op: "size" })).toEqual([
      "a:mget=null",
      "a:has=false",
      "a:mget=3",
      'a:entries=[["y",3]]',
      "a:size=1",
    ]);
    expect(await at(h, 150, { k: "a", op: "entries" }, { k: "a", op: "has", mk: "y" })).toEqual(["a:entries=[]", "a:has=false"]);
  });

  it("with returnExpiredIfNotCleanedUp the read that removes an expired value still returns it", async () => {
    const h = await open({ ttl: 100, visibility: "returnExpiredIfNotCleanedUp" });
    await at(h, 0, { k: "a", op: "set", v: 5 }, { k: "a", op: "add", v: 1 }, { k: "a", op: "put", mk: "x", v: 2 });
    expect(await at(h, 100, { k: "a", op: "get" }, { k: "a", op: "list" }, { k: "a", op: "mget", mk: "x" })).toEqual(["a:get=5", "a:list=[1]", "a:mget=2"]);
    expect(await at(h, 101, { k: "a", op: "get" }, { k: "a", op: "list" }, { k: "a", op: "mget", mk: "x" })).toEqual(["a:get=-1", "a:list=[]", "a:mget=null"]);
  });

  it("expired values are removed from storage by a later snapshot, read or not; live ones stay", async () => {
    const h = await open({ ttl: 100 });
    await at(h, 0, ...["a", "b", "c"].map((k): Cmd => ({ k, op: "set", v: 1 })), { k: "a", op: "add", v: 1 }, { k: "a", op: "put", mk: "x", v: 1 });
    await at(h, 50, { k: "d", op: "set", v: 2 }, { k: "a", op: "add", v: 2 }, { k: "a", op: "put", mk: "y", v: 2 });
    // Value cells a, b, c, d; a's list and a's map.
    expect(await h.storedCells()).toBe(6);
    await h.setProcessingTime(100);
    const snapshot = await h.snapshot();
    // a, b, c expired unread; the list and map lost their oldest element, d is live.
    expect(snapshot.cells).toHaveLength(3);
    await h.setProcessingTime(150);
    expect(await h.storedCells()).toBe(0);
    await h.close();
    // What the snapshot at 100 kept is exactly the live part.
    const r = await open({ ttl: 100 }, { restore: snapshot, processingTime: 120 });
    expect(await r.processElements([{ k: "d", op: "get" }, { k: "a", op: "list" }, { k: "a", op: "entries" }, { k: "b", op: "get" }])).toEqual([
      "d:get=2",
      "a:list=[2]",
      'a:entries=[["y",2]]',
      "b:get=-1",
    ]);
  });

  it("a snapshot restored at another parallelism keeps each value's time: expired stays invisible, live expires on time", async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const h = await open({ ttl: "1s" });
    await at(h, 0, ...keys.slice(0, 6).map((k): Cmd => ({ k, op: "set", v: 1 })), ...keys.map((k): Cmd => ({ k, op: "add", v: 0 })));
    await at(h, 500, ...keys.slice(6).map((k): Cmd => ({ k, op: "set", v: 2 })), ...keys.map((k): Cmd => ({ k, op: "add", v: 5 })));
    const snapshot: HarnessSnapshot = await h.snapshot();
    await h.close();
    const subtaskOf = (k: string) => subtaskForKeyGroup(keyGroupFor(k, DEFAULT_MAX_PARALLELISM), 3, DEFAULT_MAX_PARALLELISM);
    // Restored at parallelism 3 with the clock at 1200: values set at 0 have expired, those set at 500 have not.
    const restored = await Promise.all([0, 1, 2].map((subtask) => open({ ttl: "1s" }, { restore: snapshot, subtask, parallelism: 3, processingTime: 1_200 })));
    const read = async (t: number, op: "get" | "list") => {
      const out: string[] = [];
      for (const [i, r] of restored.entries()) {
        await r.setProcessingTime(t);
        out.push(...(await r.processElements(keys.filter((k) => subtaskOf(k) === i).map((k): Cmd => ({ k, op })))));
      }
      return out.sort();
    };
    expect(await read(1_200, "get")).toEqual(keys.map((k, i) => `${k}:get=${i < 6 ? -1 : 2}`).sort());
    expect(await read(1_200, "list")).toEqual(keys.map((k) => `${k}:list=[5]`).sort());
    expect(await read(1_500, "get")).toEqual(keys.map((k) => `${k}:get=-1`).sort());
    const stored = await Promise.all(restored.map((r) => r.storedCells()));
    expect(stored.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("changing the duration applies to stored values at once (their times are kept)", async () => {
    const h = await open({ ttl: 100 });
    await at(h, 0, { k: "a", op: "set", v: 1 });
    const snapshot = await h.snapshot();
    const longer = await open({ ttl: 1_000 }, { restore: snapshot, processingTime: 500 });
    expect(await longer.processElements([{ k: "a", op: "get" }])).toEqual(["a:get=1"]);
    expect(await at(longer, 1_000, { k: "a", op: "get" })).toEqual(["a:get=-1"]);
  });

  it("a store's cut removes its TTL states' expired stored values, and only those, scanning each state at most once per quarter ttl", async () => {
    const backend = openHeapBackend();
    const clock = { now: 0 };
    const store = new KeyedStateStore({ backend });
    const s = bindStates(store, { fresh: valueState(0), old: valueState(0, { ttl: 100 }) }, { now: () => clock.now });
    const keys = ["a", "b", "c"];
    const groups = keys.map((k) => keyGroupFor(k, DEFAULT_MAX_PARALLELISM));
    await store.prefetch(keys, groups);
    for (const [i, k] of keys.entries()) {
      store.setCurrentKey(k, groups[i]!);
      s.fresh.update(1);
      clock.now = i * 10;
      s.old.update(1);
    }
    const stored = async () => {
      let n = 0;
      for await (const entry of backend.scan({ gte: Buffer.alloc(0), lt: Buffer.alloc(8, 0xff) })) if (entry) n++;
      return n;
    };
    // The first cut scans (at 20): nothing has expired.
    await store.flush();
    expect(store.expiredRemoved).toBe(0);
    // At 110, a's (0) and b's (10) have expired, c's (20) has not; the plain state is untouched.
    clock.now = 110;
    await store.flush();
    expect(store.expiredRemoved).toBe(2);
    expect(await stored()).toBe(4);
    // c expires at 120, but a cut less than a quarter ttl (25) after the last scan does not scan again...
    clock.now = 134;
    await store.flush();
    expect([store.expiredRemoved, await stored()]).toEqual([2, 4]);
    // ...the next one does.
    clock.now = 135;
    await store.flush();
    expect([store.expiredRemoved, await stored()]).toEqual([3, 3]);
  });

  it("a value migrated to a new version keeps its time", async () => {
    const backend = openHeapBackend();
    const clock = { now: 0 };
    const kg = keyGroupFor("a", DEFAULT_MAX_PARALLELISM);
    const before = new KeyedStateStore({ backend });
    const old = bindStates(before, { v: valueState(0, { ttl: 100 }), l: listState<number>({ ttl: 100 }) }, { now: () => clock.now });
    await before.prefetch(["a"], [kg]);
    before.setCurrentKey("a", kg);
    old.v.update(4);
    old.l.add(1);
    await before.flush();
    const after = new KeyedStateStore({ backend, layout: before.layout() });
    const now = bindStates(
      after,
      {
        v: valueState(0, { ttl: 100, version: 2, migrate: (o: number) => o * 10 }),
        l: listState<number>({ ttl: 100, version: 2, migrate: (o: number[]) => [...o, 2] }),
      },
      { now: () => clock.now },
    );
    clock.now = 60;
    expect(await after.migrateRestored({ start: 0, end: DEFAULT_MAX_PARALLELISM - 1 })).toHaveLength(2);
    clock.now = 99;
    await after.prefetch(["a"], [kg]);
    after.setCurrentKey("a", kg);
    expect([now.v.value(), [...now.l.get()]]).toEqual([40, [1, 2]]);
    clock.now = 100;
    expect([now.v.value(), [...now.l.get()]]).toEqual([0, []]);
  });

  it("a migrate function of a list or map state sees values without times; new elements get the newest time", () => {
    expect(migrateWithTimes("list", (old) => (old as number[]).map((x) => x + 1))([[10, 30], [1, 2]], 1)).toEqual([[30, 30], [2, 3]]);
    const grown = migrateWithTimes("map", (old) => new Map([...(old as Map<string, number>), ["z", 9]]));
    expect(
      grown(
        new Map([
          ["x", [10, 1]],
          ["y", [30, 2]],
        ]),
        1,
      ),
    ).toEqual(
      new Map([
        ["x", [10, 1]],
        ["y", [30, 2]],
        ["z", [30, 9]],
      ]),
    );
    expect(migrateWithTimes("value", () => undefined)([10, 1], 1)).toBeUndefined();
  });

  it("refuses a ttl that is not a positive duration, and TTL options without a ttl, naming the value", () => {
    const refusal = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        if (isWeirError(e) && e.code === "BAD_STATE_OPTIONS") return e.message;
        throw e;
      }
      throw new Error("not refused");
    };
    expect(refusal(() => valueState(0, { ttl: 0 }))).toContain("got 0");
    expect(refusal(() => listState({ ttl: -5 }))).toContain("got -5");
    expect(refusal(() => mapState({ ttl: "soon" }))).toContain('got "soon"');
    expect(refusal(() => valueState(0, { ttl: 1.5 }))).toContain("got 1.5");
    expect(refusal(() => valueState(0, { ttl: true as never }))).toContain("got true");
    expect(refusal(() => valueState(0, { updateType: "onReadAndWrite" }))).toContain("give a ttl too");
    expect(refusal(() => valueState(0, { ttl: "1h", visibility: "sometimes" as never }))).toContain('got "sometimes"');
    expect(refusal(() => valueState(0, { ttl: "1h", updateType: "onRead" as never }))).toContain('got "onRead"');
    expect(valueState(0, { ttl: "1h" }).options?.ttl).toBe("1h");
  });
});

/** A model of one key's TTL states: each value/element/entry with the time of its last write. */
interface Model {
  v: { t: number; v: number } | undefined;
  l: { t: number; v: number }[];
  m: Map<string, { t: number; v: number }>;
}

const TTL = 100;

describe("state TTL against a model", () => {
  it("any sequence of writes, reads, clock advances and snapshots/restores reads as the model says", async () => {
    // Each run drives one kind of state, so reads of what was written are frequent.
    const cmds = {
      value: [
        fc.record({ k: fc.constant("a"), op: fc.constant("set" as const), v: fc.integer({ min: 0, max: 9 }) }),
        fc.record({ k: fc.constant("a"), op: fc.constant("get" as const) }),
      ],
      list: [
        fc.record({ k: fc.constant("a"), op: fc.constant("add" as const), v: fc.integer({ min: 0, max: 9 }) }),
        fc.record({ k: fc.constant("a"), op: fc.constant("list" as const) }),
      ],
      map: [
        fc.record({ k: fc.constant("a"), op: fc.constant("put" as const), mk: fc.constantFrom("x", "y"), v: fc.integer({ min: 0, max: 9 }) }),
        fc.record({ k: fc.constant("a"), op: fc.constant("mget" as const), mk: fc.constantFrom("x", "y") }),
        fc.record({ k: fc.constant("a"), op: fc.constant("mget" as const), mk: fc.constantFrom("x", "y") }),
        fc.record({ k: fc.constant("a"), op: fc.constant("entries" as const) }),
      ],
    };
    const steps = fc.constantFrom("value" as const, "list" as const, "map" as const).chain((kind) =>
      fc.array(
        fc.oneof(
          { arbitrary: fc.record({ kind: fc.constant("advance" as const), by: fc.integer({ min: 0, max: 60 }) }), weight: 3 },
          { arbitrary: fc.record({ kind: fc.constant("cmd" as const), cmd: fc.oneof(...cmds[kind]) }), weight: 5 },
          { arbitrary: fc.record({ kind: fc.constant("restore" as const) }), weight: 1 },
        ),
        { maxLength: 40, size: "max" },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), steps, async (onRead, steps) => {
        const options: StateOptions<never> = onRead ? { ttl: TTL, updateType: "onReadAndWrite" } : { ttl: TTL };
        let h = await open(options);
        let now = 0;
        const model: Model = { v: undefined, l: [], m: new Map() };
        const live = (t: number) => t + TTL > now;
        for (const s of steps) {
          if (s.kind === "advance") {
            now += s.by;
            await h.setProcessingTime(now);
            continue;
          }
          if (s.kind === "restore") {
            const snapshot = await h.snapshot();
            await h.close();
            h = await open(options, { restore: snapshot, processingTime: now });
            continue;
          }
          const c = s.cmd as Cmd;
          const got = await h.processElements([c]);
          let expected: unknown;
          switch (c.op) {
            case "set":
              model.v = { t: now, v: c.v };
              break;
            case "get":
              if (model.v !== undefined && !live(model.v.t)) model.v = undefined;
              if (onRead && model.v !== undefined) model.v.t = now;
              expected = model.v?.v ?? -1;
              break;
            case "add":
              model.l.push({ t: now, v: c.v });
              break;
            case "list":
              model.l = model.l.filter((e) => live(e.t));
              if (onRead) for (const e of model.l) e.t = now;
              expected = model.l.map((e) => e.v);
              break;
            case "put": {
              const e = model.m.get(c.mk);
              if (e !== undefined && !live(e.t)) model.m.delete(c.mk);
              model.m.set(c.mk, { t: now, v: c.v });
              break;
            }
            case "mget": {
              const e = model.m.get(c.mk);
              if (e !== undefined && !live(e.t)) model.m.delete(c.mk);
              if (onRead && model.m.has(c.mk)) model.m.get(c.mk)!.t = now;
              expected = model.m.get(c.mk)?.v ?? null;
              break;
            }
            case "entries":
              for (const [k, e] of model.m) if (!live(e.t)) model.m.delete(k);
              if (onRead) for (const e of model.m.values()) e.t = now;
              expected = [...model.m].map(([k, e]) => [k, e.v]);
              break;
          }
          expect(got).toEqual(expected === undefined ? [] : [`a:${c.op}=${JSON.stringify(expected)}`]);
        }
        await h.close();
      }),
      { numRuns: 200 },
    );
  });
});
