/**
 * Specification of keyed-state snapshots and restores (state/snapshot.ts), against real RocksDB
 * and heap backends.
 *
 * - Rescaling: cells written by p_old subtasks (each holding its own key-group range), snapshotted
 *   and restored at p_new, are exactly the original cells, each new subtask holding only its own
 *   range, for every pair of backend kinds.
 * - Same-parallelism RocksDB restore links the snapshot's files and never changes the snapshot.
 * - Incremental size: a second RocksDB snapshot shares unchanged files (hard links) with the
 *   first, `newBytes` counts only the files the first did not hold, and it survives the deletion
 *   of the first.
 * - Heap snapshots are one file. A missing snapshot fails with STATE_RESTORE_FAILED.
 * - Checkpoints on another file system (/dev/shm or a tmpfs mounted for the test): snapshots copy,
 *   stay incremental (files shared with the previous snapshot there), and restore both ways (same
 *   range and rescaled). Without a second file system these print why and are skipped.
 *
 * Every backend is closed and every temp dir removed after each test.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { WeirError } from "../common/errors.ts";
import { secondFileSystem } from "../test/support/second-fs.ts";
import { openHeapBackend } from "./heap-backend.ts";
import { decodeCellKey, encodeCellKey } from "./key-codec.ts";
import { keyGroupRangeFor, type KeyGroupRange, type KeyValue } from "./key-groups.ts";
import type { KvBackend, KvOp, KvRange } from "./kv-backend.ts";
import { openRocksBackend, type RocksKvBackend } from "./rocksdb-backend.ts";
import {
  digestsOf,
  restoreBackend,
  snapshotBackend,
  type BackendKind,
  type KnownDigests,
  type KeyedStateHandle,
  type RestoreSource,
} from "./snapshot.ts";

const MAX_PARALLELISM = 128;
const EVERYTHING: KvRange = { gte: Buffer.alloc(0), lt: Buffer.from([0xff, 0xff, 0xff, 0xff]) };

const dirs: string[] = [];
const backends: KvBackend[] = [];

const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "weir-snapshot-"));
  dirs.push(dir);
  return dir;
};

const track = <B extends KvBackend>(backend: B): B => {
  backends.push(backend);
  return backend;
};

afterEach(async () => {
  // close() is idempotent, so closing a backend a test already closed is fine.
  await Promise.all(backends.splice(0).map((b) => b.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const openBackend = async (kind: BackendKind, path: string): Promise<KvBackend> =>
  track(kind === "rocksdb" ? await openRocksBackend({ path }) : openHeapBackend());

/** Every cell of a backend, as hex key → hex value. */
const dump = async (backend: KvBackend): Promise<Map<string, string>> => {
  const out = new Map<string, string>();
  for await (const [k, v] of backend.scan(EVERYTHING)) out.set(k.toString("hex"), v.toString("hex"));
  return out;
};

const put = (key: Buffer, value: Buffer): KvOp => ({ kind: "put", key, value });

const writeModel = async (backend: KvBackend, model: ReadonlyMap<string, string>): Promise<void> => {
  const ops = [...model].map(([k, v]) => put(Buffer.from(k, "hex"), Buffer.from(v, "hex")));
  for (let i = 0; i < ops.length; i += 1000) await backend.write(ops.slice(i, i + 1000));
};

const inRange = (keyGroup: number, range: KeyGroupRange): boolean => keyGroup >= range.start && keyGroup <= range.end;
const overlaps = (a: KeyGroupRange, b: KeyGroupRange): boolean => a.start <= b.end && b.start <= a.end;

/** Size, inode and content of every file of a directory, by name. */
const listing = async (dir: string): Promise<Map<string, { size: number; ino: number; content: string }>> => {
  const out = new Map<string, { size: number; ino: number; content: string }>();
  for (const name of (await readdir(dir)).sort()) {
    const info = await stat(join(dir, name));
    out.set(name, { size: info.size, ino: info.ino, content: (await readFile(join(dir, name))).toString("base64") });
  }
  return out;
};

/** The previous snapshot, as the measure function sees it and as the test does (inodes). */
interface Previous {
  readonly known: KnownDigests;
  readonly inodes: ReadonlySet<number>;
}

const NONE: Previous = { known: new Map(), inodes: new Set() };

/** What the measure function must report for `dir`, computed independently with fs.stat and a whole-file hash. */
const expectedMeasure = async (dir: string, previous: Previous) => {
  let bytes = 0;
  let newBytes = 0;
  const inodes = new Set<number>();
  const contents: { name: string; size: number; sha256: string }[] = [];
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const info = await stat(join(dir, name));
    bytes += info.size;
    inodes.add(info.ino);
    if (!previous.inodes.has(info.ino)) newBytes += info.size;
    contents.push({ name, size: info.size, sha256: createHash("sha256").update(await readFile(join(dir, name))).digest("hex") });
  }
  return { bytes, newBytes, files: names.length, inodes, contents };
};

/** Snapshots `backend` into `<root>/<rel>`, runs the measure function and builds the handle. */
const takeSnapshot = async (
  backend: KvBackend,
  root: string,
  rel: string,
  keyGroups: KeyGroupRange,
  previous: Previous = NONE,
): Promise<{ handle: KeyedStateHandle; source: RestoreSource; inodes: ReadonlySet<number>; previous: Previous }> => {
  const absPath = join(root, rel);
  const measure = await snapshotBackend(backend, absPath);
  const m = await measure(previous.known);
  const expected = await expectedMeasure(absPath, previous);
  expect(m.bytes).toBe(expected.bytes);
  expect(m.newBytes).toBe(expected.newBytes);
  expect(m.files).toBe(expected.files);
  expect(m.contents).toEqual(expected.contents);
  const handle: KeyedStateHandle = {
    backend: backend.kind,
    path: rel,
    keyGroups,
    bytes: m.bytes,
    newBytes: m.newBytes,
    files: m.files,
    contents: m.contents,
  };
  return { handle, source: { handle, absPath }, inodes: expected.inodes, previous: { known: m.known, inodes: expected.inodes } };
};

/** A model of cells: hex(encodeCellKey(kg, stateId, key)) → hex(value). */
const cellsOf = (cells: readonly { kg: number; stateId: number; key: KeyValue; value: Uint8Array }[]): Map<string, string> => {
  const model = new Map<string, string>();
  for (const c of cells) model.set(encodeCellKey(c.kg, c.stateId, c.key).toString("hex"), Buffer.from(c.value).toString("hex"));
  return model;
};

const restrict = (model: ReadonlyMap<string, string>, range: KeyGroupRange): Map<string, string> =>
  new Map([...model].filter(([k]) => inRange(decodeCellKey(Buffer.from(k, "hex")).keyGroup, range)));

describe("restoreBackend: rescaling", () => {
  // Key groups at the range boundaries of every parallelism 1..4, so edges are always exercised.
  const boundaries = [0, 31, 32, 42, 43, 63, 64, 85, 86, 95, 96, 127];
  const cell = fc.record({
    kg: fc.oneof(fc.integer({ min: 0, max: MAX_PARALLELISM - 1 }), fc.constantFrom(...boundaries)),
    stateId: fc.integer({ min: 0, max: 2 }),
    key: fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.tuple(fc.string({ maxLength: 3 }), fc.nat())) as fc.Arbitrary<KeyValue>,
    value: fc.uint8Array({ maxLength: 12 }),
  });
  const kind = fc.constantFrom<BackendKind>("rocksdb", "heap");

  test("the union over the new subtasks is exactly the original cells, each subtask holding only its own key groups", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(cell, { maxLength: 120 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        kind,
        kind,
        fc.boolean(),
        async (cells, pOld, pNew, oldKind, newKind, giveEveryHandle) => {
          const root = await tempDir();
          try {
            const model = cellsOf(cells);
            const sources: RestoreSource[] = [];
            for (let i = 0; i < pOld; i++) {
              const range = keyGroupRangeFor(i, pOld, MAX_PARALLELISM);
              const old = await openBackend(oldKind, join(root, "old", String(i)));
              await writeModel(old, restrict(model, range));
              const { source, handle } = await takeSnapshot(old, root, join("chk-1", "op", String(i)), range);
              expect(handle.newBytes).toBe(handle.bytes); // nothing shared with an empty previous set
              expect(handle.files).toBeGreaterThanOrEqual(1);
              sources.push(source);
              await old.close();
            }
            // The old working directories are gone: the snapshots must stand on their own.
            await rm(join(root, "old"), { recursive: true, force: true });

            const union = new Map<string, string>();
            let total = 0;
            for (let j = 0; j < pNew; j++) {
              const range = keyGroupRangeFor(j, pNew, MAX_PARALLELISM);
              const restored = track(
                await restoreBackend({
                  kind: newKind,
                  range,
                  sources: giveEveryHandle ? sources : sources.filter((s) => overlaps(s.handle.keyGroups, range)),
                  workDir: join(root, "new", String(j)),
                }),
              );
              expect(restored.kind).toBe(newKind);
              const cellsHere = await dump(restored);
              for (const [k, v] of cellsHere) {
                expect(inRange(decodeCellKey(Buffer.from(k, "hex")).keyGroup, range)).toBe(true);
                union.set(k, v);
              }
              total += cellsHere.size;
              await restored.close();
            }
            expect(total).toBe(union.size);
            expect(union).toEqual(model);
          } finally {
            await rm(root, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe("restoreBackend: same parallelism, RocksDB", () => {
  const entries = (count: number, tag: string, range: KeyGroupRange): Map<string, string> => {
    const model = new Map<string, string>();
    const width = range.end - range.start + 1;
    for (let i = 0; i < count; i++) {
      model.set(encodeCellKey(range.start + (i % width), 1, `k${i}`).toString("hex"), Buffer.from(`${tag}-${i}`).toString("hex"));
    }
    return model;
  };

  test("restoring the one handle of the same range gives the same data, linking the snapshot's files", async () => {
    const root = await tempDir();
    const range = keyGroupRangeFor(1, 2, MAX_PARALLELISM);
    const original = await openBackend("rocksdb", join(root, "work"));
    const model = entries(2000, "v", range);
    await writeModel(original, model);
    const { source } = await takeSnapshot(original, root, "chk-1/op/1", range);
    await original.close();

    const workDir = join(root, "restored");
    const restored = track(await restoreBackend({ kind: "rocksdb", range, sources: [source], workDir }));
    expect(restored.kind).toBe("rocksdb");
    expect(await dump(restored)).toEqual(model);

    const snapshotFiles = await listing(source.absPath);
    const ssts = [...snapshotFiles].filter(([name]) => name.endsWith(".sst"));
    expect(ssts.length).toBeGreaterThan(0);
    for (const [name, { ino }] of ssts) expect((await stat(join(workDir, name))).ino).toBe(ino);
  });

  test("writes to the restored backend never change the snapshot, which restores the same data again later", async () => {
    const root = await tempDir();
    const range = keyGroupRangeFor(0, 3, MAX_PARALLELISM);
    const original = await openBackend("rocksdb", join(root, "work"));
    const model = entries(3000, "v", range);
    await writeModel(original, model);
    const { source } = await takeSnapshot(original, root, "chk-1/op/0", range);
    await original.close();
    const before = await listing(source.absPath);

    const first = track(await restoreBackend({ kind: "rocksdb", range, sources: [source], workDir: join(root, "restored-1") })) as RocksKvBackend;
    expect(await dump(first)).toEqual(model);
    // Overwrite and delete cells, flushing to SST files (each checkpoint flushes) often enough to
    // trigger a level-0 compaction, which rewrites and drops the linked files in the working dir.
    const keys = [...model.keys()].map((k) => Buffer.from(k, "hex"));
    for (let round = 0; round < 6; round++) {
      const ops: KvOp[] = keys.map((key, i) =>
        (i + round) % 5 === 0 ? { kind: "delete", key } : put(key, Buffer.from(`round-${round}-${i}`)),
      );
      await first.write(ops);
      await first.checkpointTo(join(root, `later-${round}`));
    }
    expect(await dump(first)).not.toEqual(model);
    await first.close();

    expect(await listing(source.absPath)).toEqual(before);
    const second = track(await restoreBackend({ kind: "rocksdb", range, sources: [source], workDir: join(root, "restored-2") }));
    expect(await dump(second)).toEqual(model);
  });
});

describe("snapshotBackend: incremental RocksDB snapshots", () => {
  const key = (i: number) => encodeCellKey(i % MAX_PARALLELISM, 0, i);
  // Incompressible values, so the SST holding 5k of them is far larger than the metadata files.
  const value = (i: number, version: number) =>
    Buffer.concat([Buffer.from(`${version}:`), createHash("sha512").update(`${version}/${i}`).digest()]);
  const ALL_GROUPS: KeyGroupRange = { start: 0, end: MAX_PARALLELISM - 1 };

  test("a second snapshot shares the unchanged files with the first and counts only its new files as newBytes", async () => {
    const root = await tempDir();
    const workPath = join(root, "work");
    const backend = await openBackend("rocksdb", workPath);
    const model = new Map<string, string>();
    for (let i = 0; i < 5000; i++) model.set(key(i).toString("hex"), value(i, 1).toString("hex"));
    await writeModel(backend, model);

    const one = await takeSnapshot(backend, root, "chk-1/op/0", ALL_GROUPS);
    expect(one.handle.newBytes).toBe(one.handle.bytes);

    const updates: KvOp[] = [];
    for (let i = 0; i < 5000; i += 100) {
      updates.push(put(key(i), value(i, 2)));
      model.set(key(i).toString("hex"), value(i, 2).toString("hex"));
    }
    expect(updates).toHaveLength(50);
    await backend.write(updates);

    const two = await takeSnapshot(backend, root, "chk-2/op/0", ALL_GROUPS, one.previous);
    expect(two.handle.newBytes).toBeGreaterThan(0);
    expect(two.handle.newBytes).toBeLessThan(two.handle.bytes);
    // The unchanged data dominates: most of snapshot 2 is shared with snapshot 1.
    expect(two.handle.newBytes * 2).toBeLessThan(two.handle.bytes);

    const files1 = await listing(one.source.absPath);
    const files2 = await listing(two.source.absPath);
    const inodes1 = new Set([...files1.values()].map((f) => f.ino));
    const shared = [...files2].filter(([, f]) => inodes1.has(f.ino));
    expect(shared.length).toBeGreaterThan(0);
    for (const [name] of shared) {
      expect(name.endsWith(".sst")).toBe(true);
      expect(files1.get(name)?.ino).toBe(files2.get(name)?.ino);
    }
    // Snapshot 2 also holds a file snapshot 1 does not: the flushed updates.
    expect([...files2].some(([name, f]) => name.endsWith(".sst") && !inodes1.has(f.ino))).toBe(true);

    // Delete snapshot 1 and the working directory: snapshot 2 is complete on its own.
    await backend.close();
    await rm(workPath, { recursive: true, force: true });
    await rm(one.source.absPath, { recursive: true, force: true });
    expect(await listing(two.source.absPath)).toEqual(files2);

    const asRocks = track(
      await restoreBackend({ kind: "rocksdb", range: ALL_GROUPS, sources: [two.source], workDir: join(root, "restored-rocks") }),
    );
    expect(await dump(asRocks)).toEqual(model);
    const asHeap = track(
      await restoreBackend({ kind: "heap", range: ALL_GROUPS, sources: [two.source], workDir: join(root, "restored-heap") }),
    );
    expect(await dump(asHeap)).toEqual(model);
  });
});

describe("snapshotBackend: heap", () => {
  test("writes one file and restores exactly, into heap or RocksDB; later writes do not change it", async () => {
    const root = await tempDir();
    const range = keyGroupRangeFor(2, 4, MAX_PARALLELISM);
    const heap = track(openHeapBackend());
    const model = new Map<string, string>();
    for (let i = 0; i < 300; i++) {
      const k = encodeCellKey(range.start + (i % (range.end - range.start + 1)), i % 3, i % 2 === 0 ? `key-${i}` : i);
      // Values include empty and binary ones.
      const v = i % 50 === 0 ? Buffer.alloc(0) : Buffer.from([i & 0xff, 0, 0xff, (i * 7) & 0xff]);
      model.set(k.toString("hex"), v.toString("hex"));
    }
    await writeModel(heap, model);

    const { handle, source } = await takeSnapshot(heap, root, "chk-1/op/2", range);
    expect(handle.backend).toBe("heap");
    expect(handle.files).toBe(1);
    const names = await readdir(source.absPath);
    expect(names).toHaveLength(1);
    expect(handle.bytes).toBe((await stat(join(source.absPath, names[0]!))).size);
    expect(handle.bytes).toBeGreaterThan(0);

    const before = await listing(source.absPath);
    await heap.write([put(encodeCellKey(range.start, 0, "after"), Buffer.from("later")), { kind: "delete", key: Buffer.from([...model.keys()][0]!, "hex") }]);
    await heap.close();
    expect(await listing(source.absPath)).toEqual(before);

    const asHeap = track(await restoreBackend({ kind: "heap", range, sources: [source], workDir: join(root, "restored-heap") }));
    expect(asHeap.kind).toBe("heap");
    expect(await dump(asHeap)).toEqual(model);
    const asRocks = track(await restoreBackend({ kind: "rocksdb", range, sources: [source], workDir: join(root, "restored-rocks") }));
    expect(asRocks.kind).toBe("rocksdb");
    expect(await dump(asRocks)).toEqual(model);
  });

  test("an empty heap backend snapshots to one file and restores empty", async () => {
    const root = await tempDir();
    const range = keyGroupRangeFor(0, 1, MAX_PARALLELISM);
    const heap = track(openHeapBackend());
    const { handle, source } = await takeSnapshot(heap, root, "chk-1/op/0", range);
    expect(handle.files).toBe(1);
    const restored = track(await restoreBackend({ kind: "heap", range, sources: [source], workDir: join(root, "restored") }));
    expect(await dump(restored)).toEqual(new Map());
  });
});

describe("restoreBackend: failures", () => {
  const range = keyGroupRangeFor(0, 2, MAX_PARALLELISM);
  const missingHandle = (backend: BackendKind, keyGroups: KeyGroupRange): KeyedStateHandle => ({
    backend,
    path: "chk-9/op/0",
    keyGroups,
    bytes: 100,
    newBytes: 100,
    files: 1,
  });
  // Same range (the RocksDB fast path when both are RocksDB) and a rescale from parallelism 1.
  const cases: { kind: BackendKind; snapshotKind: BackendKind; how: string; keyGroups: KeyGroupRange }[] = [
    { kind: "rocksdb", snapshotKind: "rocksdb", how: "same range", keyGroups: range },
    { kind: "rocksdb", snapshotKind: "rocksdb", how: "rescaled", keyGroups: keyGroupRangeFor(0, 1, MAX_PARALLELISM) },
    { kind: "rocksdb", snapshotKind: "heap", how: "same range", keyGroups: range },
    { kind: "heap", snapshotKind: "rocksdb", how: "same range", keyGroups: range },
    { kind: "heap", snapshotKind: "heap", how: "same range", keyGroups: range },
  ];

  test.each(cases)("restoring into $kind from a missing $snapshotKind snapshot ($how) rejects with STATE_RESTORE_FAILED naming the work dir", async ({ kind, snapshotKind, keyGroups }) => {
    const root = await tempDir();
    const workDir = join(root, "state", "op", "0");
    const source: RestoreSource = { handle: missingHandle(snapshotKind, keyGroups), absPath: join(root, "chk-9", "op", "0") };
    const error = await restoreBackend({ kind, range, sources: [source], workDir }).then(
      (b) => {
        track(b);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WeirError);
    expect((error as WeirError).code).toBe("STATE_RESTORE_FAILED");
    expect((error as WeirError).message).toContain(workDir);
  });

  // Source bugs, see the report: on failure restoreBackend neither closes the RocksDB it opened in
  // the work dir nor removes the scratch dir of a snapshot it could not open.
  const failRestore = async (kind: BackendKind, snapshotKind: BackendKind, keyGroups: KeyGroupRange) => {
    const root = await tempDir();
    const workDir = join(root, "state", "op", "0");
    await mkdir(dirname(workDir), { recursive: true }); // as the runtime does before restoring
    const source: RestoreSource = { handle: missingHandle(snapshotKind, keyGroups), absPath: join(root, "chk-9", "op", "0") };
    await expect(restoreBackend({ kind, range, sources: [source], workDir })).rejects.toBeInstanceOf(WeirError);
    return workDir;
  };

  test.each(cases)("a failed restore into $kind from a missing $snapshotKind snapshot ($how) leaves no scratch directory beside the work dir", async ({ kind, snapshotKind, keyGroups }) => {
    const workDir = await failRestore(kind, snapshotKind, keyGroups);
    expect((await readdir(dirname(workDir))).filter((n) => n !== basename(workDir))).toEqual([]);
  });

  test.each(cases)("a failed restore into $kind from a missing $snapshotKind snapshot ($how) leaves no database open: a retry can open the work dir", async ({ kind, snapshotKind, keyGroups }) => {
    const workDir = await failRestore(kind, snapshotKind, keyGroups);
    // As an in-process restart with a fixed state dir would: clear the work dir and open it again.
    await rm(workDir, { recursive: true, force: true });
    const again = track(await openRocksBackend({ path: workDir }));
    await again.write([put(Buffer.from("k"), Buffer.from("v"))]);
    expect(await dump(again)).toEqual(new Map([[Buffer.from("k").toString("hex"), Buffer.from("v").toString("hex")]]));
  });
});

describe("checkpoints on another file system", async () => {
  const second = await secondFileSystem(tmpdir());
  if (second.kind === "unavailable") console.warn(`snapshot: cross-device cases skipped: ${second.reason}`);
  afterAll(async () => {
    if (second.kind === "available") await second.cleanup();
  });
  const checkpointRoot = async () => {
    if (second.kind !== "available") throw new Error("unreachable");
    const dir = await mkdtemp(join(second.dir, "chk-"));
    dirs.push(dir);
    expect((await stat(dir)).dev).not.toBe((await stat(tmpdir())).dev);
    return dir;
  };
  const key = (i: number) => encodeCellKey(i % MAX_PARALLELISM, 0, i);
  const value = (i: number, version: number) => createHash("sha512").update(`${version}/${i}`).digest();
  const ALL_GROUPS: KeyGroupRange = { start: 0, end: MAX_PARALLELISM - 1 };

  test.skipIf(second.kind !== "available")(
    "incremental snapshots there share unchanged files with the previous one; both restore, at the same range and rescaled",
    async () => {
      const work = await tempDir();
      const chk = await checkpointRoot();
      const backend = await openBackend("rocksdb", join(work, "db"));
      const model = new Map<string, string>();
      for (let i = 0; i < 5000; i++) model.set(key(i).toString("hex"), value(i, 1).toString("hex"));
      await writeModel(backend, model);
      const one = await takeSnapshot(backend, chk, "chk-1/op/0", ALL_GROUPS);
      const updates: KvOp[] = [];
      for (let i = 0; i < 5000; i += 100) {
        updates.push(put(key(i), value(i, 2)));
        model.set(key(i).toString("hex"), value(i, 2).toString("hex"));
      }
      await backend.write(updates);
      const measure = await snapshotBackend(backend, join(chk, "chk-2/op/0"), { previousDir: one.source.absPath });
      const two = await measure(one.previous.known);
      expect(two.newBytes).toBeGreaterThan(0);
      expect(two.newBytes * 2).toBeLessThan(two.bytes); // the unchanged SST is linked, not copied again
      await backend.close();
      await rm(one.source.absPath, { recursive: true, force: true });
      const { bytes, newBytes, files, contents } = two;
      const handle: KeyedStateHandle = { backend: "rocksdb", path: "chk-2/op/0", keyGroups: ALL_GROUPS, bytes, newBytes, files, contents };
      const source: RestoreSource = { handle, absPath: join(chk, "chk-2/op/0") };
      const before = await listing(source.absPath);

      const same = track(await restoreBackend({ kind: "rocksdb", range: ALL_GROUPS, sources: [source], workDir: join(work, "same") }));
      expect(await dump(same)).toEqual(model);
      const half = keyGroupRangeFor(1, 2, MAX_PARALLELISM);
      const rescaled = track(await restoreBackend({ kind: "rocksdb", range: half, sources: [source], workDir: join(work, "half") }));
      expect(await dump(rescaled)).toEqual(restrict(model, half));
      await same.write(updates.map((u) => ({ kind: "delete", key: u.key })));
      await same.close();
      // The restored copies are the working state's own: the checkpoint is as it was.
      expect(await listing(source.absPath)).toEqual(before);
    },
  );
});

describe("digestsOf: the first snapshot after a restore", () => {
  test("does not hash again the files it shares with the restored snapshot, and records the same checksums", async () => {
    const root = await tempDir();
    const backend = await openBackend("rocksdb", join(root, "work"));
    const model = new Map<string, string>();
    for (let i = 0; i < 2000; i++) model.set(encodeCellKey(i % MAX_PARALLELISM, 0, i).toString("hex"), createHash("sha512").update(String(i)).digest("hex"));
    await writeModel(backend, model);
    const range: KeyGroupRange = { start: 0, end: MAX_PARALLELISM - 1 };
    const one = await takeSnapshot(backend, root, "chk-1/op/0", range);
    await backend.close();

    const restored = track(await restoreBackend({ kind: "rocksdb", range, sources: [one.source], workDir: join(root, "restored") }));
    const known = await digestsOf(one.source);
    expect([...known.values()]).toEqual(one.handle.contents);
    // takeSnapshot checks the recorded checksums against an independent hash of every file.
    const two = await takeSnapshot(restored, root, "chk-2/op/0", range, { known, inodes: one.inodes });
    const sharedSsts = (two.handle.contents ?? []).filter((f) => f.name.endsWith(".sst") && one.handle.contents?.some((g) => g.name === f.name));
    expect(sharedSsts.length).toBeGreaterThan(0);
    expect(two.handle.newBytes).toBeLessThan(two.handle.bytes);
  });
});
