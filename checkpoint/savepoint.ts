/**
 * Savepoints: a completed checkpoint copied into a directory the user owns, self-contained and
 * relocatable. Every file is copied (never hard-linked into the job's checkpoint folder, whose
 * retention or `--fresh` may delete it), and the metadata's state paths are made relative to the
 * savepoint's own directory (`CheckpointMetadata.savepoint`), so the directory may be renamed,
 * moved or copied to another machine and still restores with `weir run --from <dir>`.
 *
 * Crash safety: the copy is made under a hidden temporary name and renamed into place once its
 * metadata is written, so a savepoint directory that exists is complete; the copy is checked
 * against the metadata's sizes and checksums and fsynced before that rename (a file damaged while
 * copying is an error, not a savepoint). The temporary's name holds the writer's pid: one left by
 * a killed process is removed by the next savepoint into the same directory, one of a live
 * process (another copy in progress) is not.
 *
 * The caller keeps the checkpoint from being deleted (retention) while it is copied.
 */
import { randomBytes } from "node:crypto";
import { cp, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { isRunning } from "../common/process-identity.ts";
import { fsyncPath } from "../common/fsync.ts";
import { makeDirectory } from "../common/path-errors.ts";
import { externalError, describeError } from "../common/errors.ts";
import type { CheckpointMetadata } from "./metadata.ts";
import { readMetadata, verifyFiles, writeMetadata } from "./storage.ts";
import { METADATA_FILE } from "./storage.ts";

const TEMPORARY = ".savepoint-in-progress-";

/** Removes the temporaries of writers that are gone. */
const removeAbandoned = async (target: string): Promise<void> => {
  for (const entry of await readdir(target)) {
    const m = new RegExp(`^\\${TEMPORARY}(\\d+)-`).exec(entry);
    if (m !== null && Number(m[1]) !== process.pid && !(await isRunning({ pid: Number(m[1]) }))) {
      await rm(join(target, entry), { recursive: true, force: true });
    }
  }
};

/** Flushes every file under `dir`, then the directories themselves, to the disk. */
const syncTree = async (dir: string): Promise<void> => {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else await fsyncPath(path);
  }
  await fsyncPath(dir);
};

/**
 * Copies the completed checkpoint in `checkpointDir` into a new directory under `target` and
 * returns its path (`<target>/savepoint-<job>-chk<n>-<random>`). Fails with SAVEPOINT_FAILED
 * (external, retriable) naming the directory when the copy cannot be made.
 */
export const writeSavepoint = async (checkpointDir: string, target: string, now: number): Promise<string> => {
  const metadata = await readMetadata(checkpointDir);
  const name = `savepoint-${metadata.job}-chk${metadata.id}-${randomBytes(4).toString("hex")}`;
  const temporary = join(target, `${TEMPORARY}${process.pid}-${name}`);
  const final = join(target, name);
  try {
    // Not mkdir's recursive mode: it spins forever on a path such as /proc/x.
    await makeDirectory(target);
    await removeAbandoned(target);
    // Copies, not links: `cp` writes every file anew.
    await cp(checkpointDir, temporary, { recursive: true, filter: (source) => !source.endsWith(`/${METADATA_FILE}`) });
    const prefix = `chk-${metadata.id}/`;
    const relocated: CheckpointMetadata = {
      ...metadata,
      savepoint: { fromCheckpoint: metadata.id, createdAt: now },
      tasks: metadata.tasks.map((t) => ({
        ...t,
        keyed: t.keyed.map((k) => {
          if (!k.handle.path.startsWith(prefix)) throw new Error(`state of '${k.operator}' lies outside checkpoint ${metadata.id} (${k.handle.path})`);
          return { ...k, handle: { ...k.handle, path: k.handle.path.slice(prefix.length) } };
        }),
      })),
    };
    await writeMetadata(temporary, relocated);
    await verifyFiles(temporary, relocated);
    await syncTree(temporary);
    await rename(temporary, final);
    await fsyncPath(target);
    return final;
  } catch (e) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    throw externalError("SAVEPOINT_FAILED", `could not write a savepoint of checkpoint ${metadata.id} into ${target}: ${describeError(e)}`, { cause: e, retriable: true });
  }
};
