/**
 * Failpoints: make the process die at a named protocol step, as `kill -9` would, for crash tests.
 *
 * Set `WEIR_FAILPOINT=<name>` (die the first time the step is reached) or `<name>@<n>` (die the
 * n-th time). Unset, `failpoint(name)` is one comparison against undefined: zero cost.
 * The process is killed with SIGKILL by itself: no exit handlers, no flushing, like a crash.
 */
import { writeSync } from "node:fs";

export const FAILPOINTS = [
  "alignment", // a task has blocked an input for barrier n, before the snapshot
  "sync-snapshot", // inside the synchronous part of a snapshot
  "async-snapshot", // inside the asynchronous part of a snapshot
  "after-ack", // a task acknowledged; before the checkpoint completes
  "after-metadata", // metadata written; before the sinks commit
  "mid-commit", // a sink committed part of a checkpoint's transactions
  "restore", // while restoring state from a checkpoint
] as const;

export type FailpointName = (typeof FAILPOINTS)[number];

const parse = (raw: string | undefined): { name: string; remaining: number } | undefined => {
  if (raw === undefined || raw === "") return undefined;
  const [name, count] = raw.split("@");
  const n = count === undefined ? 1 : Number(count);
  if (!Number.isInteger(n) || n < 1) throw new Error(`WEIR_FAILPOINT='${raw}': the count after '@' must be a positive integer`);
  return { name: name!, remaining: n };
};

const armed = parse(process.env.WEIR_FAILPOINT);

export const failpoint = (name: FailpointName): void => {
  if (armed === undefined || armed.name !== name) return;
  if (--armed.remaining > 0) return;
  // Straight to fd 2: in a worker thread process.stderr goes through the main thread, too late.
  writeSync(2, `weir: failpoint '${name}' reached: killing the process\n`);
  process.kill(process.pid, "SIGKILL");
};
