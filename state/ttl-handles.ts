/**
 * Handles of TTL states (ttl.ts has the stored forms). Only states declared with a `ttl` get
 * these; the handles of other states (handles.ts) pay nothing for TTL.
 *
 * Every access reads the clock once. An expired value met by a read is removed then (and, with
 * `returnExpired`, returned that once); the rest are removed by the store's scans at checkpoints
 * (keyed-store.ts). A write stamps the time; with `refreshOnRead`,
 * so does a read that returns the value (for a list, every element; for a map, the entries read).
 */
import type { ListState, MapState, ValueState } from "./handles.ts";
import type { StateTable } from "./state-table.ts";
import type { TtlConfig } from "./ttl.ts";

type Clock = () => number;
type TimedValue = [number, unknown];
type TimedList = [number[], unknown[]];
type TimedMap = Map<unknown, TimedValue>;

export const ttlValueHandle = (table: StateTable, defaultValue: unknown, ttl: TtlConfig, now: Clock): ValueState<unknown, unknown> => ({
  value: () => {
    const stored = table.get() as TimedValue | undefined;
    if (stored === undefined) return defaultValue;
    const t = now();
    if (stored[0] + ttl.millis <= t) {
      table.delete();
      return ttl.returnExpired ? stored[1] : defaultValue;
    }
    if (ttl.refreshOnRead && stored[0] !== t) {
      stored[0] = t;
      table.markDirty();
    }
    return stored[1];
  },
  update: (value) => (value === undefined ? table.delete() : table.set([now(), value])),
  clear: () => table.delete(),
});

const emptyList: readonly never[] = Object.freeze([]);

export const ttlListHandle = (table: StateTable, ttl: TtlConfig, now: Clock): ListState<unknown> => {
  /** Removes the expired elements of the stored list in place (deleting it if none is left); returns what was stored before, if anything expired. */
  const purge = (stored: TimedList, t: number): unknown[] | undefined => {
    const [times, values] = stored;
    const limit = t - ttl.millis;
    let kept = 0;
    for (let i = 0; i < times.length; i++) if (times[i]! > limit) kept++;
    if (kept === times.length) return undefined;
    const before = values.slice();
    if (kept === 0) {
      table.delete();
      return before;
    }
    let j = 0;
    for (let i = 0; i < times.length; i++) {
      if (times[i]! <= limit) continue;
      times[j] = times[i]!;
      values[j++] = values[i];
    }
    times.length = kept;
    values.length = kept;
    table.markDirty();
    return before;
  };
  const append = (added: unknown[]): void => {
    const t = now();
    let stored = table.get() as TimedList | undefined;
    // The oldest element is usually first: one comparison tells whether anything may have expired.
    if (stored !== undefined && stored[0][0]! + ttl.millis <= t) {
      purge(stored, t);
      stored = table.get() as TimedList | undefined;
    }
    if (stored === undefined) {
      table.set([added.map(() => t), added]);
      return;
    }
    for (const v of added) {
      stored[0].push(t);
      stored[1].push(v);
    }
    table.markDirty();
  };
  return {
    get: () => {
      const stored = table.get() as TimedList | undefined;
      if (stored === undefined) return emptyList;
      const t = now();
      const before = purge(stored, t);
      if (before !== undefined && ttl.returnExpired) return before;
      if (table.get() === undefined) return emptyList;
      if (ttl.refreshOnRead) {
        stored[0].fill(t);
        table.markDirty();
      }
      return stored[1];
    },
    add: (value) => append([value]),
    addAll: (values) => {
      const added = [...values];
      if (added.length > 0) append(added);
    },
    update: (values) => {
      const next = [...values];
      if (next.length === 0) table.delete();
      else {
        const t = now();
        table.set([next.map(() => t), next]);
      }
    },
    clear: () => table.delete(),
  };
};

const emptyMap: ReadonlyMap<unknown, TimedValue> = new Map();

function* valuesOf(entries: ReadonlyMap<unknown, TimedValue>): IterableIterator<unknown> {
  for (const e of entries.values()) yield e[1];
}

function* entriesOf(entries: ReadonlyMap<unknown, TimedValue>): IterableIterator<[unknown, unknown]> {
  for (const [k, e] of entries) yield [k, e[1]];
}

export const ttlMapHandle = (table: StateTable, ttl: TtlConfig, now: Clock): MapState<unknown, unknown> => {
  const read = (): TimedMap | undefined => table.get() as TimedMap | undefined;
  /** Removes `key`'s entry from `m`, deleting the cell when it was the last. */
  const drop = (m: TimedMap, key: unknown): void => {
    m.delete(key);
    if (m.size === 0) table.delete();
    else table.markDirty();
  };
  /** The live entry of `key` (refreshed if reads refresh); an expired one is removed, and returned only if `returnExpired`. */
  const entry = (key: unknown): TimedValue | undefined => {
    const m = read();
    const e = m?.get(key);
    if (e === undefined) return undefined;
    const t = now();
    if (e[0] + ttl.millis <= t) {
      drop(m!, key);
      return ttl.returnExpired ? e : undefined;
    }
    if (ttl.refreshOnRead && e[0] !== t) {
      e[0] = t;
      table.markDirty();
    }
    return e;
  };
  /**
   * Every entry, the expired ones removed (and still listed if `returnExpired`); refreshed if
   * reads refresh and `touch`.
   */
  const view = (touch: boolean): ReadonlyMap<unknown, TimedValue> => {
    const m = read();
    if (m === undefined) return emptyMap;
    const t = now();
    const limit = t - ttl.millis;
    let expired: unknown[] | undefined;
    for (const [k, e] of m) if (e[0] <= limit) (expired ??= []).push(k);
    const shown = expired !== undefined && ttl.returnExpired ? new Map(m) : m;
    if (expired !== undefined) {
      for (const k of expired) m.delete(k);
      if (m.size === 0) table.delete();
      else table.markDirty();
    }
    if (touch && ttl.refreshOnRead && m.size > 0) {
      for (const e of m.values()) e[0] = t;
      table.markDirty();
    }
    return shown;
  };
  return {
    get: (key) => entry(key)?.[1],
    has: (key) => entry(key) !== undefined,
    put: (key, value) => {
      const m = read();
      const e: TimedValue = [now(), value];
      if (m === undefined) table.set(new Map([[key, e]]));
      else {
        // An expired entry is gone: the key is put anew, last in iteration order (as after a cleanup).
        const old = m.get(key);
        if (old !== undefined && old[0] + ttl.millis <= e[0]) m.delete(key);
        m.set(key, e);
        table.markDirty();
      }
    },
    remove: (key) => {
      const m = read();
      if (m !== undefined && m.has(key)) drop(m, key);
    },
    entries: () => entriesOf(view(true)),
    keys: () => view(true).keys(),
    values: () => valuesOf(view(true)),
    get size() {
      return view(false).size;
    },
    isEmpty: () => view(false).size === 0,
    clear: () => table.delete(),
  };
};
