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
import { shapeOf } from "./state-signature.ts";

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

/**
 * Registers every state of `spec` (in key order) in `store` and returns their handles. Names
 * starting with `__` are Weir's own (RESERVED_STATE_NAME, a user error naming operator and state).
 */
export const bindStates = <S extends StateSpec>(store: KeyedStateStore, spec: S, prefix = ""): StateHandles<S> => {
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
    const versioned = version === undefined || version === 1 ? {} : { version };
    const migrate = descriptor.options?.migrate;
    switch (descriptor.kind) {
      case "value":
        handles[name] = valueHandle(
          store.register(
            fullName,
            descriptor.defaultValue === undefined ? { kind: "value", ...versioned } : { kind: "value", shape: shapeOf(descriptor.defaultValue), ...versioned },
            identityForm,
            migrate,
          ),
          descriptor.defaultValue,
        );
        break;
      case "list":
        handles[name] = listHandle(store.register(fullName, { kind: "list", ...versioned }, identityForm, migrate));
        break;
      case "map":
        handles[name] = mapHandle(store.register(fullName, { kind: "map", ...versioned }, mapForm, migrate));
        break;
    }
  }
  return handles as StateHandles<S>;
};
