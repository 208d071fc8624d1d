/**
 * State handles: the typed, synchronous view a keyed function gets of its declared states,
 * always for the key of the record (or timer) being processed.
 *
 * Contract: a value read from a handle and mutated in place is only kept if written back
 * (`update`, `add`, `put`); handles never expose a value that a write could change behind the
 * caller's back, except the arrays and maps they return, which are read-only views.
 */
import type { ListStateDescriptor, MapStateDescriptor, StateDescriptor, StateSpec, ValueStateDescriptor } from "./descriptors.ts";
import { userError } from "../common/errors.ts";
import { RESERVED_STATE_PREFIX } from "./keyed-store.ts";
import type { KeyedStateStore, StateTable, StoredForm } from "./keyed-store.ts";
import { identityForm } from "./cell.ts";
import { shapeOf, type StateSignature } from "./state-signature.ts";
import { migrateWithTimes, ttlConfigOf, type TtlKind } from "./ttl.ts";
import { ttlListHandle, ttlMapHandle, ttlValueHandle } from "./ttl-handles.ts";

export interface ValueState<V, D extends V | undefined = undefined> {
  value(): V | D;
  update(value: V): void;
  clear(): void;
}

export interface ListState<V> {
  /** The key's elements in insertion order (empty if none). Read-only: use add/update to change. */
  get(): readonly V[];
  add(value: V): void;
  addAll(values: Iterable<V>): void;
  update(values: Iterable<V>): void;
  clear(): void;
}

export interface MapState<MK, MV> {
  get(key: MK): MV | undefined;
  has(key: MK): boolean;
  put(key: MK, value: MV): void;
  remove(key: MK): void;
  entries(): IterableIterator<[MK, MV]>;
  keys(): IterableIterator<MK>;
  values(): IterableIterator<MV>;
  readonly size: number;
  isEmpty(): boolean;
  clear(): void;
}

export type StateHandle<S extends StateDescriptor> =
  S extends ValueStateDescriptor<infer V, infer D>
    ? ValueState<V, D>
    : S extends ListStateDescriptor<infer V>
      ? ListState<V>
      : S extends MapStateDescriptor<infer MK, infer MV>
        ? MapState<MK, MV>
        : never;

export type StateHandles<S extends StateSpec> = { readonly [N in keyof S]: StateHandle<S[N]> };

const mapForm: StoredForm = {
  toStored: (v) => [...(v as Map<unknown, unknown>)],
  fromStored: (s) => new Map(s as [unknown, unknown][]),
};

const emptyList: readonly never[] = Object.freeze([]);

const valueHandle = (table: StateTable, defaultValue: unknown): ValueState<unknown, unknown> => ({
  value: () => {
    const v = table.get();
    return v === undefined ? defaultValue : v;
  },
  update: (value) => table.set(value),
  clear: () => table.delete(),
});

const listHandle = (table: StateTable): ListState<unknown> => {
  const items = (): unknown[] | undefined => table.get() as unknown[] | undefined;
  return {
    get: () => items() ?? emptyList,
    add: (value) => {
      const list = items();
      if (list === undefined) table.set([value]);
      else {
        list.push(value);
        table.markDirty();
      }
    },
    addAll: (values) => {
      const added = [...values];
      if (added.length === 0) return;
      const list = items();
      if (list === undefined) table.set(added);
      else {
        for (const v of added) list.push(v);
        table.markDirty();
      }
    },
    update: (values) => {
      const next = [...values];
      if (next.length === 0) table.delete();
      else table.set(next);
    },
    clear: () => table.delete(),
  };
};

const emptyMap: ReadonlyMap<unknown, unknown> = new Map();

const mapHandle = (table: StateTable): MapState<unknown, unknown> => {
  const read = (): Map<unknown, unknown> | undefined => table.get() as Map<unknown, unknown> | undefined;
  const view = (): ReadonlyMap<unknown, unknown> => read() ?? emptyMap;
  return {
    get: (key) => view().get(key),
    has: (key) => view().has(key),
    put: (key, value) => {
      const m = read();
      if (m === undefined) table.set(new Map([[key, value]]));
      else {
        m.set(key, value);
        table.markDirty();
      }
    },
    remove: (key) => {
      const m = read();
      if (m === undefined || !m.delete(key)) return;
      if (m.size === 0) table.delete();
      else table.markDirty();
    },
    entries: () => view().entries() as IterableIterator<[unknown, unknown]>,
    keys: () => view().keys() as IterableIterator<unknown>,
    values: () => view().values() as IterableIterator<unknown>,
    get size() {
      return view().size;
    },
    isEmpty: () => view().size === 0,
    clear: () => table.delete(),
  };
};

export interface BindOptions {
  /** Prefixed to every state's name. */
  readonly prefix?: string;
  /** The processing-time clock TTL states are measured on (the operator context's `now`; default Date.now). */
  readonly now?: () => number;
}

/**
 * Registers every state of `spec` (in key order) in `store` and returns their handles. Names
 * starting with `__` are Weir's own (RESERVED_STATE_NAME, a user error naming operator and state).
 * A state with a `ttl` gets a TTL handle (ttl-handles.ts), and the store removes its expired
 * stored values at cuts (keyed-store.ts); the others are plain handles.
 */
export const bindStates = <S extends StateSpec>(store: KeyedStateStore, spec: S, options: BindOptions = {}): StateHandles<S> => {
  const prefix = options.prefix ?? "";
  const now = options.now ?? Date.now;
  const handles: Record<string, unknown> = {};
  for (const name of Object.keys(spec).sort()) {
    if ((prefix + name).startsWith(RESERVED_STATE_PREFIX)) {
      const where = store.operator === undefined ? "" : `operator '${store.operator}': `;
      throw userError(
        "RESERVED_STATE_NAME",
        `${where}the state '${prefix + name}' starts with '${RESERVED_STATE_PREFIX}', which is kept for Weir's own states (such as timers); rename it`,
        store.operator === undefined ? {} : { operator: store.operator },
      );
    }
    const descriptor = spec[name]!;
    const fullName = prefix + name;
    // A version above 1 is recorded; `migrate` reads what older versions stored (keyed-store.ts).
    const version = descriptor.options?.version;
    const ttl = ttlConfigOf(descriptor.options);
    const recorded = { ...(version === undefined || version === 1 ? {} : { version }), ...(ttl === undefined ? {} : { ttl: ttl.millis }) };
    const register = (kind: TtlKind, signature: StateSignature, form: StoredForm) => {
      const migrate = descriptor.options?.migrate;
      if (ttl === undefined) return store.register(fullName, signature, form, migrate === undefined ? {} : { migrate });
      return store.register(fullName, signature, form, {
        ...(migrate === undefined ? {} : { migrate: migrateWithTimes(kind, migrate) }),
        expiry: { kind, millis: ttl.millis, now },
      });
    };
    switch (descriptor.kind) {
      case "value": {
        const signature: StateSignature = descriptor.defaultValue === undefined ? { kind: "value", ...recorded } : { kind: "value", shape: shapeOf(descriptor.defaultValue), ...recorded };
        const table = register("value", signature, identityForm);
        handles[name] = ttl === undefined ? valueHandle(table, descriptor.defaultValue) : ttlValueHandle(table, descriptor.defaultValue, ttl, now);
        break;
      }
      case "list": {
        const table = register("list", { kind: "list", ...recorded }, identityForm);
        handles[name] = ttl === undefined ? listHandle(table) : ttlListHandle(table, ttl, now);
        break;
      }
      case "map": {
        const table = register("map", { kind: "map", ...recorded }, mapForm);
        handles[name] = ttl === undefined ? mapHandle(table) : ttlMapHandle(table, ttl, now);
        break;
      }
    }
  }
  return handles as StateHandles<S>;
};
