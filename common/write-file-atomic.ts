/**
 * Replaces a file atomically and durably: after a crash of the process or the machine, `path`
 * holds either its old content or all of the new, never a torn mix.
 *
 *   await writeFileAtomic(join(dir, "completed.json"), JSON.stringify({ id: 7 }));
 *
 * The data is written to `<dir>/.<name>.tmp` and fsynced, renamed over `path`, and the directory
 * fsynced (so the rename itself survives a power loss). The temp name is fixed: one writer per
 * path at a time; a temp file left by a crash is simply overwritten by the next write. Fails
 * (with the file system's error) if the directory does not exist or cannot be written.
 */
import { open, rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fsyncPath } from "./fsync.ts";

export const writeFileAtomic = async (path: string, data: string | Uint8Array): Promise<void> => {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp`);
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await fsyncPath(dir);
};
