/**
 * Rescaled RocksDB restores (state/snapshot.ts), which link the snapshot overlapping a subtask's
 * range most and cut the key groups outside it off with range tombstones:
 * - rescaled twice in a row (old → mid → new parallelism, each restored subtask snapshotted and
 *   restored again), the union over the new subtasks is exactly the original cells, each subtask
 *   holding only its own key groups: the tombstones travel with the snapshots;
 * - a rescaled restore, and writes to the restored backend, never change the snapshots it links;
 * - scaling up reads no cell through a copy: every SST of the restored backend is a link to the
 *   snapshot's (same inode).
 * Plus `deleteRange` of the RocksDB backend against a Map model.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import { decodeCellKey, encodeCellKey } from "../../state/key-codec.ts";
import { keyGroupRangeFor, type KeyGroupRange } from "../../state/key-groups.ts";
import type { KvBackend, KvRange } from "../../state/kv-backend.ts";
import { openRocksBackend } from "../../state/rocksdb-backend.ts";
import { restoreBackend, snapshotBackend, type RestoreSource } from "../../state/snapshot.ts";

const MAX_PARALLELISM = 128;
const EVERYTHING: KvRange = { gte: Buffer.alloc(0), lt: Buffer.from([0xff, 0xff, 0xff, 0xff]) };

const dirs: string[] = [];
const open: KvBackend[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "weir-rescale-"));
  dirs.push(dir);
  return dir;
};
const track = <B extends KvBackend>(b: B): B => (open.push(b), b);
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const dump = async (backend: KvBackend): Promise<Map<string, string>> => {
  const out = new Map<string, string>();
  for await (const [k, v] of backend.scan(EVERYTHING)) out.set(k.toString("hex"), v.toString("hex"));
  return out;
};

const inRange = (hexKey: string, range: KeyGroupRange) => {
  const kg = decodeCellKey(Buffer.from(hexKey, "hex")).keyGroup;
  return kg >= range.start && kg <= range.end;
};

/** Snapshots `backend` (RocksDB) into `<root>/<rel>` and returns it as a restore source. */
const snapshot = async (backend: KvBackend, root: string, rel: string, keyGroups: KeyGroupRange): Promise<RestoreSource> => {
  const absPath = join(root, rel);
  const m = await (await snapshotBackend(backend, absPath))(new Map());
  return { absPath, handle: { backend: "rocksdb", path: rel, keyGroups, bytes: m.bytes, newBytes: m.newBytes, files: m.files, contents: m.contents } };
};

/** Restores every subtask of parallelism `p` from `sources` into `<root>/<tag>/<j>`. */
const restoreAll = async (root: string, tag: string, p: number, sources: readonly RestoreSource[]) => {
  const out: { range: KeyGroupRange; backend: KvBackend }[] = [];
  for (let j = 0; j < p; j++) {
    const range = keyGroupRangeFor(j, p, MAX_PARALLELISM);
    out.push({ range, backend: track(await restoreBackend({ kind: "rocksdb", range, sources, workDir: join(root, tag, String(j)) })) });
  }
  return out;
};

/** Content and inode of every file of a directory, by name. */
const listing = async (dir: string) => {
  const out = new Map<string, { ino: number; content: string }>();
  for (const name of (await readdir(dir)).sort()) {
    out.set(name, { ino: (await stat(join(dir, name))).ino, content: (await readFile(join(dir, name))).toString("base64") });
  }
  return out;
};

describe("restoreBackend: RocksDB rescaled by linking and cutting off", () => {
  test("rescaled twice in a row, the new subtasks hold exactly the original cells, each only its own key groups", async () => {
    const cell = fc.record({ kg: fc.integer({ min: 0, max: MAX_PARALLELISM - 1 }), id: fc.nat(1000), value: fc.uint8Array({ maxLength: 8 }) });
    const p = fc.integer({ min: 1, max: 4 });
    await fc.assert(
      fc.asyncProperty(fc.array(cell, { maxLength: 80 }), p, p, p, async (cells, pOld, pMid, pNew) => {
        const root = await tempDir();
        const model = new Map<string, string>();
        for (const c of cells) model.set(encodeCellKey(c.kg, 0, c.id).toString("hex"), Buffer.from(c.value).toString("hex"));
        let sources: RestoreSource[] = [];
        for (let i = 0; i < pOld; i++) {
          const range = keyGroupRangeFor(i, pOld, MAX_PARALLELISM);
          const old = track(await openRocksBackend({ path: join(root, "old", String(i)) }));
          const ops = [...model].filter(([k]) => inRange(k, range)).map(([k, v]) => ({ kind: "put" as const, key: Buffer.from(k, "hex"), value: Buffer.from(v, "hex") }));
          await old.write(ops);
          sources.push(await snapshot(old, root, `chk-1/${i}`, range));
          await old.close();
        }
        const mid = await restoreAll(root, "mid", pMid, sources);
        sources = [];
        for (const [j, { range, backend }] of mid.entries()) {
          sources.push(await snapshot(backend, root, `chk-2/${j}`, range));
          await backend.close();
        }
        const union = new Map<string, string>();
        let total = 0;
        for (const { range, backend } of await restoreAll(root, "new", pNew, sources)) {
          const here = await dump(backend);
          for (const [k, v] of here) {
            expect(inRange(k, range)).toBe(true);
            union.set(k, v);
          }
          total += here.size;
        }
        expect(total).toBe(union.size);
        expect(union).toEqual(model);
        await Promise.all(open.splice(0).map((b) => b.close()));
        await rm(root, { recursive: true, force: true });
      }),
      { numRuns: 15 },
    );
  });

  test("scaling up links every SST of the snapshot and never changes it, even as the restored subtasks write", async () => {
    const root = await tempDir();
    const all: KeyGroupRange = { start: 0, end: MAX_PARALLELISM - 1 };
    const old = track(await openRocksBackend({ path: join(root, "old") }));
    await old.write(Array.from({ length: 3000 }, (_, i) => ({ kind: "put" as const, key: encodeCellKey(i % MAX_PARALLELISM, 0, i), value: Buffer.alloc(100, i) })));
    const source = await snapshot(old, root, "chk-1/0", all);
    await old.close();
    const before = await listing(source.absPath);
    const restored = await restoreAll(root, "new", 2, [source]);
    for (const [j, { range, backend }] of restored.entries()) {
      const ssts = (await readdir(join(root, "new", String(j)))).filter((n) => n.endsWith(".sst"));
      for (const name of ssts) {
        expect((await stat(join(root, "new", String(j), name))).ino, name).toBe(before.get(name)?.ino);
      }
      await backend.write([{ kind: "put", key: encodeCellKey(range.start, 0, "new"), value: Buffer.from("x") }]);
      await backend.write([{ kind: "delete", key: encodeCellKey(range.start, 0, range.start) }]);
      const held = Array.from({ length: 3000 }, (_, i) => i % MAX_PARALLELISM).filter((kg) => kg >= range.start && kg <= range.end).length;
      expect((await dump(backend)).size).toBe(held + 1 - 1);
    }
    expect(await listing(source.absPath)).toEqual(before);
  });
});

describe("RocksDB deleteRange", () => {
  test("deletes exactly the keys in [gte, lt), also after a checkpoint copy is reopened", async () => {
    const bytes = fc.uint8Array({ minLength: 0, maxLength: 3 }).map((a) => Buffer.from(a));
    await fc.assert(
      fc.asyncProperty(fc.array(bytes, { maxLength: 40 }), bytes, bytes, async (keys, a, b) => {
        const root = await tempDir();
        const kv = track(await openRocksBackend({ path: join(root, "db") }));
        const present = keys.filter((k) => k.length > 0);
        await kv.write(present.map((k) => ({ kind: "put" as const, key: k, value: Buffer.from("v") })));
        await kv.deleteRange({ gte: a, lt: b });
        const expected = new Set(present.filter((k) => !(Buffer.compare(k, a) >= 0 && b.length > 0 && Buffer.compare(k, b) < 0)).map((k) => k.toString("hex")));
        expect(new Set((await dump(kv)).keys())).toEqual(expected);
        await kv.checkpointTo(join(root, "copy"));
        await kv.close();
        const copy = track(await openRocksBackend({ path: join(root, "copy"), createIfMissing: false }));
        expect(new Set((await dump(copy)).keys())).toEqual(expected);
        await copy.close();
        await rm(root, { recursive: true, force: true });
      }),
      { numRuns: 30 },
    );
  });
});
