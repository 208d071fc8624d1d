/**
 * Minimal typing of `rocksdb-native` (CommonJS, ships no types): only what state/rocksdb-backend.ts
 * uses. Keys and values are raw Buffers (no key/value encoding is configured).
 *
 * Binding facts the types cannot say:
 * - A read or write batch holds a reference on the DB until destroyed; `close()` waits for it, so
 *   an undestroyed batch makes `close()` never resolve. Create batches with `autoDestroy: true`.
 * - The native side reads key/value bytes straight out of the passed Buffers on a worker thread,
 *   after `flush()` returns; a caller that mutates them before the flush settles changes the write.
 * - While `suspend()`ed, every read, write, flush and iterator step waits for `resume()`.
 * - After `close()` starts, `read()`, `write()`, `iterator()`, `flush()` and `suspend()` throw
 *   synchronously (`Error: RocksDB session is closed`).
 */
declare module "rocksdb-native" {
  // CommonJS `module.exports = RocksDB`; an ESM default import yields it under Node.
  export interface RocksDBOptions {
    readonly createIfMissing?: boolean;
    readonly maxBackgroundJobs?: number;
    readonly bytesPerSync?: number;
    readonly maxOpenFiles?: number;
    readonly walRecoveryMode?: number;
    readonly avoidFlushDuringShutdown?: boolean;
    /** Column-family options (applied to the default column family). */
    readonly writeBufferSize?: number;
    readonly maxWriteBufferNumber?: number;
    readonly tableBlockSize?: number;
    /** A `BloomFilterPolicy` (default: one of 10 bits per key); null: no filter. */
    readonly filterPolicy?: BloomFilterPolicy | null;
    /** Skip filters on the last level (only pays off when lookups mostly find their key). */
    readonly optimizeFiltersForHits?: boolean;
  }

  export class BloomFilterPolicy {
    constructor(bitsPerKey: number);
  }

  export interface BatchOptions {
    readonly capacity?: number;
    /** Destroy the batch after its flush settles, releasing its reference on the DB. */
    readonly autoDestroy?: boolean;
  }

  export interface ReadBatch {
    /** Queues a get; the promise settles after `flush()`. `null` when the key is absent. */
    get(key: Buffer): Promise<Buffer | null>;
    flush(): Promise<void>;
    destroy(): void;
  }

  export interface WriteBatch {
    tryPut(key: Buffer, value: Buffer): void;
    tryDelete(key: Buffer): void;
    /** Queues a range tombstone: deletes every key in [start, end). */
    tryDeleteRange(start: Buffer, end: Buffer): void;
    /** Applies all queued ops atomically (one RocksDB WriteBatch). */
    flush(): Promise<void>;
    destroy(): void;
  }

  export interface IteratorRange {
    /** An empty Buffer means "no bound" to the binding. */
    readonly gte?: Buffer | null;
    readonly lt?: Buffer | null;
  }

  export interface IteratorOptions {
    /** Entries fetched per native round trip (default 8). */
    readonly capacity?: number;
  }

  export interface RocksIterator extends AsyncIterable<{ key: Buffer; value: Buffer }> {
    destroy(err?: Error): void;
    readonly destroyed: boolean;
  }

  export default class RocksDB {
    constructor(path: string, options?: RocksDBOptions);
    readonly opened: boolean;
    readonly closed: boolean;
    readonly path: string;
    ready(): Promise<void>;
    read(options?: BatchOptions): ReadBatch;
    write(options?: BatchOptions): WriteBatch;
    iterator(range: IteratorRange, options?: IteratorOptions): RocksIterator;
    /** Flushes the default column family's memtable to an SST file (waits for it). */
    flush(): Promise<void>;
    /** Pauses background work and file-system activity; resolves once quiescent. */
    suspend(): Promise<void>;
    resume(): Promise<void>;
    close(options?: { force?: boolean }): Promise<void>;
  }
}
