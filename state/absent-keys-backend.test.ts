import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { NeverWrittenSkipping, skipNeverWritten } from "./absent-keys-backend.ts";
import { openHeapBackend } from "./heap-backend.ts";
import type { KvBackend, KvOp } from "./kv-backend.ts";
import { WrittenKeys } from "./written-keys.ts";

/** A heap backend that counts the keys it is asked to read. */
const counting = () => {
  const inner = openHeapBackend();
  const asked: string[] = [];
  const backend: KvBackend = {
    kind: inner.kind,
    getMany: (keys, options) => {
      asked.push(...keys.map((k) => k.toString("hex")));
      return inner.getMany(keys, options);
    },
    write: (ops, options) => inner.write(ops, options),
    scan: (range) => inner.scan(range),
    close: () => inner.close(),
  };
  return { backend, asked };
};

const key = (n: number) => Buffer.from(`k${n}`);

describe("skipping reads of never-written keys", () => {
  test("a key never written is answered absent without a read; a written one is read", async () => {
    const { backend, asked } = counting();
    const kv = await skipNeverWritten(backend);
    expect(kv).toBeInstanceOf(NeverWrittenSkipping);
    expect(await kv.getMany([key(1), key(2)])).toEqual([undefined, undefined]);
    expect(asked).toEqual([]);
    await kv.write([{ kind: "put", key: key(2), value: Buffer.from("v2") }]);
    expect((await kv.getMany([key(1), key(2), key(3)])).map((v) => v?.toString())).toEqual([undefined, "v2", undefined]);
    expect(asked).toEqual([key(2).toString("hex")]);
    await kv.write([{ kind: "delete", key: key(2) }]);
    expect(await kv.getMany([key(2)])).toEqual([undefined]);
  });

  test("a store that is not empty (a restore, leftovers) is used as it is: its keys did not come through the wrapper", async () => {
    const inner = openHeapBackend();
    await inner.write([{ kind: "put", key: key(7), value: Buffer.from("old") }]);
    const kv = await skipNeverWritten(inner);
    expect(kv).toBe(inner);
    expect((await kv.getMany([key(7)]))[0]?.toString()).toBe("old");
  });

  test("answers what the store under it answers, for any sequence of writes and reads", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant("put" as const), k: fc.integer({ min: 0, max: 30 }), v: fc.string() }),
            fc.record({ kind: fc.constant("delete" as const), k: fc.integer({ min: 0, max: 30 }) }),
            fc.record({ kind: fc.constant("get" as const), ks: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 8 }) }),
          ),
          { maxLength: 40 },
        ),
        async (commands) => {
          const plain = openHeapBackend();
          const skipping = await skipNeverWritten(openHeapBackend());
          for (const c of commands) {
            if (c.kind === "get") {
              const keys = c.ks.map(key);
              const [a, b] = await Promise.all([plain.getMany(keys), skipping.getMany(keys)]);
              expect(b.map((v) => v?.toString())).toEqual(a.map((v) => v?.toString()));
            } else {
              const op: KvOp = c.kind === "put" ? { kind: "put", key: key(c.k), value: Buffer.from(c.v) } : { kind: "delete", key: key(c.k) };
              await Promise.all([plain.write([op]), skipping.write([op])]);
            }
          }
        },
      ),
    );
  });
});

describe("WrittenKeys (the Bloom filter)", () => {
  test("no false negatives, whatever keys were added", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 300 }), (keys) => {
        const written = new WrittenKeys();
        for (const k of keys) written.add(k);
        for (const k of keys) expect(written.mayContain(k)).toBe(true);
      }),
    );
  });

  test("about 1 % false positives as it grows in layers; re-adding keys does not grow it", () => {
    const written = new WrittenKeys();
    const n = 300_000; // three layers' worth
    for (let i = 0; i < n; i++) written.add(Buffer.from(`written-${i}`));
    const bytes = written.byteSize;
    for (let i = 0; i < n; i++) written.add(Buffer.from(`written-${i}`));
    expect(written.byteSize).toBe(bytes);
    let positives = 0;
    for (let i = 0; i < 100_000; i++) if (written.mayContain(Buffer.from(`other-${i}`))) positives++;
    expect(positives / 100_000).toBeLessThan(0.03);
    for (let i = 0; i < n; i += 997) expect(written.mayContain(Buffer.from(`written-${i}`))).toBe(true);
  });

  test("past its memory budget it is saturated and reports every key as possibly written", () => {
    const written = new WrittenKeys(200 << 10); // room for the first 128 KiB layer only
    for (let i = 0; i < 200_000 && !written.isSaturated; i++) written.add(Buffer.from(`k${i}`));
    expect(written.isSaturated).toBe(true);
    expect(written.mayContain(Buffer.from("never added"))).toBe(true);
  });
});
