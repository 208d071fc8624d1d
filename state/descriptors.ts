/**
 * State descriptors: what a keyed function declares, by name, in its `state` object. The engine
 * turns each into a handle bound to the current key (see handles.ts).
 *
 * Values are stored with msgpack: plain objects, arrays, strings, numbers, booleans, null,
 * bigint, Date, Map and Set round-trip; class instances come back as plain objects.
 * A List or Map state is held and stored whole per key: it suits the tens-to-thousands of
 * entries per key that windows and joins keep, not unbounded per-key collections.
 */
export interface ValueStateDescriptor<V, D extends V | undefined> {
  readonly kind: "value";
  readonly defaultValue: D;
  /** Type carrier only; never set. */
  readonly _value?: V;
}

export interface ListStateDescriptor<V> {
  readonly kind: "list";
  readonly _value?: V;
}

export interface MapStateDescriptor<MK, MV> {
  readonly kind: "map";
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
export function valueState<V>(defaultValue: V): ValueStateDescriptor<V, V>;
export function valueState<V>(defaultValue?: V): ValueStateDescriptor<V, V | undefined> {
  return { kind: "value", defaultValue };
}

export const listState = <V>(): ListStateDescriptor<V> => ({ kind: "list" });

export const mapState = <MK, MV>(): MapStateDescriptor<MK, MV> => ({ kind: "map" });
