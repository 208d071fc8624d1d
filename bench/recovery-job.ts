/**
 * The job `npm run bench:recovery` restarts: account-totals with a large value per key.
 *
 * A generator of `splits` splits visits the keys of each split (key mod splits) round and round:
 * the first round builds the state, one `blob` of `valueBytes` pseudo-random (incompressible)
 * bytes per key, written once; every visit adds one to the key's small `count` and emits
 * `{key, count, byte}`, `byte` read from the blob, so each record reads both states of its key.
 * After the first round the state grows only by the counts, so a checkpoint taken then holds
 * `keys × valueBytes` of live state plus a little.
 *
 *   weir run bench/recovery-job.ts --param keys=1000000 --param valueBytes=1024 [--param splits=4]
 */
import { discard, generator, job, valueState, type Collector } from "weir";

export interface Visit {
  readonly key: number;
  readonly round: number;
}

export interface Seen {
  readonly key: number;
  readonly count: number;
  readonly byte: number;
}

/** `size` bytes that depend only on `key` (xorshift32), so a rebuilt state is the same state. */
export const blobOf = (key: number, size: number): Uint8Array => {
  const out = new Uint8Array(size);
  let x = (key * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
    if (i + 1 < size) out[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < size) out[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < size) out[i + 3] = x >>> 24;
  }
  return out;
};

/** Keys of `split` (of `splits`) among `keys`: split, split + splits, ... */
export const keysOfSplit = (keys: number, splits: number, split: number): number => Math.ceil((keys - split) / splits);

export default job("recovery-state", (env) => {
  const p = env.params;
  const keys = p.integer("keys", 1_000_000);
  const valueBytes = p.integer("valueBytes", 1024);
  const splits = Math.max(1, Math.min(p.integer("splits", 4), keys));
  env
    .source(
      generator<Visit>({
        name: "visits",
        splits,
        generate: ({ split, index }) => {
          const n = keysOfSplit(keys, splits, split);
          return { key: split + splits * (index % n), round: Math.floor(index / n) };
        },
      }),
    )
    .keyBy((v) => v.key)
    .process(
      {
        state: { blob: valueState<Uint8Array>(), count: valueState(0) },
        processElement(_v, ctx, out: Collector<Seen>) {
          let blob = ctx.state.blob.value();
          if (blob === undefined) {
            blob = blobOf(ctx.key as number, valueBytes);
            ctx.state.blob.update(blob);
          }
          const count = ctx.state.count.value() + 1;
          ctx.state.count.update(count);
          out.collect({ key: ctx.key as number, count, byte: blob[count % blob.length]! });
        },
      },
      { name: "visit-count" },
    )
    .sink(discard<Seen>(), { name: "discard" });
});
