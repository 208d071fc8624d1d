/**
 * The one way Weir puts an immutable file (an SST, a checkpoint file) at a second path.
 *
 *   await linkOrCopy(".weir/job/state/run/op/0/000012.sst", "chk-7/op/0/000012.sst", {
 *     sameFileAt: "chk-6/op/0/000012.sst", // optional: an identical file on the target's side
 *   });
 *
 * A hard link when the file system allows it (free, and the file is stored once); otherwise a
 * hard link to `sameFileAt` when given, present and of the same size (so an incremental
 * checkpoint on another volume still shares unchanged files with the previous one); otherwise a
 * copy (a reflink where the file system can clone). Copying instead of linking happens on another
 * file system (EXDEV: state and checkpoints on different volumes, the normal deployment), a file
 * system without hard links (EPERM, ENOTSUP, EOPNOTSUPP) or a file at its link limit (EMLINK).
 *
 * Contract: only for files nobody modifies afterwards (a link shares the inode); `sameFileAt`
 * must be a file with the same content when it exists (e.g. the same SST name of the same DB).
 * `to` must not exist. Any other failure (missing source, existing target, no space) rejects with
 * the file system's error unchanged; a failed copy may leave a partial `to`, which the caller
 * removes with the directory it was writing.
 */
import { constants } from "node:fs";
import { copyFile, link, stat } from "node:fs/promises";

const COPY_INSTEAD = new Set(["EXDEV", "EPERM", "ENOTSUP", "EOPNOTSUPP", "EMLINK"]);

export type Placement = "linked" | "linked-same-file" | "copied";

export const linkOrCopy = async (from: string, to: string, options: { sameFileAt?: string } = {}): Promise<Placement> => {
  try {
    await link(from, to);
    return "linked";
  } catch (e) {
    if (!COPY_INSTEAD.has((e as NodeJS.ErrnoException).code ?? "")) throw e;
  }
  const same = options.sameFileAt;
  if (same !== undefined) {
    const sizes = await Promise.all([stat(from), stat(same)]).catch(() => undefined);
    if (sizes !== undefined && sizes[0].size === sizes[1].size) {
      const linked = await link(same, to).then(
        () => true,
        () => false, // gone meanwhile (its checkpoint was deleted) or not linkable either: copy
      );
      if (linked) return "linked-same-file";
    }
  }
  await copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  return "copied";
};
