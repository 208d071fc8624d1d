/**
 * A directory on another file system than `near`, for tests of state and checkpoints on
 * separate volumes: a fresh folder in /dev/shm (a tmpfs) when that is another file system, else
 * a tmpfs mounted for the test (needs root). `unavailable` says why neither worked, so a test can
 * print the reason and skip.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export type SecondFs =
  | { readonly kind: "available"; readonly dir: string; readonly how: string; cleanup(): Promise<void> }
  | { readonly kind: "unavailable"; readonly reason: string };

const run = promisify(execFile);
const deviceOf = async (path: string) => (await stat(path)).dev;

export const secondFileSystem = async (near: string): Promise<SecondFs> => {
  const home = await deviceOf(near);
  const shm = await mkdtemp("/dev/shm/weir-second-fs-").catch(() => undefined);
  if (shm !== undefined) {
    if ((await deviceOf(shm)) !== home) {
      return { kind: "available", dir: shm, how: "/dev/shm", cleanup: () => rm(shm, { recursive: true, force: true }) };
    }
    await rm(shm, { recursive: true, force: true });
  }
  const mountPoint = await mkdtemp(join(tmpdir(), "weir-tmpfs-"));
  try {
    await run("mount", ["-t", "tmpfs", "-o", "size=512m", "weir-test", mountPoint]);
  } catch (e) {
    await rm(mountPoint, { recursive: true, force: true });
    return { kind: "unavailable", reason: `/dev/shm is not another file system and mounting a tmpfs failed: ${(e as Error).message}` };
  }
  if ((await deviceOf(mountPoint)) === home) {
    await run("umount", [mountPoint]).catch(() => undefined);
    await rm(mountPoint, { recursive: true, force: true });
    return { kind: "unavailable", reason: `a tmpfs mounted at ${mountPoint} reports the same device as ${near}` };
  }
  return {
    kind: "available",
    dir: mountPoint,
    how: `tmpfs mounted at ${mountPoint}`,
    cleanup: async () => {
      await run("umount", [mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    },
  };
};
