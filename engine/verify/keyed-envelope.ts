/**
 * Verify mode only: wraps a keyed operator so that each record it emits travels as an envelope
 * `{ k, v }` naming the key it was emitted under, which lets `weir verify` check per-key order.
 *
 * Records are processed one at a time (a batch of one), so the output of each input record can be
 * told apart; its key is the keyed store's current key after processing it. Output emitted on a
 * watermark, a processing-time timer or the end of input (windows, timers) has `k: null`: its key
 * is not known, and it is checked as part of the multiset only. Slower than the real operator by
 * design; never used outside `weir verify`.
 */
import type { Operator, OperatorContext, OperatorFactory, Timestamps } from "../../operators/operator.ts";

export interface Envelope {
  /** JSON of the key the record was emitted under; null when not known (timer or watermark output). */
  readonly k: string | null;
  readonly v: unknown;
}

const wrapFrom = (out: unknown[], from: number, k: string | null) => {
  for (let i = from; i < out.length; i++) out[i] = { k, v: out[i] } satisfies Envelope;
};

/** Record `i`'s share of a batch's timestamps, with an output array of its own. */
const oneOf = (ts: Timestamps | undefined, i: number): Timestamps | undefined =>
  ts === undefined ? undefined : { input: ts.input === undefined ? undefined : [ts.input[i]!], output: [] };

/** Appends one record's output timestamps (NaN for each of its `n` outputs if it gave none). */
const appendStamps = (ts: Timestamps | undefined, one: Timestamps | undefined, n: number) => {
  if (ts === undefined || one === undefined) return;
  if (one.output.length === n) for (const t of one.output) ts.output.push(t);
  else for (let j = 0; j < n; j++) ts.output.push(Number.NaN);
};

const unkeyed = async (out: unknown[], run: () => void | Promise<void>) => {
  const from = out.length;
  await run();
  wrapFrom(out, from, null);
};

export const keyedEnvelopeOperator =
  (create: OperatorFactory<unknown, unknown>): OperatorFactory<unknown, unknown> =>
  (context: OperatorContext) => {
    const inner: Operator<unknown, unknown> = create(context);
    const currentKey = () => {
      const key = context.keyedStore?.currentKey;
      return key === undefined ? null : JSON.stringify(key);
    };
    const oneByOne = async (
      records: readonly unknown[],
      out: unknown[],
      ts: Timestamps | undefined,
      process: (batch: readonly unknown[], out: unknown[], ts: Timestamps | undefined) => void | Promise<void>,
    ) => {
      for (let i = 0; i < records.length; i++) {
        const from = out.length;
        const one = oneOf(ts, i);
        await process([records[i]], out, one);
        appendStamps(ts, one, out.length - from);
        wrapFrom(out, from, currentKey());
      }
    };
    // Timestamps pass through as the inner operator handles them (an envelope has its value's).
    const op: Operator<unknown, unknown> = {
      ...(inner.timestamps === undefined ? {} : { timestamps: inner.timestamps }),
      processBatch: (records, out, ts) => oneByOne(records, out, ts, (b, o, t) => inner.processBatch(b, o, t)),
    };
    if (inner.open !== undefined) op.open = () => inner.open!();
    if (inner.close !== undefined) op.close = () => inner.close!();
    if (inner.processBatch2 !== undefined) op.processBatch2 = (records, out, ts) => oneByOne(records, out, ts, (b, o, t) => inner.processBatch2!(b, o, t));
    if (inner.endInput !== undefined) op.endInput = (out, ts) => unkeyed(out, () => inner.endInput!(out, ts));
    if (inner.processWatermark !== undefined) op.processWatermark = (w, out, ts) => unkeyed(out, () => inner.processWatermark!(w, out, ts));
    if (inner.processingTimeDue !== undefined) op.processingTimeDue = () => inner.processingTimeDue!();
    if (inner.processProcessingTime !== undefined) op.processProcessingTime = (now, out, ts) => unkeyed(out, () => inner.processProcessingTime!(now, out, ts));
    return op;
  };
