/**
 * State signatures: what a checkpoint records about each state an operator declared, so that a
 * restore into a job whose declarations changed incompatibly is refused before any record is
 * processed (types are erased at run time, so this is what can be known).
 *
 * - `kind`: how the state is held (`value`, `list`, `map`, or an operator's own: `reduce`,
 *   `aggregate`, `windows`, `timers`, `async` (in-flight async I/O requests)). A different kind is never compatible.
 * - `shape`: for a value state, the shape of its declared default (`valueState(0)` is `number`,
 *   `valueState({ sum: 0 })` is `{sum:number}`); for an aggregate, the shape of a new
 *   accumulator. Absent when nothing is known (no default); compared only when both sides have one.
 *
 * - `ttl`: a state's time to live in ms (StateOptions.ttl), absent without one. A TTL state stores
 *   a time with each value, so turning TTL on or off is refused; another duration is compatible.
 *
 * A layout entry also carries the state's id (its prefix in the backend's keys). Ids are kept
 * across restores by name, so adding or removing a state never makes another one read its cells.
 */
import { formatExactDuration } from "../common/duration.ts";

export type StateKind = "value" | "list" | "map" | "reduce" | "aggregate" | "windows" | "timers" | "async";

export interface StateSignature {
  readonly kind: StateKind;
  readonly shape?: string;
  /**
   * The declaration's version, set by the user (`valueState(0, { version: 2, migrate })`); absent
   * means 1. A higher version with a `migrate` function reads the older version's values through it.
   */
  readonly version?: number;
  /** The state's time to live in ms (`valueState(0, { ttl: "1h" })`); absent: none. */
  readonly ttl?: number;
}

export interface StateLayoutEntry extends StateSignature {
  readonly name: string;
  readonly id: number;
}

const MAX_DEPTH = 4;

/** A short, deterministic description of a value's structure (object keys sorted). */
export const shapeOf = (value: unknown, depth = 0): string => {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Map) return "Map";
  if (value instanceof Set) return "Set";
  if (value instanceof Date) return "Date";
  if (typeof value !== "object") return typeof value;
  if (depth >= MAX_DEPTH) return "object";
  const fields = Object.keys(value as object)
    .sort()
    .map((k) => `${k}:${shapeOf((value as Record<string, unknown>)[k], depth + 1)}`);
  return `{${fields.join(",")}}`;
};

/** `kind` or `kind shape`, then version and ttl if any, for messages and listings. */
export const describeSignature = (s: StateSignature): string => {
  const notes = [...((s.version ?? 1) === 1 ? [] : [`version ${s.version}`]), ...(s.ttl === undefined ? [] : [`ttl ${formatExactDuration(s.ttl)}`])];
  return `${s.shape === undefined ? s.kind : `${s.kind} ${s.shape}`}${notes.length === 0 ? "" : ` (${notes.join(", ")})`}`;
};

/**
 * Why `now` cannot read what `before` stored, or undefined if it can. `canMigrate`: `now` declares
 * a `migrate` function, which reads values of an older version of the same kind (any shape).
 */
export const incompatibility = (before: StateSignature, now: StateSignature, canMigrate = false): string | undefined => {
  if (before.kind !== now.kind) return `kind changed from ${before.kind} to ${now.kind}`;
  // Flink refuses this too: with a TTL, each stored value carries its time (another stored form).
  if (before.ttl === undefined && now.ttl !== undefined) {
    return `a ttl of ${formatExactDuration(now.ttl)} was added; values stored without a ttl cannot be read as ttl values: declare it as a new state (another name) or run with --fresh`;
  }
  if (before.ttl !== undefined && now.ttl === undefined) {
    return `its ttl of ${formatExactDuration(before.ttl)} was removed; values stored with a ttl cannot be read without one: keep a ttl (any duration) or run with --fresh`;
  }
  const from = before.version ?? 1;
  const to = now.version ?? 1;
  if (to < from) return `it was written at version ${from}, newer than this declaration's ${to}`;
  if (to > from) return canMigrate ? undefined : `version changed from ${from} to ${to} without a migrate function`;
  if (before.shape !== undefined && now.shape !== undefined && before.shape !== now.shape) {
    return `shape changed from ${before.shape} to ${now.shape}`;
  }
  return undefined;
};
