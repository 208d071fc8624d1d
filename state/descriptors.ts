/**
 * State descriptors: what a keyed function declares, by name, in its `state` object. The engine
 * turns each into a handle bound to the current key (see handles.ts).
 *
 * Values are stored with msgpack: plain objects, arrays, strings, numbers, booleans, null,
 * bigint, Date, Map and Set round-trip; class instances come back as plain objects.
 * A List or Map state is held and stored whole per key: it suits the tens-to-thousands of
 * entries per key that windows and joins keep, not unbounded per-key collections.
 */
import { userError } from "../common/errors.ts";
import { checkTtlOptions } from "./ttl.ts";

/**
 * Evolving a state: bump `version` (default 1) when what it stores changes, and give `migrate`,
 * which turns a value stored by an older version (`fromVersion`) into the current form. A restore
 * from a checkpoint or savepoint of an older version applies it to every stored value before the
 * job runs; without it, the changed declaration is refused (STATE_INCOMPATIBLE). For a list state
 * `migrate` gets the whole list, for a map state the whole Map.
 */
export interface StateOptions<V> {
  readonly version?: number;
  readonly migrate?: (old: any, fromVersion: number) => V;
  /**
   * Time to live (as Flink's StateTtlConfig), measured on processing time: a number of ms or a
   * duration such as "10m" or "1h". A value not written for this long is expired: invisible
   * (`value()` gives the default, a list or map leaves it out), removed when read, and removed
   * from storage by a scan at a checkpoint (at most once per quarter ttl, keyed-store.ts). A list's
   * elements and a map's entries expire one by one, each from its own last write. Turning a TTL
   * on or off for a state whose checkpoint is restored is refused (STATE_INCOMPATIBLE); changing
   * its duration is allowed.
   */
  readonly ttl?: number | string;
  /**
   * What refreshes a value's TTL: `"onCreateAndWrite"` (default) a write; `"onReadAndWrite"` a
   * read as well. Only with `ttl`.
   */
  readonly updateType?: StateTtlUpdateType;
  /**
   * `"neverReturnExpired"` (default): an expired value is never returned. `"returnExpiredIfNotCleanedUp"`:
   * an expired value still stored is returned by the read that removes it. Only with `ttl`.
   */
  readonly visibility?: StateTtlVisibility;
}

export type StateTtlUpdateType = "onCreateAndWrite" | "onReadAndWrite";
export type StateTtlVisibility = "neverReturnExpired" | "returnExpiredIfNotCleanedUp";

export interface ValueStateDescriptor<V, D extends V | undefined> {
  readonly kind: "value";
  readonly defaultValue: D;
  readonly options?: StateOptions<V>;
  /** Type carrier only; never set. */
  readonly _value?: V;
}

export interface ListStateDescriptor<V> {
  readonly kind: "list";
  readonly options?: StateOptions<V[]>;
  readonly _value?: V;
}

export interface MapStateDescriptor<MK, MV> {
  readonly kind: "map";
  readonly options?: StateOptions<Map<MK, MV>>;
  readonly _key?: MK;
  readonly _value?: MV;
}

export type StateDescriptor =
  | ValueStateDescriptor<any, any>
  | ListStateDescriptor<any>
  | MapStateDescriptor<any, any>;

/** A function's declared states, by name. */
export type StateSpec = Readonly<Record<string, StateDescriptor>>;

/**
 * A single value per key. With a default, `value()` returns the default for a key that has none
 * (the default is shared, so treat it as immutable).
 */
export function valueState<V>(): ValueStateDescriptor<V, undefined>;
export function valueState<V>(defaultValue: V, options?: StateOptions<V>): ValueStateDescriptor<V, V>;
export function valueState<V>(defaultValue?: V, options?: StateOptions<V>): ValueStateDescriptor<V, V | undefined> {
  return options === undefined ? { kind: "value", defaultValue } : { kind: "value", defaultValue, options: checkOptions(options) };
}

export const listState = <V>(options?: StateOptions<V[]>): ListStateDescriptor<V> =>
  options === undefined ? { kind: "list" } : { kind: "list", options: checkOptions(options) };

export const mapState = <MK, MV>(options?: StateOptions<Map<MK, MV>>): MapStateDescriptor<MK, MV> =>
  options === undefined ? { kind: "map" } : { kind: "map", options: checkOptions(options) };

const checkOptions = <O extends StateOptions<unknown>>(options: O): O => {
  const v = options.version;
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw userError("BAD_STATE_OPTIONS", `a state's version must be a whole number >= 1, got ${v}`);
  if (options.migrate !== undefined && typeof options.migrate !== "function") throw userError("BAD_STATE_OPTIONS", "a state's migrate must be a function (old, fromVersion) => value");
  checkTtlOptions(options);
  return options;
};
