/**
 * Model-based test of keyed state (store + cache + handles) over both backends: any sequence of
 * value/list/map operations, batch boundaries, flushes, cache evictions and re-opening the store
 * over the same backend reads exactly what a plain Map model says.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { listState, mapState, valueState } from "./descriptors.ts";
import { bindStates } from "./handles.ts";
import { KeyedStateStore } from "./keyed-store.ts";
import { keyGroupFor, type KeyValue } from "./key-groups.ts";
import type { KvBackend } from "./kv-backend.ts";
import { openHeapBackend } from "./heap-backend.ts";
import { openRocksBackend } from "./rocksdb-backend.ts";

const spec = { count: valueState(0), note: valueState<{ text: string }>(), items: listState<number>(), tags: mapState<string, number>() };

type Op =
  | { kind: "set-count"; value: number }
  | { kind: "clear-count" }
  | { kind: "set-note"; text: string }
  | { kind: "clear-note" }
  | { kind: "add-item"; value: number }
  | { kind: "update-items"; values: number[] }
  | { kind: "clear-items" }
  | { kind: "put-tag"; tag: string; value: number }
  | { kind: "remove-tag"; tag: string };

interface Model {
  count?: number;
  note?: { text: string };
  items?: number[];
  tags?: Map<string, number>;
}

const keyArb: fc.Arbitrary<KeyValue> = fc.oneof(
  fc.constantFrom("a", "b", "c", "ключ", ""),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom<KeyValue>(["a", 1], ["a", 2], [1, "a"]),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("set-count" as const), value: fc.integer() }),
  fc.constant({ kind: "clear-count" as const }),
  fc.record({ kind: fc.constant("set-note" as const), text: fc.string({ maxLength: 5 }) }),
  fc.constant({ kind: "clear-note" as const }),
  fc.record({ kind: fc.constant("add-item" as const), value: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ kind: fc.constant("update-items" as const), values: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }) }),
  fc.constant({ kind: "clear-items" as const }),
  fc.record({ kind: fc.constant("put-tag" as const), tag: fc.constantFrom("x", "y", "z"), value: fc.integer() }),
  fc.record({ kind: fc.constant("remove-tag" as const), tag: fc.constantFrom("x", "y", "z") }),
);

type Step = { kind: "batch"; ops: [KeyValue, Op][] } | { kind: "flush" } | { kind: "reopen" };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("batch" as const), ops: fc.array(fc.tuple(keyArb, opArb), { maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "flush" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
);

const idOf = (k: KeyValue) => JSON.stringify(k);

const apply = (m: Model, op: Op) => {
  switch (op.kind) {
    case "set-count": m.count = op.value; break;
    case "clear-count": delete m.count; break;
    case "set-note": m.note = { text: op.text }; break;
    case "clear-note": delete m.note; break;
    case "add-item": m.items = [...(m.items ?? []), op.value]; break;
    case "update-items": if (op.values.length === 0) delete m.items; else m.items = [...op.values]; break;
    case "clear-items": delete m.items; break;
    case "put-tag": m.tags = new Map(m.tags ?? []).set(op.tag, op.value); break;
    case "remove-tag": {
      const t = new Map(m.tags ?? []);
      t.delete(op.tag);
      if (t.size === 0) delete m.tags; else m.tags = t;
      break;
    }
  }
};

const runModel = async (backend: KvBackend, steps: Step[], maxCachedCells: number) => {
  const open = () => {
    const store = new KeyedStateStore({ backend, maxCachedCells });
    return { store, s: bindStates(store, spec) };
  };
  let { store, s } = open();
  const model = new Map<string, Model>();
  for (const step of steps) {
    if (step.kind === "flush") {
      await store.flush();
      expect(store.dirtyCount).toBe(0);
      continue;
    }
    if (step.kind === "reopen") {
      await store.flush();
      ({ store, s } = open());
      continue;
    }
    const keys = step.ops.map(([k]) => k);
    await store.prefetch(keys, keys.map((k) => keyGroupFor(k, 128)));
    for (const [key, op] of step.ops) {
      store.setCurrentKey(key, keyGroupFor(key, 128));
      const m = model.get(idOf(key)) ?? {};
      apply(m, op);
      model.set(idOf(key), m);
      switch (op.kind) {
        case "set-count": s.count.update(op.value); break;
        case "clear-count": s.count.clear(); break;
        case "set-note": s.note.update({ text: op.text }); break;
        case "clear-note": s.note.clear(); break;
        case "add-item": s.items.add(op.value); break;
        case "update-items": s.items.update(op.values); break;
        case "clear-items": s.items.clear(); break;
        case "put-tag": s.tags.put(op.tag, op.value); break;
        case "remove-tag": s.tags.remove(op.tag); break;
      }
      expect(s.count.value()).toBe(m.count ?? 0);
      expect(s.note.value()).toEqual(m.note);
      expect([...s.items.get()]).toEqual(m.items ?? []);
      expect(new Map(s.tags.entries())).toEqual(m.tags ?? new Map());
      expect(s.tags.size).toBe(m.tags?.size ?? 0);
    }
  }
  // Finally every key the model knows reads back the same after a flush and a fresh store.
  await store.flush();
  ({ store, s } = open());
  const all = [...model.keys()].map((id) => JSON.parse(id) as KeyValue);
  await store.prefetch(all, all.map((k) => keyGroupFor(k, 128)));
  for (const key of all) {
    store.setCurrentKey(key, keyGroupFor(key, 128));
    const m = model.get(idOf(key))!;
    expect(s.count.value()).toBe(m.count ?? 0);
    expect(s.note.value()).toEqual(m.note);
    expect([...s.items.get()]).toEqual(m.items ?? []);
    expect(new Map(s.tags.entries())).toEqual(m.tags ?? new Map());
  }
};

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const backends: [string, () => Promise<KvBackend>][] = [
  ["heap", async () => openHeapBackend()],
  [
    "rocksdb",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "weir-keyed-"));
      dirs.push(dir);
      return openRocksBackend({ path: dir });
    },
  ],
];

describe.each(backends)("keyed state over the %s backend", (_name, openBackend) => {
  it("matches a Map model under any sequence of operations, flushes, evictions and reopenings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 25 }), fc.constantFrom(2, 8, 1_000), async (steps, maxCachedCells) => {
        const backend = await openBackend();
        try {
          await runModel(backend, steps, maxCachedCells);
        } finally {
          await backend.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it("keeps writes in the cache until flush (write-behind), then writes them in one batch", async () => {
    const backend = await openBackend();
    let writes = 0;
    const counting: KvBackend = { ...backend, kind: backend.kind, getMany: (k) => backend.getMany(k), scan: (r) => backend.scan(r), close: () => backend.close(), write: (ops) => (writes++, backend.write(ops)) };
    const store = new KeyedStateStore({ backend: counting });
    const s = bindStates(store, spec);
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    await store.prefetch(keys, keys.map((k) => keyGroupFor(k, 128)));
    for (const k of keys) {
      store.setCurrentKey(k, keyGroupFor(k, 128));
      s.count.update(1);
    }
    expect(writes).toBe(0);
    expect(store.dirtyCount).toBe(100);
    await store.flush();
    expect(writes).toBe(1);
    expect(store.dirtyCount).toBe(0);
    await backend.close();
  });

  it("reads a batch's missing keys in one backend call, and none when all are cached", async () => {
    const backend = await openBackend();
    let reads = 0;
    const counting: KvBackend = { kind: backend.kind, write: (o) => backend.write(o), scan: (r) => backend.scan(r), close: () => backend.close(), getMany: (k) => (reads++, backend.getMany(k)) };
    const store = new KeyedStateStore({ backend: counting });
    bindStates(store, spec);
    const keys = ["a", "b", "a", "c", "b"];
    await store.prefetch(keys, keys.map((k) => keyGroupFor(k, 128)));
    expect(reads).toBe(1);
    expect(store.prefetch(keys, keys.map((k) => keyGroupFor(k, 128)))).toBeUndefined();
    expect(reads).toBe(1);
    await backend.close();
  });

  it("refuses to read a key whose batch was not prefetched", async () => {
    const backend = await openBackend();
    const store = new KeyedStateStore({ backend });
    const s = bindStates(store, spec);
    store.setCurrentKey("never", keyGroupFor("never", 128));
    expect(() => s.count.value()).toThrow(/before the key's batch was prefetched/);
    await backend.close();
  });
});
