/**
 * Snapshots and restores of a keyed-state backend, for checkpoints.
 *
 * RocksDB: `checkpointTo` writes a consistent copy whose SST files are hard links, so each
 * checkpoint directory is complete on its own while unchanged files are stored once: the file
 * system reference-counts them, and deleting an old checkpoint never removes a file a retained
 * one still uses. With checkpoints on another file system the SSTs are copied, except the ones
 * the previous snapshot of the same backend already holds (linked from there), so checkpoints stay
 * incremental. `newBytes` counts only files the previous checkpoint did not already hold
 * (incremental size). Heap: every entry is written to one msgpack file.
 *
 * Restore rebuilds exactly the key-group range a subtask owns. The RocksDB checkpoint overlapping
 * that range most has its files linked (copied across file systems) into the working directory
 * and is opened as it is; when rescaled, key groups outside the range are cut off with range
 * tombstones, and the overlapping key groups of the other old subtasks (scaling down) are scanned
 * into it. With heap state on either side, every overlapping cell is scanned into a fresh backend.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { fsyncPath } from "../common/fsync.ts";
import { linkOrCopy } from "../common/link-or-copy.ts";
import { sha256File } from "../common/file-digest.ts";
import { errnoOf } from "../common/path-errors.ts";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { externalError, describeError } from "../common/errors.ts";
import type { KvBackend, KvOp } from "./kv-backend.ts";
import { keyGroupByteRange } from "./key-codec.ts";
import type { KeyGroupRange } from "./key-groups.ts";
import { openHeapBackend } from "./heap-backend.ts";
import { openRocksBackend, type RocksKvBackend } from "./rocksdb-backend.ts";

export type BackendKind = "rocksdb" | "heap";

export interface KeyedStateHandle {
  readonly backend: BackendKind;
  /** Path of the snapshot (a directory for RocksDB, a file for heap), relative to the checkpoint root. */
  readonly path: string;
  readonly keyGroups: KeyGroupRange;
  readonly bytes: number;
  readonly newBytes: number;
  readonly files: number;
  /** Every file of the snapshot with its size and checksum (absent in checkpoints of format 1). */
  readonly contents?: readonly StateFile[];
}

export interface StateFile {
  /** Name within the snapshot's directory. */
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

const HEAP_FILE = "state.msgpack";

/**
 * Digests of the previous snapshot's files by identity (name, device, inode, size, mtime), so a
 * file the next snapshot shares (a hard-linked, immutable SST) is not hashed again. A file
 * rewritten in place or a reused inode differs in mtime or size, so it is hashed anew.
 */
export type KnownDigests = ReadonlyMap<string, StateFile>;

export interface SnapshotMeasure {
  readonly bytes: number;
  readonly newBytes: number;
  readonly files: number;
  readonly contents: readonly StateFile[];
  readonly known: KnownDigests;
}

const identityOf = (name: string, info: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint }): string =>
  `${name}/${info.dev}/${info.ino}/${info.size}/${info.mtimeNs}`;

/**
 * The recorded checksums of a restored snapshot's files, by identity: a backend restored by
 * linking those files (same key-group range) shares them with its first snapshot, which then
 * does not hash them again. Files that are gone or changed are left out (they will be hashed).
 */
export const digestsOf = async (source: RestoreSource): Promise<KnownDigests> => {
  const known = new Map<string, StateFile>();
  for (const file of source.handle.contents ?? []) {
    const info = await stat(join(source.absPath, file.name), { bigint: true }).catch(() => undefined);
    if (info !== undefined && info.size === BigInt(file.size)) known.set(identityOf(file.name, info), file);
  }
  return known;
};

/**
 * Synchronous part: a consistent copy of `backend` in `targetDir` (created). `previousDir` is
 * where the previous snapshot of the same backend went (it may be gone by now; across file
 * systems its files are linked instead of copied). Returns a function for the asynchronous part,
 * which fsyncs what was written, measures it and checksums every file not already in `previous`.
 */
export const snapshotBackend = async (
  backend: KvBackend,
  targetDir: string,
  options: { readonly previousDir?: string } = {},
): Promise<(previous: KnownDigests) => Promise<SnapshotMeasure>> => {
  if (backend.kind === "rocksdb") {
    await (backend as RocksKvBackend).checkpointTo(targetDir, options);
  } else {
    const entries: [Buffer, Buffer][] = [];
    for await (const [k, v] of backend.scan({ gte: Buffer.alloc(0), lt: Buffer.from([0xff, 0xff, 0xff]) })) entries.push([k, v]);
    await mkdir(targetDir, { recursive: true });
    await writeFile(join(targetDir, HEAP_FILE), pack(entries));
  }
  return async (previous) => {
    let bytes = 0;
    let newBytes = 0;
    const known = new Map<string, StateFile>();
    const contents: StateFile[] = [];
    const names = (await readdir(targetDir)).sort();
    for (const name of names) {
      const path = join(targetDir, name);
      const info = await stat(path, { bigint: true });
      const identity = identityOf(name, info);
      await fsyncPath(path);
      let file = previous.get(identity);
      if (file === undefined) {
        newBytes += Number(info.size);
        const digest = await sha256File(path);
        file = { name, size: digest.size, sha256: digest.sha256 };
      }
      bytes += file.size;
      known.set(identity, file);
      contents.push(file);
    }
    await fsyncPath(targetDir);
    return { bytes, newBytes, files: names.length, contents, known };
  };
};

/**
 * Checks the files of a snapshot at `absPath` against its handle: with `checksums`, size and
 * SHA-256 of every file; else sizes only (cheap, for listings). Handles without `contents`
 * (format 1) are checked for the presence of their files only. Returns what is wrong, naming
 * the file, or undefined if nothing is. Only damage is returned (a file absent, i.e. ENOENT, or
 * of another size or checksum); any other file-system error (EIO, EACCES, EMFILE, ...) says
 * nothing about the snapshot and is thrown as the retriable external error
 * `CHECKPOINT_READ_FAILED` naming the path. `hash` (default `sha256File`) may be a hash pool's.
 */
export const findSnapshotDamage = async (
  handle: KeyedStateHandle,
  absPath: string,
  checksums: boolean,
  hash: (path: string) => Promise<{ sha256: string; size: number }> = sha256File,
): Promise<string | undefined> => {
  if (handle.contents === undefined) {
    const names = await orMissing(absPath, () => readdir(absPath));
    if (names === undefined) return `${absPath} is missing`;
    return names.length < handle.files ? `${absPath} holds ${names.length} files, ${handle.files} expected` : undefined;
  }
  // Every file is checked at once (a hash pool hashes several in parallel); the damage reported
  // is the first in the handle's order, as if they had been checked one after another.
  const problems = await Promise.all(
    handle.contents.map(async (file): Promise<string | undefined> => {
      const path = join(absPath, file.name);
      const info = await orMissing(path, () => stat(path));
      if (info === undefined) return `${path} is missing`;
      if (info.size !== file.size) return `${path} has ${info.size} bytes, ${file.size} recorded`;
      if (!checksums) return undefined;
      const digest = await orMissing(path, () => hash(path));
      if (digest === undefined) return `${path} is missing`;
      if (digest.size !== file.size) return `${path} has ${digest.size} bytes, ${file.size} recorded`;
      if (digest.sha256 !== file.sha256) return `${path} does not match its recorded checksum (sha256 ${digest.sha256.slice(0, 12)}…, recorded ${file.sha256.slice(0, 12)}…)`;
      return undefined;
    }),
  );
  return problems.find((p) => p !== undefined);
};

/** `read()`, or undefined if `path` does not exist (ENOENT); other errors as `CHECKPOINT_READ_FAILED`. */
const orMissing = async <T>(path: string, read: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await read();
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return undefined;
    throw checkpointReadError(path, e);
  }
};

/** A file-system error other than ENOENT while reading checkpoint data: retriable, naming the path. */
export const checkpointReadError = (path: string, e: unknown) =>
  externalError("CHECKPOINT_READ_FAILED", `cannot read ${path}: ${describeError(e)}; the checkpoint was left as it is (check the file system, then run again)`, { cause: e });

/**
 * Links SST files (copies them across file systems) and copies the rest (RocksDB rewrites
 * MANIFEST and friends on open, which must not reach the checkpoint).
 */
const linkCopy = async (from: string, to: string): Promise<void> => {
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    if (name.endsWith(".sst")) await linkOrCopy(join(from, name), join(to, name));
    else await copyFile(join(from, name), join(to, name));
  }
};

const intersect = (a: KeyGroupRange, b: KeyGroupRange): KeyGroupRange | undefined => {
  const start = Math.max(a.start, b.start);
  const end = Math.min(a.end, b.end);
  return start <= end ? { start, end } : undefined;
};

const openSnapshot = async (handle: KeyedStateHandle, absPath: string, scratch: string): Promise<KvBackend> => {
  if (handle.backend === "heap") {
    const backend = openHeapBackend();
    const entries = unpack(await readFile(join(absPath, HEAP_FILE))) as [Uint8Array, Uint8Array][];
    const ops: KvOp[] = entries.map(([k, v]) => ({ kind: "put", key: Buffer.from(k), value: Buffer.from(v) }));
    await backend.write(ops);
    return backend;
  }
  await linkCopy(absPath, scratch);
  return openRocksBackend({ path: scratch, createIfMissing: false });
};

export interface RestoreSource {
  readonly handle: KeyedStateHandle;
  /** Absolute path of the handle's snapshot. */
  readonly absPath: string;
}

export interface RestoreOptions {
  readonly kind: BackendKind;
  /** The subtask's key-group range at the new parallelism. */
  readonly range: KeyGroupRange;
  readonly sources: readonly RestoreSource[];
  /** Working directory for the restored RocksDB (must not exist yet). */
  readonly workDir: string;
}

/** Key groups of `range` a source holds: the size of their overlap (0 if none). */
const overlapSize = (source: RestoreSource, range: KeyGroupRange): number => {
  const overlap = intersect(source.handle.keyGroups, range);
  return overlap === undefined ? 0 : overlap.end - overlap.start + 1;
};

/**
 * The RocksDB snapshot to restore by linking (the one overlapping `range` most, ties to the
 * first), or undefined when none is RocksDB.
 */
const linkableBase = (sources: readonly RestoreSource[], range: KeyGroupRange): RestoreSource | undefined => {
  let best: RestoreSource | undefined;
  for (const s of sources) {
    if (s.handle.backend !== "rocksdb" || overlapSize(s, range) === 0) continue;
    if (best === undefined || overlapSize(s, range) > overlapSize(best, range)) best = s;
  }
  return best;
};

/** Copies the cells of `overlap` from `from` into `target`, one write in flight while the scan goes on. */
const copyRange = async (from: KvBackend, target: KvBackend, overlap: KeyGroupRange): Promise<void> => {
  let ops: KvOp[] = [];
  let bytes = 0;
  let writing: Promise<void> = Promise.resolve();
  for await (const [key, value] of from.scan(keyGroupByteRange(overlap.start, overlap.end))) {
    ops.push({ kind: "put", key, value });
    bytes += key.length + value.length;
    if (ops.length >= COPY_BATCH_OPS || bytes >= COPY_BATCH_BYTES) {
      await writing;
      writing = target.write(ops);
      ops = [];
      bytes = 0;
    }
  }
  await writing;
  if (ops.length > 0) await target.write(ops);
};

const COPY_BATCH_OPS = 4096;
const COPY_BATCH_BYTES = 4 << 20;

/**
 * A backend holding exactly the cells of `range` found in the snapshots.
 *
 * RocksDB: the snapshot overlapping `range` most is linked into `workDir` and opened as it is;
 * when its range is not `range` (rescaled), every key group outside `range` is deleted with range
 * tombstones, which costs the same whatever they hold (their data stays in the linked files,
 * shared with the checkpoint, until compaction drops it). Only the cells of the other overlapping
 * snapshots (rescaled down) are scanned and copied, so a restore reads no cell through JS at the
 * same parallelism or when scaling up, and at most the snapshots that are not linked when
 * scaling down. Heap (target or snapshots): every overlapping cell is copied.
 */
export const restoreBackend = async (options: RestoreOptions): Promise<KvBackend> => {
  const { kind, range, sources, workDir } = options;
  let target: KvBackend | undefined;
  try {
    const base = kind === "rocksdb" ? linkableBase(sources, range) : undefined;
    if (base !== undefined) {
      await linkCopy(base.absPath, workDir);
      const rocks = await openRocksBackend({ path: workDir, createIfMissing: false });
      target = rocks;
      const held = base.handle.keyGroups;
      if (held.start !== range.start || held.end !== range.end) {
        // Everything outside `range`, whatever the snapshot claims to hold.
        if (range.start > 0) await rocks.deleteRange(keyGroupByteRange(0, range.start - 1));
        await rocks.deleteRange(keyGroupByteRange(range.end + 1, 0xffff));
      }
    } else if (kind === "rocksdb") {
      await mkdir(workDir, { recursive: true });
      target = await openRocksBackend({ path: workDir });
    } else {
      target = openHeapBackend();
    }
    let n = 0;
    for (const source of sources) {
      const overlap = intersect(source.handle.keyGroups, range);
      if (overlap === undefined || source === base) continue;
      const scratch = `${workDir}.restore-${n++}`;
      let from: KvBackend | undefined;
      try {
        from = await openSnapshot(source.handle, source.absPath, scratch);
        await copyRange(from, target, overlap);
      } finally {
        await from?.close();
        await rm(scratch, { recursive: true, force: true });
      }
    }
    return target;
  } catch (e) {
    await target?.close().catch(() => undefined);
    throw externalError("STATE_RESTORE_FAILED", `cannot restore keyed state into ${workDir}: ${describeError(e)}`, {
      cause: e,
      retriable: false,
    });
  }
};
