/**
 * Order-independent digests of output rows per 10 s bucket of row time (NEXMARK-SPEC.md §3):
 * bucket `b = floor((rowTime - baseTime) / 10000)`; per bucket the row count and the sum mod 2^64
 * of the rows' FNV-1a-64 hashes. A sum is commutative, so the digest of a multiset of rows does
 * not depend on the order the rows arrive in, nor on how they are split over subtasks, processes
 * or files (`mergeBuckets` adds them up).
 *
 *   const d = new BucketDigests(baseTime);
 *   d.add(rowTime, hash.hi, hash.lo);   // per row, no allocation once the bucket exists
 *   d.toJSON();                         // { "0": { count: 12, digest: "0123456789abcdef" }, ... }
 */
import { hex32 } from "./fnv1a64.ts";

export const BUCKET_MS = 10_000;

export interface BucketJson {
  readonly count: number;
  /** 16 lowercase hex digits: the sum mod 2^64 of the rows' FNV-1a-64 hashes. */
  readonly digest: string;
}

export type BucketsJson = Readonly<Record<string, BucketJson>>;

interface Acc {
  count: number;
  hi: number;
  lo: number;
}

const TWO_32 = 4294967296;

export const bucketOf = (rowTime: number, baseTime: number): number => Math.floor((rowTime - baseTime) / BUCKET_MS);

export class BucketDigests {
  private readonly buckets = new Map<number, Acc>();
  private last: Acc | undefined;
  private lastBucket = Number.NaN;

  constructor(readonly baseTime: number) {}

  /** Adds one row of time `rowTime` whose hash is (hi, lo). */
  add(rowTime: number, hi: number, lo: number): void {
    const b = bucketOf(rowTime, this.baseTime);
    let acc = b === this.lastBucket ? this.last : this.buckets.get(b);
    if (acc === undefined) {
      acc = { count: 0, hi: 0, lo: 0 };
      this.buckets.set(b, acc);
    }
    this.last = acc;
    this.lastBucket = b;
    acc.count++;
    const sum = acc.lo + lo;
    const carry = sum >= TWO_32 ? 1 : 0;
    acc.lo = sum - carry * TWO_32;
    acc.hi = (acc.hi + hi + carry) >>> 0;
  }

  /** Rows added so far, over all buckets. */
  rows(): number {
    let n = 0;
    for (const acc of this.buckets.values()) n += acc.count;
    return n;
  }

  toJSON(): Record<string, BucketJson> {
    const out: Record<string, BucketJson> = {};
    for (const b of [...this.buckets.keys()].sort((x, y) => x - y)) {
      const acc = this.buckets.get(b)!;
      out[String(b)] = { count: acc.count, digest: hex32(acc.hi) + hex32(acc.lo) };
    }
    return out;
  }
}

const MASK = (1n << 64n) - 1n;

/** Adds digests mod 2^64. */
export const addDigests = (a: string, b: string): string => ((BigInt(`0x${a}`) + BigInt(`0x${b}`)) & MASK).toString(16).padStart(16, "0");

/** The buckets of two sets of rows together (counts and digests added per bucket). */
export const mergeBuckets = (a: BucketsJson, b: BucketsJson): Record<string, BucketJson> => {
  const out: Record<string, BucketJson> = { ...a };
  for (const [key, v] of Object.entries(b)) {
    const mine = out[key];
    out[key] = mine === undefined ? v : { count: mine.count + v.count, digest: addDigests(mine.digest, v.digest) };
  }
  return out;
};
