/**
 * Checkpoint storage on the local file system:
 * `<root>/<job>/chk-<n>/_metadata` plus the state files of checkpoint n beside it.
 *
 * `writeMetadata` is atomic (common/write-file-atomic.ts): a crash leaves either no
 * `_metadata` or a complete one. Reading validates the checksum; loading also verifies the size
 * and SHA-256 of every state file `_metadata` lists. `findLatest` walks back from the newest
 * checkpoint past any that are partial, unreadable or damaged, and says which it skipped and why. The operations are few and path-based, so an object-store version can replace this file.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { userError, externalError, describeError } from "../common/errors.ts";
import { METADATA_FORMAT, type CheckpointMetadata } from "./metadata.ts";
import { findSnapshotDamage } from "../state/snapshot.ts";
import { writeFileAtomic } from "../common/write-file-atomic.ts";

export const METADATA_FILE = "_metadata";

export const jobRoot = (root: string, job: string): string => join(resolve(root), job);
export const checkpointPath = (root: string, job: string, id: number): string => join(jobRoot(root, job), `chk-${id}`);

const checksum = (body: string) => createHash("sha256").update(body).digest("hex");


export const writeMetadata = async (dir: string, metadata: CheckpointMetadata): Promise<void> => {
  const body = JSON.stringify(metadata);
  const text = JSON.stringify({ checksum: checksum(body), body });
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, METADATA_FILE), text);
};

/** Reads and validates `<dir>/_metadata`; a user error (naming the path) if absent or corrupt. */
export const readMetadata = async (dir: string): Promise<CheckpointMetadata> => {
  const path = join(dir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw userError("CHECKPOINT_NOT_FOUND", `no checkpoint metadata at ${path}: ${describeError(e)}`);
  }
  try {
    const outer = JSON.parse(text) as { checksum?: unknown; body?: unknown };
    if (typeof outer.body !== "string" || outer.checksum !== checksum(outer.body)) throw new Error("checksum mismatch");
    const metadata = JSON.parse(outer.body) as CheckpointMetadata;
    if (metadata.format !== 1 && metadata.format !== METADATA_FORMAT) throw new Error(`unknown format ${String(metadata.format)}`);
    return metadata;
  } catch (e) {
    throw userError("CHECKPOINT_CORRUPT", `checkpoint metadata ${path} is corrupt (${describeError(e)})`);
  }
};

/**
 * Checks every state file that the metadata of the checkpoint in `dir` lists (handle paths are
 * relative to the folder holding `dir`, where they are restored from): size and checksum
 * (`"checksums"`, before a restore uses it), or size only (`"sizes"`, for listings). A user
 * error naming the file if one is missing or damaged.
 */
export const verifyFiles = async (dir: string, metadata: CheckpointMetadata, depth: "checksums" | "sizes" = "checksums"): Promise<void> => {
  for (const task of metadata.tasks) {
    for (const k of task.keyed) {
      const path = join(dirname(resolve(dir)), k.handle.path);
      const damage = await findSnapshotDamage(k.handle, path, depth === "checksums");
      if (damage !== undefined) {
        throw userError("CHECKPOINT_CORRUPT", `checkpoint ${metadata.id} is damaged: state file of '${k.operator}' ${damage}`);
      }
    }
  }
};

/** Ids of every `chk-<n>` directory of the job, ascending (complete or not). */
export const listCheckpointIds = async (root: string, job: string): Promise<number[]> => {
  let names: string[];
  try {
    names = await readdir(jobRoot(root, job));
  } catch {
    return [];
  }
  return names
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
  const names = await readdir(jobRoot(root, job)).catch(() => [] as string[]);
  return Math.max(0, ...names.map((n) => /^chk-(\d+)(\.corrupt)?$/.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])));
};

export interface FoundCheckpoint {
  readonly dir: string;
  readonly metadata: CheckpointMetadata;
}

/** A checkpoint above the latest usable one: without `_metadata` (partial) or unreadable/damaged. */
export interface SkippedCheckpoint {
  readonly id: number;
  readonly reason: "partial" | "damaged";
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
    const hasMetadata = await stat(join(dir, METADATA_FILE)).then(
      () => true,
      () => false,
    );
    if (!hasMetadata) {
      if (latest === undefined) skipped.push({ id, reason: "partial", message: `checkpoint ${id} is partial (no ${METADATA_FILE}); skipped` });
      continue;
    }
    if (latest !== undefined) {
      older.unshift(id);
      continue;
    }
    try {
      latest = await loadCheckpoint(dir);
    } catch (e) {
      const what = describeError(e);
      skipped.push({
        id,
        reason: "damaged",
        message: `${what.startsWith(`checkpoint ${id} `) ? what : `checkpoint ${id} is unreadable: ${what}`}; set aside as chk-${id}.corrupt, falling back to the previous one (what checkpoint ${id} committed is retracted, or refused for sinks that cannot retract)`,
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
