/**
 * Checkpoint storage on the local file system:
 * `<root>/<job>/chk-<n>/_metadata` plus the state files of checkpoint n beside it.
 *
 * `writeMetadata` is atomic (common/write-file-atomic.ts): a crash leaves either no
 * `_metadata` or a complete one. Reading validates the checksum; loading also verifies the size
 * and SHA-256 of every state file `_metadata` lists. `findLatest` walks back from the newest
 * checkpoint past any that are partial or damaged, and says which it skipped and why. The
 * operations are few and path-based, so an object-store version can replace this file.
 *
 * What counts as damage (`CHECKPOINT_CORRUPT`, the only error a fallback skips): a `_metadata`
 * that is torn or fails its checksum, a state file it lists that is absent (ENOENT), or of
 * another size, or of another checksum. Everything else stops the caller instead:
 * - a `_metadata` of a format this Weir does not know (checksum valid: written by a newer Weir,
 *   e.g. before a version rollback) is the user error `CHECKPOINT_UNSUPPORTED_FORMAT`;
 * - any other file-system error (EIO, EACCES, EMFILE, ...) is the retriable external error
 *   `CHECKPOINT_READ_FAILED` naming the path: the checkpoint may be intact.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { userError, externalError, describeError, isWeirError } from "../common/errors.ts";
import { METADATA_FORMAT, snapshotBase, type CheckpointMetadata } from "./metadata.ts";
import { checkpointReadError, findSnapshotDamage } from "../state/snapshot.ts";
import { errnoOf } from "../common/path-errors.ts";
import { writeFileAtomic } from "../common/write-file-atomic.ts";
import { openHashPool } from "../common/hash-pool.ts";
import { availableParallelism } from "node:os";

export const METADATA_FILE = "_metadata";

export const jobRoot = (root: string, job: string): string => join(resolve(root), job);
export const checkpointPath = (root: string, job: string, id: number): string => join(jobRoot(root, job), `chk-${id}`);

const checksum = (body: string) => createHash("sha256").update(body).digest("hex");

/** The entries of a job's checkpoint folder; none if it does not exist. */
const jobEntries = async (root: string, job: string): Promise<string[]> => {
  try {
    return await readdir(jobRoot(root, job));
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return [];
    throw checkpointReadError(jobRoot(root, job), e);
  }
};

export const writeMetadata = async (dir: string, metadata: CheckpointMetadata): Promise<void> => {
  const body = JSON.stringify(metadata);
  const text = JSON.stringify({ checksum: checksum(body), body });
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, METADATA_FILE), text);
};

/**
 * Reads and validates `<dir>/_metadata`: `CHECKPOINT_NOT_FOUND` if absent, `CHECKPOINT_CORRUPT` if
 * torn or its checksum fails, `CHECKPOINT_UNSUPPORTED_FORMAT` if its format is unknown,
 * `CHECKPOINT_READ_FAILED` (external) for any other read error; each names the path.
 */
export const readMetadata = async (dir: string): Promise<CheckpointMetadata> => {
  const path = join(dir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (errnoOf(e) !== "ENOENT") throw checkpointReadError(path, e);
    throw userError("CHECKPOINT_NOT_FOUND", `no checkpoint metadata at ${path}: ${describeError(e)}`);
  }
  let metadata: CheckpointMetadata;
  try {
    const outer = JSON.parse(text) as { checksum?: unknown; body?: unknown };
    if (typeof outer.body !== "string" || outer.checksum !== checksum(outer.body)) throw new Error("checksum mismatch");
    metadata = JSON.parse(outer.body) as CheckpointMetadata;
  } catch (e) {
    throw userError("CHECKPOINT_CORRUPT", `checkpoint metadata ${path} is corrupt (${describeError(e)})`);
  }
  if (metadata.format !== 1 && metadata.format !== METADATA_FORMAT) {
    throw userError(
      "CHECKPOINT_UNSUPPORTED_FORMAT",
      `checkpoint metadata ${path} has format ${JSON.stringify(metadata.format)}, which this Weir does not know (it reads formats 1-${METADATA_FORMAT}; written by a newer Weir?): run the Weir that wrote it, or start over with --fresh --overwrite-output`,
    );
  }
  return metadata;
};

/**
 * Checks every state file that the metadata of the checkpoint in `dir` lists (handle paths are
 * relative to the folder holding `dir`, where they are restored from): size and checksum
 * (`"checksums"`, before a restore uses it), or size only (`"sizes"`, for listings). A user
 * error naming the file if one is missing or damaged (the first in metadata order). Files are
 * checked concurrently; from 64 MiB of state on, hashed on worker threads (common/hash-pool.ts).
 */
export const verifyFiles = async (dir: string, metadata: CheckpointMetadata, depth: "checksums" | "sizes" = "checksums"): Promise<void> => {
  const keyed = metadata.tasks.flatMap((t) => t.keyed);
  const bytes = keyed.reduce((n, k) => n + (k.handle.contents ?? []).reduce((m, f) => m + f.size, 0), 0);
  // Large checkpoints are hashed on every core; a small one is not worth starting workers.
  const pool = depth === "checksums" && bytes >= POOL_MIN_BYTES ? openHashPool({ workers: Math.min(availableParallelism(), MAX_HASH_WORKERS) }) : undefined;
  try {
    const damages = await Promise.all(
      keyed.map((k) => findSnapshotDamage(k.handle, join(snapshotBase(metadata, dir), k.handle.path), depth === "checksums", pool?.hash)),
    );
    const at = damages.findIndex((d) => d !== undefined);
    if (at >= 0) {
      throw userError("CHECKPOINT_CORRUPT", `checkpoint ${metadata.id} is damaged: state file of '${keyed[at]!.operator}' ${damages[at]}`);
    }
  } finally {
    await pool?.close();
  }
};

const POOL_MIN_BYTES = 64 << 20;
const MAX_HASH_WORKERS = 4;

/** Ids of every `chk-<n>` directory of the job, ascending (complete or not). */
export const listCheckpointIds = async (root: string, job: string): Promise<number[]> => {
  return (await jobEntries(root, job))
    .map((n) => /^chk-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
};

/**
 * The highest checkpoint id ever used by the job: of `chk-<n>` and of `chk-<n>.corrupt` (set
 * aside), so a new checkpoint never reuses the id of one set aside (sinks name output by it).
 */
export const highestCheckpointId = async (root: string, job: string): Promise<number> => {
  const names = await jobEntries(root, job);
  return Math.max(0, ...names.map((n) => /^chk-(\d+)(\.corrupt)?$/.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])));
};

/** Whether `<dir>/_metadata` exists (ENOENT: no; any other error is thrown, naming the path). */
const hasMetadataFile = async (dir: string): Promise<boolean> => {
  try {
    await stat(join(dir, METADATA_FILE));
    return true;
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return false;
    throw checkpointReadError(join(dir, METADATA_FILE), e);
  }
};

/**
 * The highest id of the job's checkpoints that completed (have a `_metadata`, readable or not),
 * of `chk-<n>` and of `chk-<n>.corrupt`; 0 if none.
 */
export const highestCompletedCheckpointId = async (root: string, job: string): Promise<number> => {
  let highest = 0;
  for (const name of await jobEntries(root, job)) {
    const m = /^chk-(\d+)(\.corrupt)?$/.exec(name);
    if (m === null || Number(m[1]) <= highest) continue;
    if (await hasMetadataFile(join(jobRoot(root, job), name))) highest = Number(m[1]);
  }
  return highest;
};

export interface FoundCheckpoint {
  readonly dir: string;
  readonly metadata: CheckpointMetadata;
}

/** A checkpoint above the latest usable one: without `_metadata` (partial) or damaged (`CHECKPOINT_CORRUPT`). */
export interface SkippedCheckpoint {
  readonly id: number;
  readonly reason: "partial" | "damaged";
  /** What is wrong with it, one line naming the file. */
  readonly problem: string;
  /** `problem` and what is done about it (set aside, falling back). */
  readonly message: string;
}

export interface LatestResult {
  readonly latest: FoundCheckpoint | undefined;
  /** Valid checkpoints older than the latest, ascending (for retention). */
  readonly older: readonly number[];
  /** Newest first: the checkpoints that were skipped, each with a one-line message. */
  readonly skipped: readonly SkippedCheckpoint[];
  /** Every id present on disk (the next checkpoint id is above all of them). */
  readonly allIds: readonly number[];
}

/** Reads a checkpoint and verifies its files (see `verifyFiles`); a user error naming what is wrong. */
export const loadCheckpoint = async (dir: string, depth: "checksums" | "sizes" = "checksums"): Promise<FoundCheckpoint> => {
  const metadata = await readMetadata(dir);
  await verifyFiles(dir, metadata, depth);
  return { dir, metadata };
};

export const findLatest = async (root: string, job: string): Promise<LatestResult> => {
  const ids = await listCheckpointIds(root, job);
  const skipped: SkippedCheckpoint[] = [];
  let latest: FoundCheckpoint | undefined;
  const older: number[] = [];
  for (const id of [...ids].reverse()) {
    const dir = checkpointPath(root, job, id);
    const hasMetadata = await hasMetadataFile(dir);
    if (!hasMetadata) {
      if (latest === undefined) skipped.push({ id, reason: "partial", problem: `checkpoint ${id} is partial (no ${METADATA_FILE})`, message: `checkpoint ${id} is partial (no ${METADATA_FILE}); skipped` });
      continue;
    }
    if (latest !== undefined) {
      older.unshift(id);
      continue;
    }
    try {
      latest = await loadCheckpoint(dir);
    } catch (e) {
      // Only damage is skipped: an unknown format or a read error stops here, changing nothing.
      if (!isWeirError(e) || e.code !== "CHECKPOINT_CORRUPT") throw e;
      const what = describeError(e);
      const problem = what.startsWith(`checkpoint ${id} `) ? what : `checkpoint ${id} is unreadable: ${what}`;
      skipped.push({
        id,
        reason: "damaged",
        problem,
        message: `${problem}; set aside as chk-${id}.corrupt, falling back to the previous one (what checkpoint ${id} committed is retracted, or refused for sinks that cannot retract)`,
      });
    }
  }
  return { latest, older, skipped, allIds: ids };
};

export const discardCheckpoint = async (root: string, job: string, id: number): Promise<void> => {
  try {
    await rm(checkpointPath(root, job, id), { recursive: true, force: true });
  } catch (e) {
    throw externalError("CHECKPOINT_DISCARD_FAILED", `cannot delete checkpoint ${id} of '${job}': ${describeError(e)}`, { cause: e });
  }
};

/**
 * Deletes the job's checkpoint lineage (for `--fresh`): every `chk-<n>` and `chk-<n>.corrupt`
 * directory, oldest first, then the files named in `records` (the highest-completed record, which
 * keeps counting the deleted checkpoints until it goes). Nothing else in the job's folder is
 * touched: the lock, the run records, and the working state of live runs (`state/`, the default
 * state directory when `--checkpoint-dir` is `.weir`) stay. Killed half-way, the newest
 * checkpoints remain and a run with `--fresh` finishes the job.
 */
export const discardLineage = async (root: string, job: string, records: readonly string[]): Promise<void> => {
  const dirs = (await jobEntries(root, job))
    .map((name) => ({ name, m: /^chk-(\d+)(\.corrupt)?$/.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]) || a.name.localeCompare(b.name))
    .map((e) => e.name);
  const paths = [...dirs, ...records.flatMap((r) => [`${r}.tmp`, r])].map((name) => join(jobRoot(root, job), name));
  for (const path of paths) {
    try {
      await rm(path, { recursive: true, force: true });
    } catch (e) {
      throw externalError("CHECKPOINT_DISCARD_FAILED", `cannot delete ${path} (--fresh): ${describeError(e)}`, { cause: e });
    }
  }
};
