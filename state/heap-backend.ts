/**
 * KvBackend in process memory: for tests, small jobs and as the reference the RocksDB backend is
 * checked against. Nothing survives the process; a checkpoint must copy it out through `scan`.
 *
 *   const kv = openHeapBackend();
 *   await kv.write([{ kind: "put", key, value }]);
 *
 * Keys are held as latin1 strings (one char per byte), so JS string order is byte order and a
 * sorted key array gives `scan` by binary search. Values are copied in on `write` and out on
 * `getMany`/`scan`, so caller and store never share memory. A scan sees the store as it was when
 * its iteration started. After `close()` every method rejects with `STATE_BACKEND_CLOSED` and the
 * memory is released.
 */
import { internalError } from "../common/errors.ts";
import type { KvBackend, KvOp, KvRange } from "./kv-backend.ts";

export function openHeapBackend(): KvBackend {
  return new HeapBackend();
}

const toKey = (b: Buffer): string => b.toString("latin1");
const fromKey = (k: string): Buffer => Buffer.from(k, "latin1");

class HeapBackend implements KvBackend {
  readonly kind = "heap";
  private map = new Map<string, Buffer>();
  /** Keys of `map` in ascending order; null when a write added or removed keys since. */
  private sorted: string[] | null = [];
  private closed = false;

  async getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    this.assertOpen();
    return keys.map((k) => {
      const v = this.map.get(toKey(k));
      return v === undefined ? undefined : Buffer.from(v);
    });
  }

  async write(ops: readonly KvOp[]): Promise<void> {
    this.assertOpen();
    // Copy everything before touching the map, so a bad op leaves the store unchanged (atomic).
    const copied = ops.map((op) => [toKey(op.key), op.kind === "put" ? Buffer.from(op.value) : undefined] as const);
    for (const [key, value] of copied) {
      if (value === undefined) {
        if (this.map.delete(key)) this.sorted = null;
      } else {
        if (!this.map.has(key)) this.sorted = null;
        this.map.set(key, value);
      }
    }
  }

  scan(range: KvRange): AsyncIterable<readonly [Buffer, Buffer]> {
    return { [Symbol.asyncIterator]: () => this.iterate(range) };
  }

  private async *iterate(range: KvRange): AsyncGenerator<readonly [Buffer, Buffer]> {
    this.assertOpen();
    const gte = toKey(range.gte);
    const lt = toKey(range.lt);
    const keys = this.sortedKeys();
    // Stored values are never mutated (writes replace them), so holding references is a snapshot.
    const entries: [string, Buffer][] = [];
    for (let i = lowerBound(keys, gte); i < keys.length && (keys[i] as string) < lt; i++) {
      const k = keys[i] as string;
      entries.push([k, this.map.get(k) as Buffer]);
    }
    for (const [k, v] of entries) {
      yield [fromKey(k), Buffer.from(v)] as const;
      this.assertOpen();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.map = new Map();
    this.sorted = [];
  }

  private sortedKeys(): string[] {
    if (this.sorted === null) this.sorted = [...this.map.keys()].sort();
    return this.sorted;
  }

  private assertOpen(): void {
    if (this.closed) throw internalError("STATE_BACKEND_CLOSED", "heap state backend is closed");
  }
}

/** First index whose key is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
