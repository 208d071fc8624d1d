/**
 * A lock file owned by a live process: `path` holds JSON `{ pid, ...details }` of its holder
 * (or the bare pid when there are no details).
 * Taking it fails (a value, not an exception) while the holder process is alive; a lock whose
 * process is gone (killed) is stale and taken over; the same process may take it again
 * (restarts inside one process). Created with O_EXCL, so two processes never both succeed.
 */
import { open, readFile, rm } from "node:fs/promises";
import { isRunning } from "./process-identity.ts";

export interface LockHolder {
  readonly pid: number;
  /** What the holder wrote besides its pid. */
  readonly details: Readonly<Record<string, unknown>>;
}

export type PidLockResult =
  | { readonly kind: "taken"; release(): Promise<void> }
  | { readonly kind: "held"; readonly holder: LockHolder };

/** Reads a lock file: JSON `{ pid, ... }`, or a bare pid (older lock files). */
const readHolder = async (path: string): Promise<LockHolder | undefined> => {
  const text = (await readFile(path, "utf8").catch(() => "")).trim();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "number") return { pid: parsed, details: {} };
    if (typeof parsed === "object" && parsed !== null && typeof (parsed as { pid?: unknown }).pid === "number") {
      const { pid, ...details } = parsed as { pid: number };
      return { pid, details };
    }
  } catch {
    // torn or foreign content: treated as stale
  }
  return undefined;
};

export const takePidLock = async (path: string, details: Readonly<Record<string, unknown>> = {}): Promise<PidLockResult> => {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, "wx");
      // Without details the file is the bare pid, so `kill "$(cat <lock>)"` works from a shell.
      await handle.writeFile(Object.keys(details).length === 0 ? String(process.pid) : JSON.stringify({ pid: process.pid, ...details }));
      await handle.close();
      return { kind: "taken", release: () => rm(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = await readHolder(path);
      if (holder !== undefined && Number.isInteger(holder.pid) && holder.pid > 0 && holder.pid !== process.pid && (await isRunning({ pid: holder.pid }))) {
        return { kind: "held", holder };
      }
      await rm(path, { force: true }); // stale: its process is gone (or it is ours)
    }
  }
  throw new Error(`could not take the lock ${path}`);
};
