/**
 * The byte-level store under Weir's keyed state: one instance per operator subtask.
 *
 * Keys are laid out by the caller as `[keyGroup u16 BE][stateId u16 BE][key bytes]`, so a
 * key-group range is one contiguous key range (rescaling scans it). Backends only see bytes.
 *
 * Contract (checked by test/state/kv-backend-contract.ts for every backend):
 * - `getMany` returns one entry per requested key, in order, `undefined` where absent. It reads
 *   a consistent view and costs one native round trip for the whole batch, never one per key.
 * - `write` applies every op of the array atomically, in array order (a later op on the same key
 *   wins). After it resolves, `getMany` and `scan` see the result.
 * - `scan` yields entries with `gte <= key < lt` in ascending byte order.
 * - Returned buffers belong to the caller: mutating them never changes stored values, and
 *   mutating a buffer after passing it to `write` never changes what was stored. A caller that
 *   passes `{ handOver: true }` promises never to touch the buffers it passes again; the backend
 *   may then hand them to native code without copying them.
 * - After `close()` resolves, every other method rejects with a WeirError (code
 *   `STATE_BACKEND_CLOSED`); it never crashes the process. `close()` is idempotent.
 */
export type KvOp =
  | { readonly kind: "put"; readonly key: Buffer; readonly value: Buffer }
  | { readonly kind: "delete"; readonly key: Buffer };

export interface KvRange {
  readonly gte: Buffer;
  readonly lt: Buffer;
}

export interface KvCallOptions {
  /** The caller never reads or changes the buffers it passes again (see the contract). */
  readonly handOver?: boolean;
}

export interface KvBackend {
  readonly kind: "rocksdb" | "heap";
  getMany(keys: readonly Buffer[], options?: KvCallOptions): Promise<(Buffer | undefined)[]>;
  write(ops: readonly KvOp[], options?: KvCallOptions): Promise<void>;
  scan(range: KvRange): AsyncIterable<readonly [Buffer, Buffer]>;
  close(): Promise<void>;
}
