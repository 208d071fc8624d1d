/**
 * What the state-file checksums cost: a RocksDB backend of `--values` random 100-byte values is
 * snapshotted twice (the second after `--updates` changed values, so it shares most SST files
 * with the first); prints the asynchronous part's time (fsync + SHA-256 of new files), the
 * SHA-256 time of every file alone, and the verification of a whole snapshot before a restore.
 *
 *   npx tsx bench/state-checksums.ts [--values 3000000] [--updates 10000]
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sha256File } from "../common/file-digest.ts";
import { encodeCellKey } from "../state/key-codec.ts";
import type { KvOp } from "../state/kv-backend.ts";
import { openRocksBackend } from "../state/rocksdb-backend.ts";
import { findSnapshotDamage, snapshotBackend, type KeyedStateHandle, type SnapshotMeasure } from "../state/snapshot.ts";

const { values } = parseArgs({ options: { values: { type: "string", default: "3000000" }, updates: { type: "string", default: "10000" } } });
const n = Number(values.values);
const updates = Number(values.updates);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
};

const dir = await mkdtemp(join(tmpdir(), "weir-bench-checksums-"));
try {
  const backend = await openRocksBackend({ path: join(dir, "db") });
  const put = async (count: number, pick: (i: number) => number) => {
    for (let i = 0; i < count; i += 1000) {
      const ops: KvOp[] = [];
      for (let j = i; j < Math.min(count, i + 1000); j++) ops.push({ kind: "put", key: encodeCellKey(pick(j) % 128, 0, pick(j)), value: randomBytes(100) });
      await backend.write(ops);
    }
  };
  await put(n, (i) => i);
  const snapshot = async (name: string, previous: SnapshotMeasure["known"]) => {
    const measure = await snapshotBackend(backend, join(dir, name));
    const [m, ms] = await timed(() => measure(previous));
    console.log(`${name}: ${m.files} files, ${mib(m.bytes)}, ${mib(m.newBytes)} new; asynchronous part (fsync + sha256 of new files) ${ms.toFixed(0)} ms`);
    return m;
  };
  const one = await snapshot("chk-1", new Map());
  await put(updates, () => Math.floor(Math.random() * n));
  const two = await snapshot("chk-2", one.known);
  const [, hashAll] = await timed(async () => {
    for (const name of await readdir(join(dir, "chk-2"))) await sha256File(join(dir, "chk-2", name));
  });
  console.log(`sha256 of every file of chk-2 alone: ${hashAll.toFixed(0)} ms (${mib(two.bytes / (hashAll / 1000))}/s)`);
  const handle: KeyedStateHandle = { backend: "rocksdb", path: "chk-2", keyGroups: { start: 0, end: 127 }, bytes: two.bytes, newBytes: two.newBytes, files: two.files, contents: two.contents };
  const [damage, verify] = await timed(() => findSnapshotDamage(handle, join(dir, "chk-2"), true));
  const [, sizes] = await timed(() => findSnapshotDamage(handle, join(dir, "chk-2"), false));
  console.log(`verify before restore (size + sha256 of every file): ${verify.toFixed(0)} ms (${damage ?? "undamaged"}); sizes only: ${sizes.toFixed(1)} ms`);
  await backend.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
