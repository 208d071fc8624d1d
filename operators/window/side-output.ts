/**
 * Side outputs (Flink's OutputTag): an operator may emit records of another type next to its
 * main output, wrapped as `SideRecord`s: plain tagged objects (no class), so they keep what they
 * are across a thread (an encoded exchange). The API adds two selector operators after such an
 * operator: one keeps the main records, one unwraps a tag's side records.
 */
import type { Operator } from "../operator.ts";

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

/** Keeps the main output (drops side records). */
export const mainOutputOperator = <T>(): Operator<unknown, T> => ({
  processBatch(records, out) {
    for (const r of records) if (!isSideRecord(r)) out.push(r as T);
  },
});

/** Keeps the side records of `tag`, unwrapped. */
export const sideOutputOperator = <T>(tag: OutputTag<T>): Operator<unknown, T> => ({
  processBatch(records, out) {
    for (const r of records) if (isSideRecord(r) && r.weirSideOutput === tag.id) out.push(r.value as T);
  },
});
