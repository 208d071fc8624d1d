/**
 * A backend that answers reads of keys it never wrote without asking the store under it.
 *
 *   const backend = await skipNeverWritten(await openRocksBackend({ path }));
 *
 * Most keyed jobs meet new keys all the time (a new auction, a new session), and each first sight
 * of a key costs a RocksDB read that finds nothing. When the store under it is empty at the
 * start, every key in it later came through `write`: so `write` records the keys it puts in a
 * Bloom filter (written-keys.ts), and `getMany` reads only the keys the filter may hold, answering
 * undefined for the others at once (no native call at all when none may be there).
 *
 * Contract: the same as the wrapped KvBackend's (kv-backend.ts), results included, provided
 * nothing writes to the wrapped store except through this wrapper. `skipNeverWritten` returns
 * the store itself, unwrapped, when it is not empty (a restored checkpoint, an attempt's leftover
 * files): its keys did not come through this wrapper. Scans, close and errors pass through.
 */
import type { KvBackend, KvCallOptions, KvOp, KvRange } from "./kv-backend.ts";
import { WrittenKeys } from "./written-keys.ts";

const EVERY_KEY: KvRange = { gte: Buffer.alloc(0), lt: Buffer.alloc(64, 0xff) };

/** Whether `backend` holds no entry (one scan step). */
const isEmpty = async (backend: KvBackend): Promise<boolean> => {
  for await (const entry of backend.scan(EVERY_KEY)) {
    void entry;
    return false;
  }
  return true;
};

/** `backend` wrapped to skip reads of never-written keys when it is empty; else `backend` itself. */
export const skipNeverWritten = async (backend: KvBackend): Promise<KvBackend> => ((await isEmpty(backend)) ? new NeverWrittenSkipping(backend) : backend);

export class NeverWrittenSkipping implements KvBackend {
  readonly kind: KvBackend["kind"];
  private readonly inner: KvBackend;
  private readonly written = new WrittenKeys();
  /** Keys read from the store / answered absent without a read (for tests and metrics). */
  readonly counts = { read: 0, skipped: 0 };
  private closed = false;

  constructor(inner: KvBackend) {
    this.inner = inner;
    this.kind = inner.kind;
  }

  getMany(keys: readonly Buffer[], options?: KvCallOptions): Promise<(Buffer | undefined)[]> {
    if (this.closed) return this.inner.getMany(keys, options); // rejects as the store does once closed
    let maybe: number[] | undefined;
    for (let i = 0; i < keys.length; i++) if (this.written.mayContain(keys[i]!)) (maybe ??= []).push(i);
    const n = keys.length;
    const found = maybe?.length ?? 0;
    this.counts.read += found;
    this.counts.skipped += n - found;
    if (maybe === undefined) return Promise.resolve(new Array<Buffer | undefined>(n).fill(undefined));
    if (found === n) return this.inner.getMany(keys, options);
    const indices = maybe;
    return this.inner.getMany(
      indices.map((i) => keys[i]!),
      options,
    ).then((values) => {
      const out = new Array<Buffer | undefined>(n).fill(undefined);
      for (let j = 0; j < indices.length; j++) out[indices[j]!] = values[j];
      return out;
    });
  }

  write(ops: readonly KvOp[], options?: KvCallOptions): Promise<void> {
    // Recorded before the write starts: a read issued while it runs reads the store.
    for (const op of ops) if (op.kind === "put") this.written.add(op.key);
    return this.inner.write(ops, options);
  }

  scan(range: KvRange): AsyncIterable<readonly [Buffer, Buffer]> {
    return this.inner.scan(range);
  }

  close(): Promise<void> {
    this.closed = true;
    return this.inner.close();
  }
}
