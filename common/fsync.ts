import { open } from "node:fs/promises";

/** fsyncs a file or directory by path (a directory's fsync makes renames and new entries in it durable). */
export const fsyncPath = async (path: string): Promise<void> => {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};
