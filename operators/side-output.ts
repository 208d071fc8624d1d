/**
 * Side outputs (Flink's OutputTag): an operator may emit records of another type next to its
 * main output, wrapped as `SideRecord`s: plain tagged objects (no class), so they keep what they
 * are across a thread (an encoded exchange).
 *
 * Windows (late data) add two selector operators after the window: one keeps the main records,
 * one unwraps a tag's side records. Process functions emit with `ctx.output(tag, value)` into a
 * `SideOutputs` registry that the API fills as the job is built (`result.sideOutput(tag)`): a
 * value for a tag nobody selected is dropped, as in Flink; the engine strips side records from
 * the edges to the node's main consumers (plan.ts `mainOnly`).
 */
import type { Operator } from "./operator.ts";

export interface OutputTag<T> {
  readonly id: string;
  /** Type carrier only; never set. */
  readonly _type?: T;
}

/** A named side output, e.g. `outputTag<Bid>("late-bids")`. */
export const outputTag = <T>(id: string): OutputTag<T> => ({ id });

/** A side-output record: `weirSideOutput` is its tag's id. */
export interface SideRecord {
  readonly weirSideOutput: string;
  readonly value: unknown;
}

export const sideRecord = <T>(tag: OutputTag<T>, value: T): SideRecord => ({ weirSideOutput: tag.id, value });

export const isSideRecord = (r: unknown): r is SideRecord =>
  typeof r === "object" && r !== null && typeof (r as { weirSideOutput?: unknown }).weirSideOutput === "string";

/** Keeps the main output (drops side records), with their timestamps. */
export const mainOutputOperator = <T>(): Operator<unknown, T> => ({
  timestamps: "propagate",
  processBatch(records, out, ts) {
    const input = ts?.input;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (isSideRecord(r)) continue;
      out.push(r as T);
      if (input !== undefined) ts!.output.push(input[i]!);
    }
  },
});

/** Keeps the side records of `tag`, unwrapped, with their timestamps (the record's being processed when it was emitted). */
export const sideOutputOperator = <T>(tag: OutputTag<T>): Operator<unknown, T> => ({
  timestamps: "propagate",
  processBatch(records, out, ts) {
    const input = ts?.input;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (!isSideRecord(r) || r.weirSideOutput !== tag.id) continue;
      out.push(r.value as T);
      if (input !== undefined) ts!.output.push(input[i]!);
    }
  },
});

/**
 * The tags of a node that the job selects with `sideOutput(tag)`; filled while the job is built
 * (before any operator is created), read when an operator emits.
 */
export class SideOutputs {
  private readonly ids = new Set<string>();
  /** Emits every tag, selected or not (the test harness, which keeps all side outputs). */
  private readonly everything: boolean;

  constructor(options: { everything?: boolean } = {}) {
    this.everything = options.everything === true;
  }

  select(tag: OutputTag<unknown>): void {
    this.ids.add(tag.id);
  }

  get any(): boolean {
    return this.ids.size > 0;
  }

  /**
   * Emits `value` on `tag` into `out` (and `timestamp` into `stamps`, when given), or drops it
   * when no stream selects the tag.
   */
  emit<T>(out: unknown[], tag: OutputTag<T>, value: T, stamps?: number[], timestamp?: number): void {
    if (!this.everything && !this.ids.has(tag.id)) return;
    out.push(sideRecord(tag, value));
    if (stamps !== undefined) stamps.push(timestamp!);
  }
}

/** Drops the side records of a batch (the main output); the same array when it holds none. */
export const mainRecords = (records: readonly unknown[]): readonly unknown[] => {
  let i = 0;
  while (i < records.length && !isSideRecord(records[i])) i++;
  if (i === records.length) return records;
  const out = records.slice(0, i);
  for (i++; i < records.length; i++) if (!isSideRecord(records[i])) out.push(records[i]);
  return out;
};
