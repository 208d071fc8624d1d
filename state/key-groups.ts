/**
 * Key groups: the unit in which keyed state is stored, routed and moved when rescaling.
 *
 * `keyGroup = hash(key) mod maxParallelism`. Subtask i of p owns the contiguous range
 * `[ceil(i*max/p), ceil((i+1)*max/p) - 1]`, and `subtaskFor` is its exact inverse, so a record is
 * always routed to the subtask whose range holds its key group, at any parallelism <= max.
 *
 * The hash is deterministic across processes and machines (no per-process seeds), because key
 * groups are written into checkpoints.
 */
import { pack } from "msgpackr";
import { fmix32 } from "../common/hash.ts";

export type KeyValue = string | number | boolean | bigint | readonly KeyValue[];

export interface KeyGroupRange {
  /** First key group, inclusive. */
  readonly start: number;
  /** Last key group, inclusive; `end < start` means empty. */
  readonly end: number;
}

export const DEFAULT_MAX_PARALLELISM = 128;


const hashString = (s: string): number => {
  // murmur3-style mixing over UTF-16 code units.
  let h = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h);
};

const hashBytes = (bytes: Uint8Array): number => {
  let h = 0x3c6ef372 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    let k = Math.imul(bytes[i]!, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h);
};

/** A stable 32-bit hash of a key; equal keys (by value) hash equally. */
export const hashKey = (key: KeyValue): number => {
  if (typeof key === "string") return hashString(key);
  if (typeof key === "number" && Number.isInteger(key) && key >= -0x80000000 && key <= 0x7fffffff) {
    return fmix32(key ^ 0x5bd1e995);
  }
  return hashBytes(pack(key));
};

export const keyGroupFor = (key: KeyValue, maxParallelism: number): number => hashKey(key) % maxParallelism;

export const keyGroupRangeFor = (subtask: number, parallelism: number, maxParallelism: number): KeyGroupRange => ({
  start: Math.ceil((subtask * maxParallelism) / parallelism),
  end: Math.ceil(((subtask + 1) * maxParallelism) / parallelism) - 1,
});

export const subtaskForKeyGroup = (keyGroup: number, parallelism: number, maxParallelism: number): number =>
  Math.floor((keyGroup * parallelism) / maxParallelism);
