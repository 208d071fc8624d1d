/**
 * Checkpoint storage on the local file system:
 * `<root>/<job>/chk-<n>/_metadata` plus the state files of checkpoint n beside it.
 *
 * `writeMetadata` is atomic (temp file, fsync, rename, fsync dir): a crash leaves either no
 * `_metadata` or a complete one. Reading validates the checksum; `findLatest` walks back from
 * the newest checkpoint past any that are partial or unreadable, and says which it skipped and
 * why. The operations are few and path-based, so an object-store version can replace this file.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { userError, externalError, describeError } from "../common/errors.ts";
import type { CheckpointMetadata } from "./metadata.ts";
import { fsyncPath } from "../common/fsync.ts";

export const METADATA_FILE = "_metadata";

export const jobRoot = (root: string, job: string): string => join(resolve(root), job);
export const checkpointPath = (root: string, job: string, id: number): string => join(jobRoot(root, job), `chk-${id}`);

const checksum = (body: string) => createHash("sha256").update(body).digest("hex");


export const writeMetadata = async (dir: string, metadata: CheckpointMetadata): Promise<void> => {
  const body = JSON.stringify(metadata);
  const text = JSON.stringify({ checksum: checksum(body), body });
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${METADATA_FILE}.tmp`);
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, METADATA_FILE));
  await fsyncPath(dir);
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
    if (metadata.format !== 1) throw new Error(`unknown format ${String(metadata.format)}`);
    return metadata;
  } catch (e) {
    throw userError("CHECKPOINT_CORRUPT", `checkpoint metadata ${path} is corrupt (${describeError(e)})`);
  }
};

/** Checks that every state file the metadata names is present. */
export const verifyFiles = async (root: string, metadata: CheckpointMetadata): Promise<void> => {
  for (const task of metadata.tasks) {
    for (const k of task.keyed) {
      const path = join(jobRoot(root, metadata.job), k.handle.path);
      try {
        const names = await readdir(path);
        if (names.length < k.handle.files) throw new Error(`${k.handle.files} files expected, ${names.length} found`);
      } catch (e) {
        throw userError("CHECKPOINT_CORRUPT", `checkpoint ${metadata.id} state of '${k.operator}' at ${path} is missing or incomplete (${describeError(e)})`);
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

export interface FoundCheckpoint {
  readonly dir: string;
  readonly metadata: CheckpointMetadata;
}

export interface LatestResult {
  readonly latest: FoundCheckpoint | undefined;
  /** Valid checkpoints older than the latest, ascending (for retention). */
  readonly older: readonly number[];
  /** Newest-first messages about checkpoints that were skipped. */
  readonly skipped: readonly string[];
  /** Every id present on disk (the next checkpoint id is above all of them). */
  readonly allIds: readonly number[];
}

export const loadCheckpoint = async (root: string, dir: string): Promise<FoundCheckpoint> => {
  const metadata = await readMetadata(dir);
  await verifyFiles(root, metadata);
  return { dir, metadata };
};

export const findLatest = async (root: string, job: string): Promise<LatestResult> => {
  const ids = await listCheckpointIds(root, job);
  const skipped: string[] = [];
  let latest: FoundCheckpoint | undefined;
  const older: number[] = [];
  for (const id of [...ids].reverse()) {
    const dir = checkpointPath(root, job, id);
    const hasMetadata = await stat(join(dir, METADATA_FILE)).then(
      () => true,
      () => false,
    );
    if (!hasMetadata) {
      if (latest === undefined) skipped.push(`checkpoint ${id} is partial (no ${METADATA_FILE}); skipped`);
      continue;
    }
    if (latest !== undefined) {
      older.unshift(id);
      continue;
    }
    try {
      latest = await loadCheckpoint(root, dir);
    } catch (e) {
      skipped.push(
        `checkpoint ${id} is unreadable: ${describeError(e)}; falling back to the previous one (if checkpoint ${id} had already committed its sink transactions, their output will be written again)`,
      );
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
