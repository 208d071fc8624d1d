/**
 * Cuts of keyed state (`KeyedStateStore.snapshot`): the copy a cut's follow-up takes holds exactly
 * the state at the cut, although the sealed changes are written in the background, in chunks,
 * while later batches replace values, mutate them in place (lists, maps), clear them, evict the
 * cache (without waiting: dirty victims are written in the background, parked meanwhile), read
 * ahead for batches that come later (or never), and take further cuts; and every read in a batch
 * sees the latest value, over a backend whose reads and writes finish after varying delays.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { listState, mapState, valueState } from "./descriptors.ts";
import { bindStates } from "./handles.ts";
import { KeyedStateStore, type WrittenCut } from "./keyed-store.ts";
import { keyGroupFor, type KeyValue } from "./key-groups.ts";
import type { KvBackend } from "./kv-backend.ts";
import { openHeapBackend } from "./heap-backend.ts";
import { openRocksBackend } from "./rocksdb-backend.ts";

const spec = { count: valueState(0), items: listState<number>(), tags: mapState<string, number>() };

type Op =
  | { kind: "set-count"; value: number }
  | { kind: "clear-count" }
  | { kind: "add-item"; value: number }
  | { kind: "clear-items" }
  | { kind: "put-tag"; tag: string; value: number }
  | { kind: "remove-tag"; tag: string };

interface Model {
  count?: number;
  items?: number[];
  tags?: Map<string, number>;
}

type Step =
  | { kind: "batch"; ops: [KeyValue, Op][] }
  | { kind: "cut" }
  | { kind: "flush" }
  /** Prefetches `keys` ahead, as the engine does for the batch it will process next, without awaiting. */
  | { kind: "ahead"; keys: KeyValue[] }
  /** Lets the background writers run for `ticks` microtask turns. */
  | { kind: "yield"; ticks: number };

const keyArb: fc.Arbitrary<KeyValue> = fc.oneof(fc.constantFrom("a", "b", "c", "d"), fc.integer({ min: 0, max: 5 }), fc.constant<KeyValue>(["a", 1]));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("set-count" as const), value: fc.integer({ min: -9, max: 9 }) }),
  fc.constant({ kind: "clear-count" as const }),
  fc.record({ kind: fc.constant("add-item" as const), value: fc.integer({ min: 0, max: 9 }) }),
  fc.constant({ kind: "clear-items" as const }),
  fc.record({ kind: fc.constant("put-tag" as const), tag: fc.constantFrom("x", "y"), value: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ kind: fc.constant("remove-tag" as const), tag: fc.constantFrom("x", "y") }),
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("batch" as const), ops: fc.array(fc.tuple(keyArb, opArb), { maxLength: 10 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: "cut" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "flush" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("yield" as const), ticks: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("ahead" as const), keys: fc.array(keyArb, { maxLength: 6 }) }) },
);

/** Microtask turns each backend read and write waits before it starts, used in turn. */
interface Delays {
  readonly reads: readonly number[];
  readonly writes: readonly number[];
}

const turnsArb = (max: number) => fc.array(fc.integer({ min: 0, max }), { minLength: 1, maxLength: 8 });
const delaysArb: fc.Arbitrary<Delays> = fc.record({ reads: turnsArb(4), writes: turnsArb(24) });

/** `backend`, with each read and write starting after the next of its `delays` microtask turns. */
const delayed = (backend: KvBackend, delays: Delays): KvBackend => {
  let reads = 0;
  let writes = 0;
  const wait = async (turns: number) => {
    for (let i = 0; i < turns; i++) await Promise.resolve();
  };
  return {
    kind: backend.kind,
    getMany: async (keys) => (await wait(delays.reads[reads++ % delays.reads.length]!), backend.getMany(keys)),
    write: async (ops) => (await wait(delays.writes[writes++ % delays.writes.length]!), backend.write(ops)),
    scan: (range) => backend.scan(range),
    close: () => backend.close(),
  };
};

const idOf = (k: KeyValue) => JSON.stringify(k);
const kg = (k: KeyValue) => keyGroupFor(k, 128);

const apply = (m: Model, op: Op) => {
  switch (op.kind) {
    case "set-count": m.count = op.value; break;
    case "clear-count": delete m.count; break;
    case "add-item": m.items = [...(m.items ?? []), op.value]; break;
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

/** What a fresh store over a backend holding `cells` reads for each of `keys`. */
const readBack = async (cells: readonly (readonly [Buffer, Buffer])[], keys: readonly KeyValue[]): Promise<Map<string, Model>> => {
  const backend = openHeapBackend();
  await backend.write(cells.map(([key, value]) => ({ kind: "put" as const, key, value })));
  const store = new KeyedStateStore({ backend });
  const s = bindStates(store, spec);
  await store.prefetch(keys, keys.map(kg));
  const out = new Map<string, Model>();
  for (const key of keys) {
    store.setCurrentKey(key, kg(key));
    const m: Model = {};
    if (s.count.value() !== 0) m.count = s.count.value();
    if (s.items.get().length > 0) m.items = [...s.items.get()];
    if (s.tags.size > 0) m.tags = new Map(s.tags.entries());
    out.set(idOf(key), m);
  }
  await backend.close();
  return out;
};

const copyAll = async (backend: KvBackend): Promise<(readonly [Buffer, Buffer])[]> => {
  const cells: (readonly [Buffer, Buffer])[] = [];
  for await (const [k, v] of backend.scan({ gte: Buffer.alloc(0), lt: Buffer.from([0xff, 0xff, 0xff]) })) cells.push([Buffer.from(k), Buffer.from(v)]);
  return cells;
};

const normalise = (m: Model): Model => {
  const out: Model = {};
  if (m.count !== undefined && m.count !== 0) out.count = m.count;
  if (m.items !== undefined) out.items = [...m.items];
  if (m.tags !== undefined) out.tags = new Map(m.tags);
  return out;
};

const run = async (backend: KvBackend, steps: readonly Step[], maxCachedCells: number, writeChunk: number, delays: Delays = { reads: [0], writes: [0] }, readChunk = 1_024) => {
  const store = new KeyedStateStore({ backend: delayed(backend, delays), maxCachedCells, writeChunk, readChunk });
  const s = bindStates(store, spec);
  const model = new Map<string, Model>();
  const keys = new Map<string, KeyValue>();
  const cuts: { expected: Map<string, Model>; cut: Promise<WrittenCut<(readonly [Buffer, Buffer])[]>> }[] = [];
  for (const step of steps) {
    switch (step.kind) {
      case "cut": {
        const expected = new Map([...model].map(([id, m]) => [id, normalise(m)] as const));
        const cut = store.snapshot(() => copyAll(backend));
        cut.catch(() => undefined);
        cuts.push({ expected, cut });
        break;
      }
      case "flush":
        await store.flush();
        break;
      case "yield":
        for (let i = 0; i < step.ticks; i++) await Promise.resolve();
        break;
      case "ahead":
        store.prefetch(step.keys, step.keys.map(kg))?.catch(() => undefined);
        break;
      case "batch": {
        const batchKeys = step.ops.map(([k]) => k);
        const pending = store.prefetch(batchKeys, batchKeys.map(kg));
        if (pending !== undefined) await pending;
        for (const [key, op] of step.ops) {
          keys.set(idOf(key), key);
          store.setCurrentKey(key, kg(key));
          const m = model.get(idOf(key)) ?? {};
          apply(m, op);
          model.set(idOf(key), m);
          switch (op.kind) {
            case "set-count": s.count.update(op.value); break;
            case "clear-count": s.count.clear(); break;
            case "add-item": s.items.add(op.value); break;
            case "clear-items": s.items.clear(); break;
            case "put-tag": s.tags.put(op.tag, op.value); break;
            case "remove-tag": s.tags.remove(op.tag); break;
          }
          // Every read sees the latest value (never one read before a write, evicted or not).
          const want = normalise(m);
          expect(s.count.value()).toBe(want.count ?? 0);
          expect([...s.items.get()]).toEqual(want.items ?? []);
          expect(new Map(s.tags.entries())).toEqual(want.tags ?? new Map());
        }
        break;
      }
    }
  }
  const all = [...keys.values()];
  for (const { expected, cut } of cuts) {
    const { result, stats } = await cut;
    const got = await readBack(result, all);
    for (const key of all) expect(got.get(idOf(key))).toEqual(expected.get(idOf(key)) ?? {});
    expect(stats.captured).toBeLessThanOrEqual(stats.cells);
  }
  // And the live state after a last flush.
  await store.flush();
  expect(store.dirtyCount).toBe(0);
  const final = await readBack(await copyAll(backend), all);
  for (const key of all) expect(final.get(idOf(key))).toEqual(normalise(model.get(idOf(key)) ?? {}));
};

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("cuts of keyed state", () => {
  it("property: each cut's copy holds exactly the state at the cut, whatever happens while it is written (heap)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 30 }), fc.constantFrom(3, 8, 1_000), fc.constantFrom(1, 2, 1_000), delaysArb, fc.constantFrom(1, 2, 1_024), async (steps, maxCachedCells, writeChunk, delays, readChunk) => {
        const backend = openHeapBackend();
        try {
          await run(backend, steps, maxCachedCells, writeChunk, delays, readChunk);
        } finally {
          await backend.close();
        }
      }),
      { numRuns: 800 },
    );
  });

  it("property: the same over RocksDB", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 20 }), fc.constantFrom(3, 1_000), fc.constantFrom(1, 1_000), delaysArb, async (steps, maxCachedCells, writeChunk, delays) => {
        const dir = await mkdtemp(join(tmpdir(), "weir-cuts-"));
        dirs.push(dir);
        const backend = await openRocksBackend({ path: dir });
        try {
          await run(backend, steps, maxCachedCells, writeChunk, delays);
        } finally {
          await backend.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it("evicts without waiting for writes: a victim whose write is still queued reads back its latest value", async () => {
    const backend = openHeapBackend();
    // Writes wait for `release`; reads go straight through.
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: KvBackend = { kind: "heap", getMany: (k) => backend.getMany(k), scan: (r) => backend.scan(r), close: () => backend.close(), write: async (ops) => (await gate, backend.write(ops)) };
    const store = new KeyedStateStore({ backend: slow, maxCachedCells: 12 });
    const s = bindStates(store, spec);
    const batch = async (keys: KeyValue[], each: (k: KeyValue) => void) => {
      await store.prefetch(keys, keys.map(kg));
      for (const k of keys) {
        store.setCurrentKey(k, kg(k));
        each(k);
      }
    };
    await batch(["a"], () => s.count.update(1));
    // A cut is being written (its writer has encoded a's cell, which is clean now, but not written).
    const cut = store.snapshot(() => Promise.resolve());
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await batch(["b"], () => s.count.update(2)); // dirty, not in any cut
    await batch(["c", "d"], () => undefined);
    await batch(["f"], () => undefined); // the cache holds 15 cells now (3 states a key)
    // The next prefetch evicts the oldest cells down to 7/8 of 12, a's and b's (6 cells: 2 a
    // state), and parks them; the one after finds them there.
    await batch(["e"], () => undefined);
    expect(store.counters.evictions).toBe(6);
    let counts: Record<string, number> = {};
    await batch(["a", "b"], (k) => (counts[String(k)] = s.count.value()));
    expect(counts).toEqual({ a: 1, b: 2 });
    release();
    await cut;
    await store.flush();
    // Once written, evicted cells are read from the backend.
    await batch(["c", "d", "e", "f", "g"], () => undefined);
    await batch(["h"], () => undefined);
    counts = {};
    await batch(["a", "b"], (k) => (counts[String(k)] = s.count.value()));
    expect(counts).toEqual({ a: 1, b: 2 });
    expect(store.counters.misses).toBeGreaterThan(6);
    await backend.close();
  });

  it("without cuts, eviction keeps the list of changed cells bounded by the cache, and loses nothing", async () => {
    const backend = openHeapBackend();
    const store = new KeyedStateStore({ backend, maxCachedCells: 30 });
    const s = bindStates(store, spec);
    for (let b = 0; b < 100; b++) {
      const keys = Array.from({ length: 10 }, (_, i) => b * 10 + i);
      await store.prefetch(keys, keys.map(kg));
      for (const k of keys) {
        store.setCurrentKey(k, kg(k));
        s.count.update(k + 1);
      }
    }
    expect(store.counters.evictions).toBeGreaterThan(2_900);
    expect(store.dirtyCount).toBeLessThanOrEqual(60);
    await store.flush();
    const all = Array.from({ length: 1_000 }, (_, k) => k);
    const got = await readBack(await copyAll(backend), all);
    for (const k of all) expect(got.get(idOf(k))).toEqual({ count: k + 1 });
    await backend.close();
  });

  it("seals without encoding: cells are encoded when touched or by the writer, each once", async () => {
    const backend = openHeapBackend();
    let written = 0;
    const counting: KvBackend = { kind: "heap", getMany: (k) => backend.getMany(k), scan: (r) => backend.scan(r), close: () => backend.close(), write: (ops) => ((written += ops.length), backend.write(ops)) };
    const store = new KeyedStateStore({ backend: counting, writeChunk: 10 });
    const s = bindStates(store, spec);
    const keys = Array.from({ length: 100 }, (_, i) => i);
    await store.prefetch(keys, keys.map(kg));
    for (const k of keys) {
      store.setCurrentKey(k, kg(k));
      s.count.update(k + 1);
    }
    const cut = store.snapshot(() => copyAll(backend));
    expect(store.dirtyCount).toBe(0);
    // Touch 30 sealed cells before the writer runs: their values at the cut are encoded then.
    for (const k of keys.slice(0, 30)) {
      store.setCurrentKey(k, kg(k));
      s.count.update(-1);
    }
    expect(store.dirtyCount).toBe(30);
    const { result, stats } = await cut;
    expect(stats).toMatchObject({ cells: 100, captured: 30 });
    expect(stats.writes).toBeGreaterThanOrEqual(10);
    expect(written).toBe(100);
    const got = await readBack(result, keys);
    for (const k of keys) expect(got.get(idOf(k))).toEqual({ count: k + 1 });
    await backend.close();
  });

  it("a failed write fails that cut and every later one, and the store refuses new cuts", async () => {
    const backend = openHeapBackend();
    let fail = true;
    const failing: KvBackend = { kind: "heap", getMany: (k) => backend.getMany(k), scan: (r) => backend.scan(r), close: () => backend.close(), write: (ops) => (fail ? Promise.reject(new Error("disk on fire")) : backend.write(ops)) };
    const store = new KeyedStateStore({ backend: failing });
    const s = bindStates(store, spec);
    await store.prefetch(["a"], [kg("a")]);
    store.setCurrentKey("a", kg("a"));
    s.count.update(1);
    const first = store.snapshot(() => Promise.resolve("copied"));
    s.count.update(2);
    const second = store.snapshot(() => Promise.resolve("copied"));
    await expect(first).rejects.toThrow("disk on fire");
    fail = false;
    await expect(second).rejects.toThrow("disk on fire");
    expect(() => store.snapshot(() => Promise.resolve("copied"))).toThrow("disk on fire");
    await expect(store.flush()).rejects.toThrow("disk on fire");
    await backend.close();
  });

  it("a failed follow-up fails only its own cut", async () => {
    const backend = openHeapBackend();
    const store = new KeyedStateStore({ backend });
    const s = bindStates(store, spec);
    await store.prefetch(["a"], [kg("a")]);
    store.setCurrentKey("a", kg("a"));
    s.count.update(1);
    const first = store.snapshot(() => Promise.reject(new Error("copy failed")));
    s.count.update(2);
    const second = store.snapshot(() => copyAll(backend));
    await expect(first).rejects.toThrow("copy failed");
    const got = await readBack((await second).result, ["a"]);
    expect(got.get(idOf("a"))).toEqual({ count: 2 });
    await backend.close();
  });
});
