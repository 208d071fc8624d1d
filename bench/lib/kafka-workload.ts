/**
 * The Kafka benchmark's workload and its expected output. Input record i is a transaction
 * `{account, amount}` keyed by its account, written to partition account mod P; the pipeline
 * under test (jobs/kafka-totals.ts, or the kafkajs baseline) writes `{account, total}` keyed by
 * account for every input record, where total is the account's running total. Amounts are
 * positive, so (account, total) names exactly one input record.
 *
 *   const w = { accounts: 10_000, partitions: 3 };
 *   inputRecord(0, w)                     // { account: 6727, amount: 1, partition: 1, key: "6727", value: '{"account":6727,"amount":1}' }
 *   const expected = new ExpectedOutput(1_000_000, w);
 *   expected.indexOf("6727", '{"account":6727,"total":1}')   // 0
 *   expected.check(recordsReadBack)       // { ok, observed, expected, missing, duplicates, unknown, perPartition }
 */
import { RecordDigest, hashesOf } from "./kafka-digest.ts";

export interface Workload {
  readonly accounts: number;
  readonly partitions: number;
}

export interface InputRecord {
  readonly account: number;
  readonly amount: number;
  readonly partition: number;
  readonly key: string;
  readonly value: string;
}

/** MurmurHash3's finaliser: spreads consecutive indices over the accounts. */
const fmix32 = (x: number): number => {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

const accountOf = (i: number, w: Workload): number => fmix32(i + 1) % w.accounts;
const amountOf = (i: number): number => 1 + ((i * 7) % 99);

/** Input record `i` (deterministic). */
export function inputRecord(i: number, w: Workload): InputRecord {
  const account = accountOf(i, w);
  const amount = amountOf(i);
  return { account, amount, partition: account % w.partitions, key: String(account), value: `{"account":${account},"amount":${amount}}` };
}

/**
 * What the pipeline writes for an account's new total: the Kafka sink's default value,
 * `JSON.stringify({ account, total })`, spelled out (the same text for integers, and faster).
 */
export const outputValue = (account: number, total: number): string => `{"account":${account},"total":${total}}`;

export interface CheckResult {
  /** The read-back records are exactly the output of a prefix of each input partition. */
  readonly ok: boolean;
  readonly observed: RecordDigest;
  /** The output of those prefixes (each partition's prefix ends at the last input record whose output was seen). */
  readonly expected: RecordDigest;
  /** Expected records not read back. */
  readonly missing: number;
  /** Records read back more than once (each extra copy counts). */
  readonly duplicates: number;
  /** Records that are no output of any input record (e.g. malformed, or a wrong total). */
  readonly unknown: number;
  /** Input records covered by the prefix, per input partition. */
  readonly perPartition: readonly number[];
}

/** The expected output of the first `n` input records, indexed for lookups and prefix checks. */
export class ExpectedOutput {
  private readonly partitionOf: Uint16Array;
  private readonly position: Int32Array;
  /** Per account (CSR over `accountStart`): its running totals in order, and the input index of each. */
  private readonly accountStart: Int32Array;
  private readonly totals: Float64Array;
  private readonly indices: Int32Array;
  /** Per partition: prefix sums of the expected records' hashes (length = records in it + 1). */
  private readonly prefixA: Uint32Array[];
  private readonly prefixB: Uint32Array[];

  constructor(
    readonly n: number,
    readonly workload: Workload,
  ) {
    const { accounts, partitions } = workload;
    this.partitionOf = new Uint16Array(n);
    this.position = new Int32Array(n);
    const perPartition = new Int32Array(partitions);
    const perAccount = new Int32Array(accounts + 1);
    const accountsOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const account = accountOf(i, workload);
      const partition = account % partitions;
      this.partitionOf[i] = partition;
      this.position[i] = perPartition[partition]!++;
      perAccount[account + 1]!++;
      accountsOf[i] = account;
    }
    for (let a = 0; a < accounts; a++) perAccount[a + 1]! += perAccount[a]!;
    this.accountStart = perAccount;
    this.totals = new Float64Array(n);
    this.indices = new Int32Array(n);
    this.prefixA = Array.from({ length: partitions }, (_, p) => new Uint32Array(perPartition[p]! + 1));
    this.prefixB = Array.from({ length: partitions }, (_, p) => new Uint32Array(perPartition[p]! + 1));
    const filled = new Int32Array(accounts);
    const running = new Float64Array(accounts);
    for (let i = 0; i < n; i++) {
      const account = accountsOf[i]!;
      const total = (running[account]! += amountOf(i));
      const slot = this.accountStart[account]! + filled[account]!++;
      this.totals[slot] = total;
      this.indices[slot] = i;
      const [a, b] = hashesOf(String(account), outputValue(account, total));
      const p = this.partitionOf[i]!;
      const at = this.position[i]!;
      this.prefixA[p]![at + 1] = (this.prefixA[p]![at]! + a) >>> 0;
      this.prefixB[p]![at + 1] = (this.prefixB[p]![at]! + b) >>> 0;
    }
  }

  /** The input index whose output is exactly (key, value) (same text), or undefined if it is no expected output. */
  indexOf(key: string, value: string): number | undefined {
    let parsed: { account?: unknown; total?: unknown };
    try {
      parsed = JSON.parse(value) as typeof parsed;
    } catch {
      return undefined;
    }
    const { account, total } = parsed ?? {};
    if (typeof account !== "number" || typeof total !== "number" || !Number.isInteger(account) || account < 0 || account >= this.workload.accounts) return undefined;
    if (key !== String(account) || value !== outputValue(account, total)) return undefined;
    let lo = this.accountStart[account]!;
    let hi = this.accountStart[account + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = this.totals[mid]!;
      if (t === total) return this.indices[mid]!;
      if (t < total) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * Checks read-back records against the output of input prefixes: for each input partition, the
   * prefix ends at the last input record whose output was read back, and the records must be
   * exactly the outputs of those prefixes (count and digest equal, none unknown). Compare
   * `expected.count` with what the pipeline reported to catch a lost tail.
   */
  check(records: Iterable<{ readonly key: string; readonly value: string }>): CheckResult {
    const { partitions } = this.workload;
    const last = new Int32Array(partitions).fill(-1);
    const seen = new Uint8Array(this.n);
    const observed = new RecordDigest();
    let unknown = 0;
    let duplicates = 0;
    for (const r of records) {
      observed.add(r.key, r.value);
      const i = this.indexOf(r.key, r.value);
      if (i === undefined) {
        unknown++;
        continue;
      }
      if (seen[i] === 1) duplicates++;
      seen[i] = 1;
      const p = this.partitionOf[i]!;
      last[p] = Math.max(last[p]!, this.position[i]!);
    }
    const expected = new RecordDigest();
    const perPartition: number[] = [];
    for (let p = 0; p < partitions; p++) {
      const len = last[p]! + 1;
      perPartition.push(len);
      const part = new RecordDigest();
      part.count = len;
      part.a = this.prefixA[p]![len]!;
      part.b = this.prefixB[p]![len]!;
      expected.addAll(part);
    }
    const distinct = observed.count - unknown - duplicates;
    const missing = expected.count - distinct;
    return { ok: unknown === 0 && observed.equals(expected), observed, expected, missing, duplicates, unknown, perPartition };
  }
}
