/**
 * Side outputs (Flink's OutputTag): an operator may emit records of another type next to its
 * main output, wrapped as `SideRecord`s. The API adds two selector operators after such an
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

export class SideRecord {
  readonly tag: string;
  readonly value: unknown;
  constructor(tag: string, value: unknown) {
    this.tag = tag;
    this.value = value;
  }
}

export const sideRecord = <T>(tag: OutputTag<T>, value: T): SideRecord => new SideRecord(tag.id, value);

/** Keeps the main output (drops side records). */
export const mainOutputOperator = <T>(): Operator<unknown, T> => ({
  processBatch(records, out) {
    for (const r of records) if (!(r instanceof SideRecord)) out.push(r as T);
  },
});

/** Keeps the side records of `tag`, unwrapped. */
export const sideOutputOperator = <T>(tag: OutputTag<T>): Operator<unknown, T> => ({
  processBatch(records, out) {
    for (const r of records) if (r instanceof SideRecord && r.tag === tag.id) out.push(r.value as T);
  },
});
