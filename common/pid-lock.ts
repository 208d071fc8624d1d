/**
 * A lock file owned by a live process: `path` holds JSON `{ pid, ...details }` of its holder
 * (or the bare pid when there are no details).
 * Taking it fails (a value, not an exception) while the holder process is alive; a lock whose
 * process is gone (killed) is stale and taken over; the same process may take it again
 * (restarts inside one process). Of several processes racing for it, at most one takes it:
 *
 * - a lock file is created complete (written to a private file, then hard-linked into place,
 *   which fails if it exists), so no reader ever sees it empty or half written;
 * - a stale lock file is removed only under its takeover claim `<path>.takeover`, itself a pid
 *   lock of this kind, and only if it is still stale once the claim is held. Without the claim,
 *   two processes that both saw the dead holder would both remove "the stale file", and the
 *   second would remove the first one's fresh lock. A claim left by a process killed while
 *   taking over is stale in turn and taken over the same way (`<path>.takeover.takeover`).
 */
import { link, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { sleep, systemClock } from "./clock.ts";
import { isRunning } from "./process-identity.ts";

export interface LockHolder {
  readonly pid: number;
  /** What the holder wrote besides its pid. */
  readonly details: Readonly<Record<string, unknown>>;
}

export type PidLockResult =
  | { readonly kind: "taken"; release(): Promise<void> }
  | { readonly kind: "held"; readonly holder: LockHolder };

/** Parses a lock file: JSON `{ pid, ... }`, or a bare pid (older lock files); undefined if torn or foreign. */
const parseHolder = (text: string): LockHolder | undefined => {
  try {
    const parsed = JSON.parse(text.trim()) as unknown;
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

/**
 * What is at `path` now: nothing (its holder just released it), a live holder other than this
 * process, or a stale lock (its process is gone, its content torn or foreign, or it is ours,
 * which this process takes again).
 */
type LockState = { readonly kind: "missing" } | { readonly kind: "live"; readonly holder: LockHolder } | { readonly kind: "stale" };

const inspect = async (path: string): Promise<LockState> => {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw e;
  }
  const holder = parseHolder(text);
  const live =
    holder !== undefined && Number.isInteger(holder.pid) && holder.pid > 0 && holder.pid !== process.pid && (await isRunning({ pid: holder.pid }));
  return live ? { kind: "live", holder } : { kind: "stale" };
};

/** Claims nest one level per process killed while taking over; past this something is wrong. */
const MAX_CLAIM_DEPTH = 8;

let privateFiles = 0;

/**
 * Creates `path` holding `content` unless it exists (then false): the content is written to a
 * private file first and hard-linked into place, so the lock file appears complete. The private
 * file is removed either way (one is left behind only if the process dies in between).
 */
const createComplete = async (path: string, content: string): Promise<boolean> => {
  const own = `${path}.${process.pid}-${privateFiles++}.tmp`;
  await writeFile(own, content, { flag: "wx" });
  try {
    await link(own, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await rm(own, { force: true });
  }
};

/** Attempts before giving up; each retry follows another process's progress (a release, a takeover). */
const ATTEMPTS = 50;
/** How long to wait for another process's takeover (a few file operations) before looking again. */
const TAKEOVER_WAIT_MS = 10;

const take = async (path: string, content: string, depth: number): Promise<PidLockResult> => {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (await createComplete(path, content)) {
      // Best effort: the lock is ours whether or not a stale claim could be tidied.
      await tidyClaims(path, depth).catch(() => undefined);
      return { kind: "taken", release: () => rm(path, { force: true }) };
    }
    const seen = await inspect(path);
    if (seen.kind === "live") return { kind: "held", holder: seen.holder };
    if (seen.kind === "missing") continue; // released just now
    if (depth >= MAX_CLAIM_DEPTH) break;
    const claim = await take(`${path}.takeover`, String(process.pid), depth + 1);
    if (claim.kind === "held") {
      // Another live process is taking it over: look again once it is done (to report who holds
      // it then, with their details); if it takes too long, it is the holder to report.
      if (attempt === ATTEMPTS) return claim;
      await sleep(systemClock, TAKEOVER_WAIT_MS);
      continue;
    }
    try {
      // Under the claim nobody else removes it, and nobody can replace it while it exists: if it
      // is stale now, it is a stale file nobody else touches. (If it is missing now, someone may
      // be creating it this moment: not ours to remove.)
      const now = await inspect(path);
      if (now.kind === "live") return { kind: "held", holder: now.holder };
      if (now.kind === "stale") await rm(path, { force: true });
    } finally {
      await claim.release();
    }
  }
  throw new Error(`could not take the lock ${path}`);
};

/**
 * Removes a stale takeover claim next to a lock this process has just taken. A process killed
 * after removing the stale lock but before releasing its claim leaves the claim behind, and the
 * next taker, finding no lock, never looks at it. It is removed the same way as any stale lock
 * (taken over, then released), so a claim a live process holds this moment stays. Nested claims
 * are tidied while their parent claim is held.
 */
async function tidyClaims(path: string, depth: number): Promise<void> {
  const claimPath = `${path}.takeover`;
  if (depth >= MAX_CLAIM_DEPTH || (await inspect(claimPath)).kind === "missing") return;
  const claim = await take(claimPath, String(process.pid), depth + 1);
  if (claim.kind === "taken") await claim.release();
}

/**
 * Removes the private files (`<lock>[.takeover...].<pid>-<n>.tmp`) that processes killed between
 * writing and removing them left next to `path`; those of live processes stay. Best effort.
 */
const removeOrphans = async (path: string): Promise<void> => {
  const dir = dirname(path);
  const prefix = basename(path);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:\\.takeover)*\\.(\\d+)-\\d+\\.tmp$`).exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || (await isRunning({ pid }))) continue;
    await rm(join(dir, name), { force: true }).catch(() => undefined);
  }
};

export const takePidLock = async (path: string, details: Readonly<Record<string, unknown>> = {}): Promise<PidLockResult> => {
  await removeOrphans(path);
  // Without details the file is the bare pid, so `kill "$(cat <lock>)"` works from a shell.
  return take(path, Object.keys(details).length === 0 ? String(process.pid) : JSON.stringify({ pid: process.pid, ...details }), 0);
};
