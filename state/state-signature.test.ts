/**
 * State signatures and stable state ids: the shape of a value state's default tells `number`
 * from `{ sum }`; a store restored with a layout gives each known state its old id, so adding or
 * removing a state never makes another read its cells.
 */
import { describe, expect, it } from "vitest";
import { valueState } from "./descriptors.ts";
import { bindStates } from "./handles.ts";
import { openHeapBackend } from "./heap-backend.ts";
import { keyGroupFor } from "./key-groups.ts";
import { KeyedStateStore } from "./keyed-store.ts";
import { describeSignature, incompatibility, shapeOf } from "./state-signature.ts";

describe("shapeOf", () => {
  it("describes primitives, containers and objects (keys sorted, nested)", () => {
    expect(shapeOf(0)).toBe("number");
    expect(shapeOf("")).toBe("string");
    expect(shapeOf(null)).toBe("null");
    expect(shapeOf([1])).toBe("array");
    expect(shapeOf(new Map())).toBe("Map");
    expect(shapeOf({ sum: 0 })).toBe("{sum:number}");
    expect(shapeOf({ n: 0, sum: { a: "x" } })).toBe(shapeOf({ sum: { a: "y" }, n: 1 }));
    expect(shapeOf({ n: 0, sum: { a: "x" } })).toBe("{n:number,sum:{a:string}}");
  });

  it("tells changed kinds and shapes apart, and ignores an unknown shape", () => {
    expect(incompatibility({ kind: "value", shape: "number" }, { kind: "value", shape: "{sum:number}" })).toContain("shape changed");
    expect(incompatibility({ kind: "value", shape: "number" }, { kind: "list" })).toContain("kind changed from value to list");
    expect(incompatibility({ kind: "value", shape: "number" }, { kind: "value" })).toBeUndefined();
    expect(incompatibility({ kind: "reduce" }, { kind: "reduce" })).toBeUndefined();
  });
});

describe("a state's ttl", () => {
  it("is recorded in ms and shown with the version", () => {
    expect(describeSignature({ kind: "value", shape: "number", ttl: 3_600_000 })).toBe("value number (ttl 1h)");
    expect(describeSignature({ kind: "map", version: 2, ttl: 90_000 })).toBe("map (version 2, ttl 90s)");
    expect(describeSignature({ kind: "list", ttl: 1_500 })).toBe("list (ttl 1500ms)");
  });

  it("may change its duration, but not be switched on or off (the stored form differs), even with a migrate function", () => {
    expect(incompatibility({ kind: "value", ttl: 60_000 }, { kind: "value", ttl: 3_600_000 })).toBeUndefined();
    expect(incompatibility({ kind: "value" }, { kind: "value", ttl: 60_000 })).toContain("a ttl of 1m was added");
    expect(incompatibility({ kind: "list", ttl: 60_000 }, { kind: "list" })).toContain("its ttl of 1m was removed");
    expect(incompatibility({ kind: "map" }, { kind: "map", version: 2, ttl: 60_000 }, true)).toContain("was added");
  });
});

describe("a store restored with a layout", () => {
  it("keeps each state's id by name, gives new states new ids, and reserves the ids of removed ones", async () => {
    const backend = openHeapBackend();
    const before = new KeyedStateStore({ backend });
    const old = bindStates(before, { total: valueState(0), gone: valueState("") });
    const key = "k";
    const group = keyGroupFor(key, 128);
    await before.prefetch([key], [group]);
    before.setCurrentKey(key, group);
    old.total.update(42);
    old.gone.update("x");
    await before.flush();
    const layout = before.layout();
    expect(layout.map((e) => [e.name, e.id, e.kind, e.shape])).toEqual([
      ["gone", 0, "value", "string"],
      ["total", 1, "value", "number"],
    ]);

    // "count" sorts first: registered in order it would take id 0, gone's cells.
    const after = new KeyedStateStore({ backend, layout });
    const now = bindStates(after, { count: valueState(0), total: valueState(0) });
    await after.prefetch([key], [group]);
    after.setCurrentKey(key, group);
    expect(now.total.value()).toBe(42);
    expect(now.count.value()).toBe(0);
    expect(after.layout().map((e) => [e.name, e.id])).toEqual([
      ["gone", 0],
      ["total", 1],
      ["count", 2],
    ]);
  });
});

describe("versions and migrations", () => {
  it("a higher version reads an older one only through migrate; a lower one never", () => {
    const v1 = { kind: "value", shape: "{sum:number}" } as const;
    const v2 = { kind: "value", shape: "{count:number,total:number}", version: 2 } as const;
    expect(incompatibility(v1, v2)).toBe("version changed from 1 to 2 without a migrate function");
    expect(incompatibility(v1, v2, true)).toBeUndefined();
    expect(incompatibility(v2, v1, true)).toBe("it was written at version 2, newer than this declaration's 1");
    expect(incompatibility(v1, { kind: "list", version: 2 }, true)).toContain("kind changed");
  });

  it("migrateRestored rewrites the older version's values in the key groups given, and names the key when migrate throws", async () => {
    const backend = openHeapBackend();
    const before = new KeyedStateStore({ backend });
    const old = bindStates(before, { acc: valueState({ sum: 0 }) });
    const keys = ["a", "b", "c"];
    const groups = keys.map((k) => keyGroupFor(k, 128));
    await before.prefetch(keys, groups);
    keys.forEach((k, i) => {
      before.setCurrentKey(k, groups[i]!);
      old.acc.update({ sum: i + 10 });
    });
    await before.flush();
    const layout = before.layout();

    const after = new KeyedStateStore({ backend, layout });
    const now = bindStates(after, {
      acc: valueState({ total: 0, n: 0 }, { version: 2, migrate: (o: { sum: number }, from) => ({ total: o.sum, n: from }) }),
    });
    // Only the key groups given (a subtask's): here, "a"'s.
    expect(await after.migrateRestored({ start: groups[0]!, end: groups[0]! })).toEqual([{ state: "acc", from: 1, to: 2, values: keys.filter((_, i) => groups[i] === groups[0]).length }]);
    await after.prefetch(keys, groups);
    after.setCurrentKey("a", groups[0]!);
    expect(now.acc.value()).toEqual({ total: 10, n: 1 });
    expect(after.layout()[0]).toMatchObject({ name: "acc", version: 2 });

    const shared = openHeapBackend();
    const seed = new KeyedStateStore({ backend: shared });
    const s = bindStates(seed, { acc: valueState({ sum: 0 }) });
    await seed.prefetch(["x"], [keyGroupFor("x", 128)]);
    seed.setCurrentKey("x", keyGroupFor("x", 128));
    s.acc.update({ sum: 1 });
    await seed.flush();
    const failing = new KeyedStateStore({ backend: shared, layout: seed.layout(), operator: "sums" });
    bindStates(failing, {
      acc: valueState(
        { total: 0 },
        {
          version: 2,
          migrate: () => {
            throw new Error("no");
          },
        },
      ),
    });
    await expect(failing.migrateRestored({ start: 0, end: 127 })).rejects.toThrow(/operator 'sums', state 'acc': migrate from version 1 to 2 threw for key "x": no/);
  });
});

describe("key types", () => {
  it("a store restored with the key types of its state refuses a key of another type at its first prefetch, naming it", async () => {
    const store = new KeyedStateStore({ backend: openHeapBackend(), keyTypes: ["number"], operator: "sums" });
    bindStates(store, { acc: valueState(0) });
    await store.prefetch([1, 2], [keyGroupFor(1, 128), keyGroupFor(2, 128)]);
    expect(() => store.prefetch([3, "4"], [keyGroupFor(3, 128), keyGroupFor("4", 128)])).toThrow(
      /operator 'sums': its restored state is keyed by number keys, and this job's key "4" is a string/,
    );
    // Again (a batch hinted ahead fails first, then the same batch is prefetched when processed).
    expect(() => store.prefetch(["4"], [keyGroupFor("4", 128)])).toThrow(/STATE_KEY_TYPE_CHANGED|keyed by number keys/);
    expect(store.keyTypes).toEqual(["number"]);
    // Without recorded types (a new store), every type is noted for the next checkpoint.
    const fresh = new KeyedStateStore({ backend: openHeapBackend() });
    bindStates(fresh, { acc: valueState(0) });
    await fresh.prefetch(["a", 1, ["x", 2]], ["a", 1, ["x", 2]].map((k) => keyGroupFor(k as never, 128)));
    expect(fresh.keyTypes).toEqual(["composite", "number", "string"]);
  });
});
