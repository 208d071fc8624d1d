/**
 * The KvBackend contract (state/kv-backend.ts) as a vitest suite, run against every backend:
 *
 *   kvBackendContract("heap", async () => openHeapBackend());
 *   kvBackendContract("rocksdb", () => openRocks(), { reopen: (kv) => reopenRocks(kv) });
 *
 * Example tests pin the edges (order, missing keys, later-op-wins, bounds, aliasing, close); a
 * fast-check model test runs random command sequences against a `Map` model. `reopen`, when given,
 * closes a backend and opens the same store again; the model test then checks that every
 * acknowledged write survives it. Every backend the suite opens is closed after each test.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { WeirError } from "../../common/errors.ts";
import type { KvBackend, KvOp, KvRange } from "../../state/kv-backend.ts";

export interface KvContractOptions {
  /** Closes `kv` and opens the same store again (persistent backends only). */
  readonly reopen?: (kv: KvBackend) => Promise<KvBackend>;
  /** fast-check runs of the model test (default 300). */
  readonly modelRuns?: number;
}

const b = (...bytes: number[]) => Buffer.from(bytes);
const s = (text: string) => Buffer.from(text, "latin1");
const put = (key: Buffer, value: Buffer): KvOp => ({ kind: "put", key, value });
const del = (key: Buffer): KvOp => ({ kind: "delete", key });
const ALL: KvRange = { gte: Buffer.alloc(0), lt: b(0xff, 0xff, 0xff, 0xff) };

async function collect(kv: KvBackend, range: KvRange): Promise<[Buffer, Buffer][]> {
  const out: [Buffer, Buffer][] = [];
  for await (const [k, v] of kv.scan(range)) out.push([k, v]);
  return out;
}

const hex = (entries: readonly (readonly [Buffer, Buffer])[]) => entries.map(([k, v]) => [k.toString("hex"), v.toString("hex")]);

async function expectClosed(p: Promise<unknown>): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WeirError);
  expect(e).toMatchObject({ code: "STATE_BACKEND_CLOSED", domain: "internal" });
}

/** Rejects if `p` has not settled within `ms`: a close() that never resolves fails the test. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function kvBackendContract(name: string, open: () => Promise<KvBackend>, options: KvContractOptions = {}): void {
  describe(`KvBackend contract: ${name}`, () => {
    const opened: KvBackend[] = [];
    const fresh = async () => {
      const kv = await open();
      opened.push(kv);
      return kv;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((kv) => within(kv.close(), 10_000, "close")));
    });

    it("getMany returns one entry per key, in order, undefined where absent", async () => {
      const kv = await fresh();
      await kv.write([put(s("a"), s("1")), put(s("c"), s("3")), put(b(0), Buffer.alloc(0))]);
      const got = await kv.getMany([s("c"), s("b"), s("a"), s("c"), b(0), b(0, 0)]);
      expect(got.map((v) => v?.toString("latin1"))).toEqual(["3", undefined, "1", "3", "", undefined]);
      expect(await kv.getMany([])).toEqual([]);
    });

    it("write applies ops in array order: a later op on the same key wins", async () => {
      const kv = await fresh();
      await kv.write([put(s("k1"), s("old")), put(s("k2"), s("old")), put(s("k3"), s("old"))]);
      await kv.write([
        put(s("k1"), s("x")), del(s("k1")), // delete after put: absent
        del(s("k2")), put(s("k2"), s("y")), // put after delete: present
        put(s("k3"), s("a")), put(s("k3"), s("b")), // last put wins
        del(s("nope")),
      ]);
      const got = await kv.getMany([s("k1"), s("k2"), s("k3"), s("nope")]);
      expect(got.map((v) => v?.toString())).toEqual([undefined, "y", "b", undefined]);
      await kv.write([]);
      expect((await kv.getMany([s("k3")]))[0]?.toString()).toBe("b");
    });

    it("scan yields gte <= key < lt in ascending byte order", async () => {
      const kv = await fresh();
      // Byte order, not signed or UTF-16 order: 0x7f < 0x80 < 0xff, and a prefix sorts first.
      const keys = [b(0xff), b(0x80), b(0x7f), b(0), b(0, 0), s("a"), s("a\0"), s("ab"), s("b")];
      await kv.write(keys.map((k, i) => put(k, b(i))));
      const all = await collect(kv, ALL);
      expect(all.map(([k]) => k.toString("hex"))).toEqual(["00", "0000", "61", "6100", "6162", "62", "7f", "80", "ff"]);
      expect(hex(await collect(kv, { gte: s("a"), lt: s("b") }))).toEqual([["61", "05"], ["6100", "06"], ["6162", "07"]]);
      expect((await collect(kv, { gte: s("a\0"), lt: b(0x80) })).map(([k]) => k.toString("hex"))).toEqual(["6100", "6162", "62", "7f"]);
      expect((await collect(kv, { gte: Buffer.alloc(0), lt: b(0, 0) })).map(([k]) => k.toString("hex"))).toEqual(["00"]);
    });

    it("scan of an empty range yields nothing", async () => {
      const kv = await fresh();
      await kv.write([put(s("a"), s("1")), put(s("b"), s("2"))]);
      expect(await collect(kv, { gte: s("a"), lt: s("a") })).toEqual([]); // gte == lt
      expect(await collect(kv, { gte: s("b"), lt: s("a") })).toEqual([]); // gte > lt
      expect(await collect(kv, { gte: Buffer.alloc(0), lt: Buffer.alloc(0) })).toEqual([]); // nothing is < ""
      expect(await collect(kv, { gte: s("a0"), lt: s("a1") })).toEqual([]); // no key inside
      expect(await collect(await fresh(), ALL)).toEqual([]); // empty store
    });

    it("a scan the caller stops early releases its resources", async () => {
      const kv = await fresh();
      await kv.write(Array.from({ length: 2000 }, (_, i) => put(s(`k${String(i).padStart(5, "0")}`), s("v"))));
      let n = 0;
      for await (const _ of kv.scan(ALL)) if (++n === 3) break;
      expect(n).toBe(3);
      await within(kv.close(), 5_000, "close after an early break");
    });

    it("buffers passed to write are copied: mutating them later changes nothing", async () => {
      const kv = await fresh();
      const key = s("key");
      const value = s("value");
      const pending = kv.write([put(key, value)]);
      key.fill(0x7a); // mutate before the write resolves
      value.fill(0x7a);
      await pending;
      key.write("yyy", "latin1");
      expect((await kv.getMany([s("key")]))[0]?.toString()).toBe("value");
      expect(await kv.getMany([s("zzz"), s("yyy")])).toEqual([undefined, undefined]);
    });

    it("handed-over buffers (views of one allocation, as callers make them) are read and stored as given", async () => {
      const kv = await fresh();
      const all = Buffer.from("k1v1k2v2k3");
      const [k1, v1, k2, v2, k3] = [0, 2, 4, 6, 8].map((at) => all.subarray(at, at + 2)) as [Buffer, Buffer, Buffer, Buffer, Buffer];
      await kv.write([put(k1, v1), put(k2, v2), put(k2, v1)], { handOver: true });
      expect((await kv.getMany([k1, k3, k2], { handOver: true })).map((v) => v?.toString())).toEqual(["v1", undefined, "v1"]);
    });

    it("returned buffers belong to the caller: mutating them changes nothing stored", async () => {
      const kv = await fresh();
      await kv.write([put(s("k"), s("value"))]);
      const [v] = await kv.getMany([s("k")]);
      v?.fill(0);
      for await (const [k, val] of kv.scan(ALL)) {
        k.fill(0x30);
        val.fill(0x30);
      }
      expect((await kv.getMany([s("k")]))[0]?.toString()).toBe("value");
      expect(hex(await collect(kv, ALL))).toEqual([["6b", s("value").toString("hex")]]);
    });

    it("after close, every method rejects with STATE_BACKEND_CLOSED", async () => {
      const kv = await fresh();
      await kv.write([put(s("k"), s("v"))]);
      await kv.close();
      await expectClosed(kv.getMany([s("k")]));
      await expectClosed(kv.getMany([]));
      await expectClosed(kv.write([put(s("k"), s("w"))]));
      await expectClosed(kv.write([]));
      await expectClosed(collect(kv, ALL));
      await expectClosed(collect(kv, { gte: s("b"), lt: s("a") }));
    });

    it("close is idempotent, also when called concurrently", async () => {
      const kv = await fresh();
      await kv.write([put(s("k"), s("v"))]);
      await within(Promise.all([kv.close(), kv.close()]), 5_000, "concurrent close");
      await within(kv.close(), 5_000, "repeated close");
    });

    it("close resolves while a scan is half consumed; the scan's next step rejects", async () => {
      const kv = await fresh();
      await kv.write(Array.from({ length: 3000 }, (_, i) => put(s(`k${String(i).padStart(5, "0")}`), s("v"))));
      const it = kv.scan(ALL)[Symbol.asyncIterator]();
      expect((await it.next()).done).toBe(false);
      await within(kv.close(), 5_000, "close with an open scan");
      // Drain: whatever was already buffered may still come, but the scan must not end as if complete.
      const drain = async () => {
        for (let r = await it.next(); !r.done; r = await it.next());
      };
      await expectClosed(drain());
    });

    it("writes in flight when close is called complete or reject cleanly", async () => {
      const kv = await fresh();
      const writes = Array.from({ length: 20 }, (_, i) => kv.write([put(s(`k${i}`), s("v"))]));
      const closing = kv.close();
      const results = await Promise.allSettled(writes);
      await within(closing, 5_000, "close with writes in flight");
      for (const r of results) {
        if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "STATE_BACKEND_CLOSED" });
      }
    });

    modelTest(fresh, options);
  });
}

type Command =
  | { readonly kind: "write"; readonly ops: readonly { readonly del: boolean; readonly key: number; readonly value: Uint8Array }[] }
  | { readonly kind: "get"; readonly keys: readonly number[]; readonly absent: Uint8Array }
  | { readonly kind: "scan"; readonly gte: number | Uint8Array; readonly lt: number | Uint8Array }
  | { readonly kind: "reopen" };

function modelTest(fresh: () => Promise<KvBackend>, options: KvContractOptions): void {
  const title = options.reopen ? "matches a Map model over random writes, gets, scans and reopens" : "matches a Map model over random writes, gets and scans";
  it(title, async () => {
    const bytes = fc.uint8Array({ minLength: 0, maxLength: 3 });
    // Keys of the run: a few short byte strings, so commands keep hitting the same keys.
    const pool = fc.uniqueArray(bytes, { minLength: 1, maxLength: 6, selector: (k) => Buffer.from(k).toString("hex") });
    const command = (n: number): fc.Arbitrary<Command> => {
      const key = fc.nat({ max: n - 1 });
      const bound = fc.oneof(key, bytes);
      const commands: fc.Arbitrary<Command>[] = [
        fc.record({
          kind: fc.constant("write" as const),
          ops: fc.array(fc.record({ del: fc.boolean(), key, value: fc.uint8Array({ maxLength: 4 }) }), { maxLength: 6 }),
        }),
        fc.record({ kind: fc.constant("get" as const), keys: fc.array(key, { maxLength: 6 }), absent: bytes }),
        fc.record({ kind: fc.constant("scan" as const), gte: bound, lt: bound }),
      ];
      if (options.reopen) commands.push(fc.constant({ kind: "reopen" as const }));
      return fc.oneof(...commands);
    };
    const scenario = pool.chain((keys) => fc.tuple(fc.constant(keys.map((k) => Buffer.from(k))), fc.array(command(keys.length), { maxLength: 25 })));

    await fc.assert(
      fc.asyncProperty(scenario, async ([keys, commands]) => {
        let kv = await fresh();
        const model = new Map<string, Buffer>();
        const keyOf = (i: number) => keys[i] as Buffer;
        const boundOf = (x: number | Uint8Array) => (typeof x === "number" ? keyOf(x) : Buffer.from(x));
        try {
          for (const c of commands) {
            if (c.kind === "write") {
              const ops = c.ops.map((o) => (o.del ? del(keyOf(o.key)) : put(keyOf(o.key), Buffer.from(o.value))));
              await kv.write(ops);
              for (const op of ops) {
                if (op.kind === "put") model.set(op.key.toString("hex"), Buffer.from(op.value));
                else model.delete(op.key.toString("hex"));
              }
            } else if (c.kind === "get") {
              const asked = [...c.keys.map(keyOf), Buffer.from(c.absent)];
              const got = await kv.getMany(asked);
              expect(got.map((v) => v?.toString("hex"))).toEqual(asked.map((k) => model.get(k.toString("hex"))?.toString("hex")));
            } else if (c.kind === "scan") {
              const range = { gte: boundOf(c.gte), lt: boundOf(c.lt) };
              const expected = [...model.entries()]
                .map(([k, v]) => [Buffer.from(k, "hex"), v] as const)
                .filter(([k]) => Buffer.compare(k, range.gte) >= 0 && Buffer.compare(k, range.lt) < 0)
                .sort(([x], [y]) => Buffer.compare(x, y));
              expect(hex(await collect(kv, range))).toEqual(hex(expected));
            } else if (options.reopen) {
              kv = await options.reopen(kv);
            }
          }
          expect(hex(await collect(kv, ALL))).toEqual(hex([...model.entries()].map(([k, v]) => [Buffer.from(k, "hex"), v] as const).sort(([x], [y]) => Buffer.compare(x, y))));
        } finally {
          await kv.close();
        }
      }),
      { numRuns: options.modelRuns ?? 300 },
    );
  });
}
