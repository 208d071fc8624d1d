/**
 * State TTL (Flink's StateTtlConfig): the options, the stored forms of TTL states, and how
 * expired values are dropped from a stored value (handles.ts reads them through ttl-handles.ts).
 *
 * A TTL state stores its last-update time (processing time, ms) with its value, so it survives
 * checkpoints, restores and rescaling:
 * - value: `[time, value]`;
 * - list: `[times, values]`, one time per element (elements expire one by one);
 * - map: a Map of `key -> [time, value]` (stored as its entries), one time per entry.
 * A value is expired at `time + ttl <= now`. The stored form differs from a state without TTL, so
 * turning TTL on or off is a change of form (state-signature.ts refuses it on restore).
 */
import { userError } from "../common/errors.ts";
import { durationMillis } from "../common/duration.ts";
import type { StateOptions } from "./descriptors.ts";

export interface TtlConfig {
  /** Time to live in ms (> 0). */
  readonly millis: number;
  /** A read refreshes the time too (`updateType: "onReadAndWrite"`). */
  readonly refreshOnRead: boolean;
  /** A read returns an expired value it removes (`visibility: "returnExpiredIfNotCleanedUp"`). */
  readonly returnExpired: boolean;
}

const UPDATE_TYPES = ["onCreateAndWrite", "onReadAndWrite"];
const VISIBILITIES = ["neverReturnExpired", "returnExpiredIfNotCleanedUp"];

const bad = (message: string) => userError("BAD_STATE_OPTIONS", message);

/** Throws BAD_STATE_OPTIONS, naming the value, for TTL options that are not valid. */
export const checkTtlOptions = (options: StateOptions<unknown>): void => {
  void ttlConfigOf(options);
};

/** The TTL of a state's options (undefined: none); throws BAD_STATE_OPTIONS for invalid ones. */
export const ttlConfigOf = (options: StateOptions<unknown> | undefined): TtlConfig | undefined => {
  if (options === undefined) return undefined;
  const { ttl, updateType, visibility } = options;
  if (updateType !== undefined && !UPDATE_TYPES.includes(updateType)) {
    throw bad(`a state's updateType must be "onCreateAndWrite" or "onReadAndWrite", got ${JSON.stringify(updateType)}`);
  }
  if (visibility !== undefined && !VISIBILITIES.includes(visibility)) {
    throw bad(`a state's visibility must be "neverReturnExpired" or "returnExpiredIfNotCleanedUp", got ${JSON.stringify(visibility)}`);
  }
  if (ttl === undefined) {
    if (updateType !== undefined || visibility !== undefined) throw bad(`a state's updateType and visibility apply to its ttl: give a ttl too (e.g. { ttl: "1h", updateType: "onReadAndWrite" })`);
    return undefined;
  }
  const millis = durationMillis(ttl);
  if (millis === undefined || millis <= 0) {
    throw bad(`a state's ttl must be a positive duration, a number of ms or a string such as "10m" or "1h", got ${JSON.stringify(ttl)}`);
  }
  return { millis, refreshOnRead: updateType === "onReadAndWrite", returnExpired: visibility === "returnExpiredIfNotCleanedUp" };
};

/** What `purge` returns for a stored value with nothing expired. */
export const UNCHANGED: unique symbol = Symbol("unchanged");

export type TtlKind = "value" | "list" | "map";

/**
 * For the store's cleanup (keyed-store.ts): a decoded stored value without its elements expired
 * at `now`; undefined when nothing is left (delete it); UNCHANGED when nothing expired.
 */
export const purgeStored = (kind: TtlKind, millis: number, stored: unknown, now: number): unknown => {
  const limit = now - millis;
  if (kind === "value") return (stored as [number, unknown])[0] > limit ? UNCHANGED : undefined;
  if (kind === "list") {
    const [times, values] = stored as [number[], unknown[]];
    if (times.every((t) => t > limit)) return UNCHANGED;
    const kept = times.flatMap((t, i) => (t > limit ? [i] : []));
    return kept.length === 0 ? undefined : [kept.map((i) => times[i]!), kept.map((i) => values[i])];
  }
  const entries = stored as [unknown, [number, unknown]][];
  if (entries.every(([, e]) => e[0] > limit)) return UNCHANGED;
  const kept = entries.filter(([, e]) => e[0] > limit);
  return kept.length === 0 ? undefined : kept;
};

type Migrate = (old: unknown, fromVersion: number) => unknown;

/**
 * A TTL state's `migrate` applied to its values without their times: a migrated value keeps its
 * time; a migrated list's elements, and a migrated map's new keys, get the newest time of the
 * old value (a map's kept keys keep theirs).
 */
export const migrateWithTimes = (kind: TtlKind, migrate: Migrate): Migrate => {
  if (kind === "value") {
    return (old, from) => {
      const [time, value] = old as [number, unknown];
      const next = migrate(value, from);
      return next === undefined ? undefined : [time, next];
    };
  }
  if (kind === "list") {
    return (old, from) => {
      const [times, values] = old as [number[], unknown[]];
      const next = migrate(values, from) as unknown[] | undefined;
      if (next === undefined || next.length === 0) return undefined;
      const newest = Math.max(...times);
      return [next.map(() => newest), [...next]];
    };
  }
  return (old, from) => {
    const entries = old as Map<unknown, [number, unknown]>;
    const newest = Math.max(...[...entries.values()].map((e) => e[0]));
    const next = migrate(new Map([...entries].map(([k, e]) => [k, e[1]])), from) as Map<unknown, unknown> | undefined;
    if (next === undefined || next.size === 0) return undefined;
    return new Map([...next].map(([k, v]) => [k, [entries.get(k)?.[0] ?? newest, v]]));
  };
};
