/**
 * Errors about paths the user chose (an input, an output directory, the checkpoint or state
 * directory), and a `mkdir -p` that always ends.
 *
 * `pathError` classifies a file-system failure by its errno: a path that cannot be used as given
 * (read-only file system, permission denied, a parent that is a file, ...) is a non-retriable
 * user error — retrying will not change it, the user must pick another path; anything else (disk
 * full, I/O error, too many open files) is a retriable external error. Either way the message is
 * one line naming the path, the reason in words, and what to do.
 */
import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { externalError, userError, describeError, type WeirError } from "./errors.ts";

/** errno codes that say "this path cannot be used as given", with the reason in words. */
const PATH_PROBLEMS: Readonly<Record<string, string>> = {
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a parent of it is a file, not a directory",
  EEXIST: "it exists and is not a directory",
  EISDIR: "it is a directory",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
  // A mkdir whose parent exists yet fails with ENOENT: the file system (e.g. /proc) refuses it.
  ENOENT: "no such file or directory, or the file system does not allow creating it",
};

/** The errno code (`ENOENT`, `EIO`, ...) of a file-system error, undefined for anything else. */
export const errnoOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/**
 * `cannot <action> <path>: <reason>; <fix>`: a user error (code `code`) when the path itself is
 * the problem, else an external, retriable one.
 */
export const pathError = (code: string, action: string, path: string, e: unknown, fix: string): WeirError => {
  const errno = errnoOf(e);
  const problem = errno === undefined ? undefined : PATH_PROBLEMS[errno];
  return problem !== undefined
    ? userError(code, `cannot ${action} ${path}: ${problem} (${errno}); ${fix}`, { cause: e })
    : externalError(code, `cannot ${action} ${path}: ${describeError(e)}`, { cause: e });
};

/**
 * Creates `path` and its missing parents, like `mkdir -p`. Unlike `mkdir(path, { recursive: true })`
 * of Node 20 it never loops (that one spins forever on a path such as /proc/x): each level is
 * tried at most twice. Throws the file system's error (with its errno) for the level that failed;
 * an existing non-directory at `path` fails with EEXIST.
 */
export const makeDirectory = async (path: string): Promise<void> => {
  try {
    await mkdir(path);
    return;
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === "EEXIST") {
      if ((await stat(path)).isDirectory()) return;
      throw e;
    }
    if (errno !== "ENOENT" || dirname(path) === path) throw e;
  }
  await makeDirectory(dirname(path));
  try {
    await mkdir(path);
  } catch (e) {
    if (errnoOf(e) === "EEXIST" && (await stat(path)).isDirectory()) return; // created meanwhile
    throw e;
  }
};
