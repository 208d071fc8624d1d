/**
 * The KvBackend contract against both backends, plus the RocksDB-only checkpoint copy. Every
 * RocksDB store lives in a fresh temp dir, removed after each test.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openHeapBackend } from "../../state/heap-backend.ts";
import type { KvBackend, KvOp, KvRange } from "../../state/kv-backend.ts";
import { openRocksBackend } from "../../state/rocksdb-backend.ts";
import type { RocksKvBackend } from "../../state/rocksdb-backend.ts";
import { kvBackendContract } from "./kv-backend-contract.ts";
import { skipNeverWritten } from "../../state/absent-keys-backend.ts";

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "weir-kv-"));
  dirs.push(dir);
  return dir;
};
// Runs after the contract's own afterEach (inner hooks first), which closes every backend.
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

kvBackendContract("heap", async () => openHeapBackend());

// Fresh stores: the wrapper is in place (an empty store), and must keep every promise of the contract.
kvBackendContract("heap, skipping never-written keys", async () => skipNeverWritten(openHeapBackend()));
kvBackendContract("rocksdb, skipping never-written keys", async () => skipNeverWritten(await openRocksBackend({ path: await tempDir() })), { modelRuns: 100 });

kvBackendContract("rocksdb", async () => openRocksBackend({ path: await tempDir() }), {
  reopen: async (kv) => {
    const { path } = kv as RocksKvBackend;
    await kv.close();
    return openRocksBackend({ path, createIfMissing: false });
  },
  modelRuns: 150,
});

const key = (i: number) => Buffer.from(`key-${String(i).padStart(6, "0")}`);
const ALL: KvRange = { gte: Buffer.alloc(0), lt: Buffer.from([0xff]) };

async function dump(kv: KvBackend): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of kv.scan(ALL)) out.set(k.toString(), v.toString());
  return out;
}

describe("RocksDB checkpointTo", () => {
  const open: RocksKvBackend[] = [];
  const track = (kv: RocksKvBackend) => (open.push(kv), kv);
  afterEach(async () => {
    await Promise.all(open.splice(0).map((kv) => kv.close()));
  });

  it("copies exactly the data at checkpoint time; the original keeps accepting writes", async () => {
    const kv = track(await openRocksBackend({ path: await tempDir() }));
    const puts: KvOp[] = Array.from({ length: 5000 }, (_, i) => ({ kind: "put", key: key(i), value: Buffer.from(`v${i}`) }));
    await kv.write(puts);
    await kv.write([{ kind: "delete", key: key(7) }]);
    // In flight when the checkpoint is requested: belongs to it.
    const inFlight = kv.write([{ kind: "put", key: key(1), value: Buffer.from("in-flight") }]);
    const target = join(await tempDir(), "chk-1");
    const checkpoint = kv.checkpointTo(target);
    // Requested after: must not be in the copy, and must not be lost either.
    const after = kv.write([
      { kind: "put", key: key(2), value: Buffer.from("after") },
      { kind: "delete", key: key(3) },
      { kind: "put", key: key(999_999), value: Buffer.from("new") },
    ]);
    const result = await checkpoint;
    await Promise.all([inFlight, after]);
    await kv.write([{ kind: "put", key: key(4), value: Buffer.from("later") }]);

    expect(result.files).toContain("CURRENT");
    expect(result.files.some((f) => f.endsWith(".sst"))).toBe(true);
    expect(result.bytes).toBeGreaterThan(0);
    expect((await readdir(target)).sort()).toEqual([...result.files].sort());

    const copy = track(await openRocksBackend({ path: target, createIfMissing: false }));
    const expected = new Map(puts.map((op) => [op.key.toString(), op.kind === "put" ? op.value.toString() : ""]));
    expected.delete(key(7).toString());
    expected.set(key(1).toString(), "in-flight");
    expect(await dump(copy)).toEqual(expected);

    const original = await kv.getMany([key(1), key(2), key(3), key(4), key(999_999)]);
    expect(original.map((v) => v?.toString())).toEqual(["in-flight", "after", undefined, "later", "new"]);
    // The copy is an independent DB: writing to it leaves the original alone.
    await copy.write([{ kind: "put", key: key(5), value: Buffer.from("copy-only") }]);
    expect((await kv.getMany([key(5)]))[0]?.toString()).toBe("v5");
  });

  it("successive checkpoints each capture their own cut, and an empty DB checkpoints too", async () => {
    const kv = track(await openRocksBackend({ path: await tempDir() }));
    const root = await tempDir();
    await kv.checkpointTo(join(root, "empty"));
    for (let n = 1; n <= 3; n++) {
      await kv.write([{ kind: "put", key: key(0), value: Buffer.from(`round-${n}`) }, { kind: "put", key: key(n), value: Buffer.from("x") }]);
    }
    // Requested back to back; writes interleaved between the requests belong to the later cut.
    const first = kv.checkpointTo(join(root, "a"));
    const w = kv.write([{ kind: "put", key: key(0), value: Buffer.from("between") }]);
    const second = kv.checkpointTo(join(root, "b"));
    await Promise.all([first, w, second]);

    const emptyCopy = track(await openRocksBackend({ path: join(root, "empty"), createIfMissing: false }));
    expect(await dump(emptyCopy)).toEqual(new Map());
    const a = track(await openRocksBackend({ path: join(root, "a"), createIfMissing: false }));
    const bCopy = track(await openRocksBackend({ path: join(root, "b"), createIfMissing: false }));
    expect((await a.getMany([key(0)]))[0]?.toString()).toBe("round-3");
    expect((await bCopy.getMany([key(0)]))[0]?.toString()).toBe("between");
  });

  it("refuses a non-empty target dir and a missing copy without touching either", async () => {
    const kv = track(await openRocksBackend({ path: await tempDir() }));
    const target = await tempDir();
    await kv.checkpointTo(join(target, "x"));
    await expect(kv.checkpointTo(target)).rejects.toMatchObject({ code: "STATE_CHECKPOINT_TARGET_NOT_EMPTY" });
    expect(await readdir(target)).toEqual(["x"]);
    await expect(openRocksBackend({ path: join(target, "missing"), createIfMissing: false })).rejects.toMatchObject({
      code: "STATE_BACKEND_OPEN",
    });
    await kv.write([{ kind: "put", key: key(1), value: Buffer.from("still writable") }]);
  });

  it("close during a checkpoint resolves; the checkpoint rejects or completes", async () => {
    const kv = await openRocksBackend({ path: await tempDir() });
    await kv.write(Array.from({ length: 2000 }, (_, i) => ({ kind: "put" as const, key: key(i), value: Buffer.alloc(100) })));
    const checkpoint = kv.checkpointTo(join(await tempDir(), "chk")).then(
      () => "done",
      (e: unknown) => (e as { code?: string }).code,
    );
    const closed = kv.close();
    await closed;
    expect(["done", "STATE_BACKEND_CLOSED"]).toContain(await checkpoint);
    await expect(kv.checkpointTo(join(await tempDir(), "chk2"))).rejects.toMatchObject({ code: "STATE_BACKEND_CLOSED" });
  });
});

describe("RocksDB input checks", () => {
  it("refuses a non-Buffer key or value with STATE_BACKEND_BAD_INPUT, handed over or not (the binding would abort the process)", async () => {
    const kv = await openRocksBackend({ path: await tempDir() });
    try {
      const bad = "k" as unknown as Buffer;
      for (const handOver of [false, true]) {
        await expect(kv.write([{ kind: "put", key: bad, value: Buffer.from("v") }], { handOver })).rejects.toMatchObject({ code: "STATE_BACKEND_BAD_INPUT" });
        await expect(kv.write([{ kind: "put", key: Buffer.from("k"), value: bad }], { handOver })).rejects.toMatchObject({ code: "STATE_BACKEND_BAD_INPUT" });
        await expect(kv.getMany([bad], { handOver })).rejects.toMatchObject({ code: "STATE_BACKEND_BAD_INPUT" });
      }
    } finally {
      await kv.close();
    }
  });
});
